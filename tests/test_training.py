"""The one training loop: run directory, hooks, exact resume, checkpoints, non-finite losses."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
import torch

import ganzoo
from ganzoo import CheckpointError, LossSpec, NonFiniteLossError, hookimpl
from ganzoo.losses import NonSaturatingBCE, BCEConfig
import ganzoo.checkpoints as ckpt

from conftest import TINY_ENTRY, TinyGAN, make_tiny_plugin

# a DCGAN small enough for a few CPU steps, with batch norm and a moving average
SMALL_DCGAN = [
    "model_options.g_channels=8", "model_options.d_channels=8", "model_options.latent_dim=8",
    "dataset_options.limit=256", "train.batch_size=16", "train.ema=0.9", "train.log_every=2",
    "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4",
    # fp32, and a constant rate: a decay over the run's last steps moves when a resume extends the run
    "train.precision=fp32", "train.lr_decay_steps=0",
]


def weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_tiny_run_writes_the_run_directory(tiny_registry, tmp_path):
    run = ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "run", device="cpu")
    assert run.status == "finished" and run.step == 6
    files = {p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*") if p.is_file()}
    assert {"config.yaml", "checkpoints/last.pt", "history.jsonl", "loss_curve.png", "samples.png",
            "samples/step_000003.png", "samples/step_000006.png"} <= files
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == [2, 4, 6]
    assert all(torch.isfinite(torch.tensor([r["d_loss"], r["g_loss"]])).all() for r in history)
    payload = ckpt.read(tmp_path / "run" / "checkpoints" / "last.pt")
    assert payload["step"] == 6 and payload["entry"]["name"] == "tiny"


def test_hooks_are_called_in_order(tiny_registry, tmp_path):
    calls = []

    class Recorder:
        @hookimpl
        def ganzoo_train_start(self, run):
            calls.append(("start", run.step))

        @hookimpl
        def ganzoo_step_end(self, run, step, metrics):
            assert set(metrics) >= {"d_loss", "g_loss"} and all(m.dim() == 0 for m in metrics.values())
            calls.append(("step", step))

        @hookimpl
        def ganzoo_epoch_end(self, run, epoch):
            calls.append(("epoch", epoch))

        @hookimpl
        def ganzoo_checkpoint_saved(self, run, path):
            assert path.is_file()
            calls.append(("checkpoint", run.step))

        @hookimpl
        def ganzoo_train_end(self, run, status):
            calls.append(("end", status))

    tiny_registry.pm.register(Recorder())
    # blobs has 64 images: 8 batches of 8 per epoch, so epoch 1 ends at step 8
    ganzoo.train("tiny", overrides=["train.steps=9"], registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    assert calls[0] == ("start", 0)
    assert [c for c in calls if c[0] == "step"] == [("step", i) for i in range(1, 10)]
    assert calls.index(("epoch", 1)) == calls.index(("step", 8)) + 1
    assert ("checkpoint", 3) in calls and ("checkpoint", 6) in calls and ("checkpoint", 9) in calls
    assert calls[-1] == ("end", "finished")


def test_epochs_set_the_number_of_steps(tiny_registry, tmp_path):
    run = ganzoo.train("tiny", overrides=["train.steps=0", "train.epochs=2"], registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    assert run.step == 16 and run.epoch == 2


def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path):
    registry = ganzoo.load_registry()
    full = ganzoo.train("dcgan-mnist-5k", overrides=[*SMALL_DCGAN, "train.steps=8"], registry=registry, run_dir=tmp_path / "full", device="cpu")

    half = ganzoo.train("dcgan-mnist-5k", overrides=[*SMALL_DCGAN, "train.steps=4"], registry=registry, run_dir=tmp_path / "half", device="cpu")
    assert half.step == 4
    torch.manual_seed(12345)  # the resumed run must not depend on the global RNG it finds
    resumed = ganzoo.train("dcgan-mnist-5k", overrides=["train.steps=8"], resume=tmp_path / "half", registry=registry, device="cpu")
    assert resumed.step == 8 and resumed.run_dir == tmp_path / "half"

    for a, b in ((full.model, resumed.model), (full.ema, resumed.ema)):
        wa, wb = weights(a), weights(b)
        assert wa.keys() == wb.keys()
        for key in wa:
            assert torch.equal(wa[key], wb[key]), key
    for key in ("d", "g"):
        sa, sb = full.optimizers[key].state_dict()["state"], resumed.optimizers[key].state_dict()["state"]
        assert all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)
    steps = [json.loads(line)["step"] for line in (tmp_path / "half" / "history.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6, 8]  # the history continues, counters do not restart


class LearningRates:
    """Records each step's learning rates; stops the run (as Ctrl-C does) after ``stop_at`` steps."""

    def __init__(self, stop_at: int = 0) -> None:
        self.stop_at, self.seen = stop_at, []

    @hookimpl
    def ganzoo_step_end(self, run, step, metrics):
        self.seen.append((step, run.optimizers["d"].param_groups[0]["lr"], run.optimizers["g"].param_groups[0]["lr"]))
        if step == self.stop_at:
            run.status = "interrupted"


def test_learning_rates_decay_linearly_over_the_last_steps_and_resume_on_schedule(tmp_path, write_zoo):
    zoo = write_zoo({"tiny": {**TINY_ENTRY, "train": {**TINY_ENTRY["train"], "lr_d": 4e-4, "lr_g": 2e-4, "lr_decay_steps": 4}}})
    full_rates, stopped_rates, resumed_rates = LearningRates(), LearningRates(stop_at=3), LearningRates()

    def registry(callback):
        return ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("rates", callback)])

    full = ganzoo.train("tiny", registry=registry(full_rates), run_dir=tmp_path / "full", device="cpu")
    factors = [1, 1, 1, 0.75, 0.5, 0.25]  # six steps, the last four falling towards 0
    assert full_rates.seen == [(i + 1, pytest.approx(4e-4 * f), pytest.approx(2e-4 * f)) for i, f in enumerate(factors)]

    stopped = ganzoo.train("tiny", registry=registry(stopped_rates), run_dir=tmp_path / "cut", device="cpu")
    assert stopped.status == "interrupted" and stopped.step == 3
    resumed = ganzoo.train("tiny", resume=tmp_path / "cut", registry=registry(resumed_rates), device="cpu")
    assert [s for s, *_ in resumed_rates.seen] == [4, 5, 6] and resumed_rates.seen == full_rates.seen[3:]
    wa, wb = weights(full.model), weights(resumed.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_refuses_another_entrys_checkpoint(tiny_registry, tmp_path):
    ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    with pytest.raises(CheckpointError, match="checkpoint of 'tiny', not of 'dcgan-mnist-5k'"):
        ganzoo.train("dcgan-mnist-5k", resume=tmp_path / "r", registry=tiny_registry, device="cpu")


def test_never_trains_over_an_existing_checkpoint(tiny_registry, tmp_path):
    ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    before = (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(CheckpointError, match="already holds a checkpoint; resume it with --resume"):
        ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    assert (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes() == before


@dataclass(frozen=True)
class ExplodeConfig:
    after: int = 4  # discriminator losses before they turn into NaN


class Exploding(NonSaturatingBCE):
    def __init__(self, config: ExplodeConfig) -> None:
        super().__init__(BCEConfig())
        self.after, self.calls = config.after, 0

    def discriminator(self, real_logits, fake_logits):
        self.calls += 1
        loss = super().discriminator(real_logits, fake_logits)
        return loss * float("nan") if self.calls > self.after else loss


class ExplodingPlugin:
    @hookimpl
    def ganzoo_register_losses(self):
        return [LossSpec("explode", Exploding, ExplodeConfig)]


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(write_zoo, tmp_path):
    zoo = write_zoo({"boom": {**TINY_ENTRY, "loss": "explode", "train": {**TINY_ENTRY["train"], "log_every": 1}}})
    registry = ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("explode", ExplodingPlugin())])
    ends = []

    class Watch:
        @hookimpl
        def ganzoo_train_end(self, run, status):
            ends.append(status)

    registry.pm.register(Watch())
    with pytest.raises(NonFiniteLossError, match="NaN or infinite before step 5.*last checkpoint .* was kept") as e:
        ganzoo.train("boom", registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert "fp32" not in str(e.value)  # the run is in fp32 already: no advice to switch to it
    assert ends == ["diverged"]  # not "failed": the run stopped itself, its last good checkpoint kept
    payload = ckpt.read(tmp_path / "r" / "checkpoints" / "last.pt")
    assert payload["step"] == 3
    assert all(torch.isfinite(v).all() for v in payload["model"].values())


def test_the_non_finite_advice_follows_the_precision_the_run_resolved(write_zoo, tmp_path, monkeypatch):
    import ganzoo.training.device as device

    zoo = write_zoo({"boom": {**TINY_ENTRY, "loss": "explode", "train": {**TINY_ENTRY["train"], "log_every": 1}}})
    registry = ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("explode", ExplodingPlugin())])
    with pytest.raises(NonFiniteLossError, match=r"\(lower the learning rates or train in precision fp32\)"):
        ganzoo.train("boom", overrides=["train.precision=bf16"], registry=registry, run_dir=tmp_path / "a", device="cpu")
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: False)  # a CPU without bf16 units
    with pytest.raises(NonFiniteLossError) as e:
        ganzoo.train("boom", overrides=["train.precision=auto"], registry=registry, run_dir=tmp_path / "b", device="cpu")
    assert "fp32" not in str(e.value)  # "auto" meant fp32 here: no advice to switch to it


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ckpt.save_atomic({"entry": {"name": "a"}, "step": 1}, path)
    good = path.read_bytes()

    def failing_save(obj, f):
        f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(CheckpointError, match="disk full.*the previous checkpoint is kept"):  # one line, not a traceback
        ckpt.save_atomic({"entry": {"name": "a"}, "step": 2}, path)
    assert path.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temporary left behind


@pytest.mark.parametrize("content", [b"", b"not a checkpoint", b"PK\x03\x04broken zip"])
def test_corrupt_checkpoint_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "last.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="is not a readable ganzoo checkpoint") as info:
        ckpt.read(path)
    assert "\n" not in str(info.value)


def test_foreign_torch_file_is_refused(tmp_path):
    path = tmp_path / "weights.pt"
    torch.save({"weight": torch.ones(2)}, path)
    with pytest.raises(CheckpointError, match="is not a ganzoo checkpoint"):
        ckpt.read(path)


def test_sample_from_checkpoint(tiny_registry, tmp_path):
    ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    a = ganzoo.sample(tmp_path / "r", n=5, seed=1, registry=tiny_registry, device="cpu")
    b = ganzoo.sample(tmp_path / "r" / "checkpoints" / "last.pt", n=5, seed=1, registry=tiny_registry, device="cpu")
    assert a.shape == (5, 1, 8, 8) and torch.equal(a, b)
    assert a.min() >= -1 and a.max() <= 1


@pytest.mark.parametrize("units", [True, False])
def test_bf16_autocast_trains_on_cpu_and_warns_where_the_cpu_lacks_bf16_units(tiny_registry, tmp_path, monkeypatch, units):
    import warnings
    import ganzoo.training.device as device
    from ganzoo.errors import GanzooWarning
    monkeypatch.setattr(device, "cpu_has_fast_bf16", lambda: units)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = ganzoo.train("tiny", overrides=["train.precision=bf16"], registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    assert run.precision == "bf16" and run.status == "finished"
    said = [str(w.message) for w in caught if issubclass(w.category, GanzooWarning)]
    assert said == ([] if units else ["this CPU has no bf16 units (AMX, AVX512-BF16): bf16 trains slower than fp32 here "
                                      "(train.precision auto or fp32)"])


@pytest.mark.parametrize("machine, amx, avx512_bf16, expected", [
    ("x86_64", False, False, "fp32"),  # AVX-512 alone: bf16 by conversion, ~4x slower than fp32
    ("x86_64", True, False, "bf16"),  # Sapphire Rapids and later: AMX tiles
    ("x86_64", False, True, "bf16"),  # Cooper Lake, Zen 4: AVX512-BF16
    ("aarch64", False, False, "bf16"),  # Arm: oneDNN's own check, which looks for the BF16 extension
])
def test_auto_precision_is_bf16_only_on_a_cpu_that_multiplies_bf16_in_hardware(tiny_registry, tmp_path, monkeypatch,
                                                                               machine, amx, avx512_bf16, expected):
    import platform
    monkeypatch.setattr(platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)  # what any AVX-512 CPU says too
    run = ganzoo.train("tiny", overrides=["train.precision=auto", "train.steps=1"], registry=tiny_registry,
                       run_dir=tmp_path / "r", device="cpu")
    assert run.precision == expected


@pytest.mark.parametrize("native, expected", [(False, "fp32"), (True, "bf16")])  # a T4 emulates bf16; an A100 has it
def test_auto_precision_on_cuda_asks_for_native_bf16(monkeypatch, native, expected):
    from ganzoo.training import resolve_precision
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation or native)
    assert resolve_precision("auto", torch.device("cuda")) == expected


def test_compile_option_trains_and_keeps_checkpoint_keys(tiny_registry, tmp_path):
    plain = ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "plain", device="cpu")
    compiled = ganzoo.train("tiny", overrides=["train.compile=true"], registry=tiny_registry, run_dir=tmp_path / "c", device="cpu")
    assert compiled.status == "finished"
    saved = ckpt.read(tmp_path / "c" / "checkpoints" / "last.pt")["model"]
    assert saved.keys() == plain.model.state_dict().keys()  # no _orig_mod. prefixes: loads anywhere
    for name, value in saved.items():
        assert torch.allclose(value, plain.model.state_dict()[name], atol=1e-5), name  # same math as eager


def test_compile_modes_reach_torch_compile_and_an_unknown_one_is_a_one_line_error(tiny_registry, tmp_path, monkeypatch):
    modes = []
    monkeypatch.setattr(torch.nn.Module, "compile", lambda self, **kw: modes.append(kw.get("mode")))  # records, compiles nothing
    for value in ("true", "reduce-overhead", "max-autotune"):
        run = ganzoo.train("tiny", overrides=[f"train.compile={value}", "train.steps=1"], registry=tiny_registry,
                           run_dir=tmp_path / value, device="cpu")
        assert run.status == "finished"
    assert modes == [None] * 2 + ["reduce-overhead"] * 2 + ["max-autotune"] * 2  # the generator and the discriminator
    with pytest.raises(ganzoo.ConfigError, match=r"train.compile must be true, false or a torch.compile mode \(default, "
                                                 r"reduce-overhead, .*\), not 'fast'") as e:
        ganzoo.train("tiny", overrides=["train.compile=fast"], registry=tiny_registry, run_dir=tmp_path / "x", device="cpu")
    assert "\n" not in str(e.value)


def test_fp16_needs_cuda(tiny_registry, tmp_path):
    with pytest.raises(ganzoo.ConfigError, match="fp16 needs a CUDA device"):
        ganzoo.train("tiny", overrides=["train.precision=fp16"], registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")


# ---------------------------------------------------------------- training phases


class PhasedGAN(TinyGAN):
    """A warm-up phase that trains the generator alone on a pixel loss, then an adversarial
    phase that trains the discriminator and only a second generator group ("g2")."""

    phases = (ganzoo.Phase("warmup", generator_groups=("g",), discriminator_groups=()),
              ganzoo.Phase("adversarial", generator_groups=("g2",), discriminator_groups=("d",)))

    def __init__(self, config, info):
        super().__init__(config, info)
        self.head = torch.nn.Conv2d(info.channels, info.channels, 1)  # the "g2" group
        self.seen: list[tuple[str, bool]] = []
        self.autocast: list[tuple[str, torch.dtype]] = []  # the precision of each generator update

    def parameter_groups(self):
        return {"d": list(self.discriminator.parameters()), "g": list(self.generator.parameters()),
                "g2": list(self.head.parameters())}

    def sample(self, n, condition=None, *, rng=None, latent=None):
        return self.head(super().sample(n, condition, rng=rng, latent=latent))

    def generator_loss(self, batch, loss):
        self.seen.append((self.phase, any(p.requires_grad for p in self.discriminator.parameters())))
        self.autocast.append((self.phase, torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else torch.float32))
        if self.phase == "warmup":
            fake = self.sample(batch["image"].shape[0])
            pixel = (fake - batch["image"]).pow(2).mean()
            return ganzoo.StepOutput(pixel, {"pixel_loss": pixel.detach()})
        return super().generator_loss(batch, loss)


@pytest.fixture
def phased_registry(write_zoo):
    from conftest import BlobsConfig, TinyConfig, load_blobs

    class Plugin:
        @hookimpl
        def ganzoo_register_models(self):
            return [ganzoo.ModelSpec("phased", PhasedGAN, TinyConfig)]

        @hookimpl
        def ganzoo_register_datasets(self):
            return [ganzoo.DatasetSpec("blobs", load_blobs, BlobsConfig)]

    entry = {**TINY_ENTRY, "model": "phased", "train": {**TINY_ENTRY["train"], "steps": 0, "phase_steps": {"warmup": 3, "adversarial": 3}}}
    return ganzoo.load_registry([write_zoo({"phased": entry})], extra_plugins=[("phased", Plugin())])


def test_phases_run_in_order_and_train_only_their_groups(phased_registry, tmp_path):
    phases_started = []

    class Recorder:
        @hookimpl
        def ganzoo_phase_start(self, run, phase):
            phases_started.append((phase, run.step))

        @hookimpl
        def ganzoo_step_end(self, run, step):
            if step == 3:  # the end of the warm-up
                run.extras["after_warmup"] = weights(run.model)

    phased_registry.pm.register(Recorder())
    run = ganzoo.train("phased", registry=phased_registry, run_dir=tmp_path / "run", device="cpu")
    assert run.step == 6 and phases_started == [("warmup", 0), ("adversarial", 3)]
    assert [p for p, _ in run.model.seen] == ["warmup"] * 3 + ["adversarial"] * 3
    assert not any(d_trainable for _, d_trainable in run.model.seen)  # D frozen in every generator update
    mid, end = run.extras["after_warmup"], weights(run.model)
    changed = lambda prefix: any(not torch.equal(mid[k], end[k]) for k in mid if k.startswith(prefix))  # noqa: E731
    assert changed("discriminator.") and changed("head.")  # the adversarial phase trains D and g2 ...
    assert not changed("generator.")  # ... and leaves g, trained in the warm-up, frozen
    records = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert [r["phase"] for r in records] == ["warmup", "adversarial", "adversarial"]
    assert "d_loss" not in records[0] and "pixel_loss" in records[0] and "d_loss" in records[2]


def test_each_phase_trains_in_its_own_precision_and_says_so(phased_registry, tmp_path, capsys):
    run = ganzoo.train("phased", overrides=['train.phase_precision={"warmup": "bf16"}'], registry=phased_registry,
                       run_dir=tmp_path / "run", device="cpu")
    assert run.model.autocast == [("warmup", torch.bfloat16)] * 3 + [("adversarial", torch.float32)] * 3
    assert run.precisions == "bf16 (warmup), fp32 (adversarial)"
    assert "precision bf16 (warmup), fp32 (adversarial), steps" in " ".join(capsys.readouterr().err.split())  # none chosen by auto
    assert json.loads((tmp_path / "run" / "run.json").read_text())["precision"] == "bf16 (warmup), fp32 (adversarial)"
    resumed = ganzoo.train("phased", overrides=['train.phase_steps={"warmup": 3, "adversarial": 5}'], resume=tmp_path / "run",
                           registry=phased_registry, device="cpu")  # the resumed run takes up the phase's precision again
    assert resumed.model.autocast == [("adversarial", torch.float32)] * 2
    alike = ganzoo.train("phased", overrides=["train.precision=bf16"], registry=phased_registry, run_dir=tmp_path / "b", device="cpu")
    assert alike.precisions == "bf16" and {dtype for _, dtype in alike.model.autocast} == {torch.bfloat16}
    from ganzoo.training import resolve_precision

    chosen = resolve_precision("auto", torch.device("cpu"))  # what auto chooses on this CPU: the adversarial phase's
    ganzoo.train("phased", overrides=["train.precision=auto", 'train.phase_precision={"warmup": "bf16"}'], registry=phased_registry,
                 run_dir=tmp_path / "auto", device="cpu")
    said = " ".join(capsys.readouterr().err.split())  # the line as printed, unwrapped
    shown = "bf16" if chosen == "bf16" else f"bf16 (warmup), {chosen} (adversarial)"
    assert f"precision {shown} (auto: adversarial), steps" in said


@pytest.mark.parametrize("stop", [2, 3, 4])  # inside the warm-up, at the boundary, inside the second phase
def test_resume_across_phases_is_bit_identical(phased_registry, tmp_path, stop):
    full = ganzoo.train("phased", registry=phased_registry, run_dir=tmp_path / "full", device="cpu")
    first = {"warmup": min(stop, 3), "adversarial": max(0, stop - 3)}
    ganzoo.train("phased", overrides=[f"train.phase_steps={json.dumps(first)}"], registry=phased_registry,
                 run_dir=tmp_path / "part", device="cpu")
    resumed = ganzoo.train("phased", overrides=['train.phase_steps={"warmup": 3, "adversarial": 3}'], resume=tmp_path / "part",
                           registry=phased_registry, device="cpu")
    assert resumed.step == 6 and resumed.model.phase == "adversarial"
    wa, wb = weights(full.model), weights(resumed.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize("override, message", [
    ('train.phase_steps={}', "trains in phases warmup, adversarial: set train.phase_steps"),
    ('train.phase_steps={"warmup": 3}', "must give the steps of each phase of the model (warmup, adversarial), got warmup"),
    ('train.phase_steps={"warmup": 3, "adversarial": 1, "extra": 1}', "got warmup, adversarial, extra"),
    ('train.phase_precision={"warmpu": "bf16"}', "train.phase_precision names phases the model does not have: ['warmpu'] "
                                                 "(it has: warmup, adversarial)"),
    ('train.phase_precision={"warmup": "fp8"}', "train.phase_precision.warmup must be fp32, bf16, fp16 or auto, not 'fp8'"),
])
def test_phase_steps_are_validated(phased_registry, tmp_path, override, message):
    with pytest.raises(ganzoo.ConfigError, match=re.escape(message)):
        ganzoo.train("phased", overrides=[override, "train.steps=6"] if override.endswith("{}") else [override],
                     registry=phased_registry, run_dir=tmp_path / "run", device="cpu")
    assert not (tmp_path / "run").exists()  # refused before anything was written
