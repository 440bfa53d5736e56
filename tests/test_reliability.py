"""Faults and hostile input: planted pickles never run, interrupted or damaged runs lose no
work, and every bad input is one line. The cases are listed in docs/reliability.md."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.errors import DataError, GanzooError


# ---------------------------------------------------------------- no code from a weights file


class Payload:
    """Unpickling this creates the directory ``marker``: proof that a file's code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def plant(path: Path, marker: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"weight": torch.zeros(2), "payload": Payload(marker)}, path)
    return path


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """An empty torch hub cache (``$TORCH_HOME/hub/checkpoints``) for this test."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    return tmp_path / "torch-home" / "hub" / "checkpoints"


def _inception(path):
    from ganzoo.evaluation.features import InceptionV3

    InceptionV3(path)


def _domain(path):
    from ganzoo.evaluation.features import load_domain_features

    load_domain_features(path)


def _timm(path):
    from ganzoo_srgan.features import timm_features

    timm_features("resnet18", 1, str(path))


def _vgg_file(path):
    from ganzoo_srgan.features import vgg19_features

    vgg19_features(22, str(path))


def _embeddings(path):
    from ganzoo_stackgan.data import _with_embeddings

    _with_embeddings(torch.zeros(2, 3, 8, 8, dtype=torch.uint8), path, 2)


def _checkpoint(path):
    ganzoo.load_checkpoint(path, device="cpu")


@pytest.mark.parametrize("load", [_inception, _domain, _timm, _vgg_file, _embeddings, _checkpoint],
                         ids=["inception --weights", "domain features", "timm weights", "vgg_weights", "stackgan embeddings",
                              "checkpoint"])
def test_a_planted_pickle_in_a_weights_file_never_runs(tmp_path, load):
    marker = tmp_path / "pwned"
    evil = plant(tmp_path / "evil.pth", marker)
    with pytest.raises(GanzooError) as e:
        load(evil)
    assert not marker.exists()
    assert "\n" not in str(e.value) and str(evil) in str(e.value)


def test_a_planted_file_in_the_torch_hub_cache_never_runs(tmp_path, hub_cache):
    """SRGAN's VGG19 content loss and LPIPS's AlexNet come from the hub cache: torch.hub
    (and torchvision) would unpickle them freely."""
    from torchvision.models import AlexNet_Weights, VGG19_Weights

    from ganzoo.evaluation.paired import lpips_metric
    from ganzoo_srgan.features import vgg19_features

    marker = tmp_path / "pwned"
    plant(hub_cache / VGG19_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1], marker)
    plant(hub_cache / AlexNet_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1], marker)
    with pytest.raises(DataError, match="besides tensors"):
        vgg19_features(22)
    metric, why_not = lpips_metric(torch.device("cpu"))
    assert metric is None and "checksum" in why_not
    assert not marker.exists()


def test_a_plain_state_dict_in_the_hub_cache_loads(hub_cache):
    from torchvision.models import VGG19_Weights
    from torchvision.models.vgg import cfgs, make_layers

    from ganzoo_srgan.features import vgg19_features

    state = {f"features.{k}": torch.randn_like(v) for k, v in make_layers(cfgs["E"])[:9].state_dict().items()}
    hub_cache.mkdir(parents=True)
    torch.save(state, hub_cache / VGG19_Weights.IMAGENET1K_V1.url.rsplit("/", 1)[-1])
    net = vgg19_features(22)
    assert torch.equal(net[0].weight, state["features.0.weight"])


def test_safetensors_weights_load_and_the_trusted_handover_keeps_the_tensors(tmp_path):
    from safetensors.torch import save_file

    from ganzoo.weights import as_trusted_file, load_state_dict

    state = {"a": torch.randn(3, 2), "b": torch.arange(4)}
    save_file(state, tmp_path / "w.safetensors")
    loaded = load_state_dict(tmp_path / "w.safetensors")
    assert all(torch.equal(loaded[k], v) for k, v in state.items())
    handed = torch.load(as_trusted_file(loaded), weights_only=False)  # what torch-fidelity does with it
    assert all(torch.equal(handed[k], v) for k, v in state.items())


# ---------------------------------------------------------------- plugins cannot take the host down


CLASHING = '''
from ganzoo.plugin import CommandSpec, ModelSpec, hookimpl
from ganzoo_dcgan import DCGAN, DCGANConfig

@hookimpl
def ganzoo_register_models():
    return [ModelSpec("dcgan", DCGAN, DCGANConfig)]

@hookimpl
def ganzoo_commands():
    return [CommandSpec("list", "a second list", lambda p: None, lambda a: 0)]
'''


def test_hostile_plugins_are_skipped_and_named_and_help_imports_none(tmp_path):
    from conftest import ganzoo_process, site_with_plugins

    marker = tmp_path / "imported"
    env = site_with_plugins(tmp_path / "site", "ganzoo-hostile", {
        "exits": "import sys\nsys.exit(3)\n",
        "clashing": CLASHING,
        "slow": f"open({str(marker)!r}, 'w').close()\nimport time\ntime.sleep(2)\n",
    })

    def ganzoo_cli(*args):
        return ganzoo_process(*args, cwd=tmp_path, env=env, timeout=300)

    for args in (["--version"], ["--help"], ["run", "--help"]):
        done = ganzoo_cli(*args)
        assert done.returncode == 0 and not marker.exists(), (args, done.stderr)
    plugins = ganzoo_cli("plugins")
    assert plugins.returncode == 0, plugins.stderr
    rows = {line.split()[0]: line for line in plugins.stdout.splitlines() if line.strip()}
    assert "sys.exit(3)" in rows["exits"]
    assert "is registered by" in rows["clashing"] and "registered by" not in rows["dcgan"]
    assert "plugin 'clashing' skipped: model 'dcgan' is registered by plugin 'dcgan' already" in plugins.stderr
    assert marker.exists()
    listing = ganzoo_cli("list", "dcgan-*")
    assert listing.returncode == 0 and "dcgan-mnist-5k" in listing.stdout and "a second list" not in listing.stdout


# ---------------------------------------------------------------- preemption and resume

import json  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import ganzoo.checkpoints as ckpt  # noqa: E402
from conftest import TINY_ENTRY, make_tiny_plugin  # noqa: E402
from ganzoo import LossSpec, hookimpl  # noqa: E402
from ganzoo.errors import CheckpointError, ConfigError, DivergedError, GanzooWarning  # noqa: E402
from ganzoo.losses import BCEConfig, NonSaturatingBCE  # noqa: E402


class SignalAt:
    """Sends this process ``signum`` at the end of step ``step``, as a scheduler would."""

    def __init__(self, step: int, signum: int) -> None:
        self.step, self.signum = step, signum

    @hookimpl
    def ganzoo_step_end(self, run, step):
        if step == self.step:
            os.kill(os.getpid(), self.signum)


def _registry(write_zoo, *extra, train=None):
    zoo = write_zoo({"tiny": {**TINY_ENTRY, "train": {**TINY_ENTRY["train"], **(train or {})}}})
    return ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), *extra])


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1])
def test_a_preemption_signal_checkpoints_and_resume_equals_an_uninterrupted_run(write_zoo, tmp_path, signum):
    full = ganzoo.train("tiny", registry=_registry(write_zoo), run_dir=tmp_path / "full", device="cpu")
    cut = ganzoo.train("tiny", registry=_registry(write_zoo, ("sig", SignalAt(2, signum))), run_dir=tmp_path / "cut", device="cpu")
    assert cut.status == "interrupted" and cut.step == 2 and cut.stop_requested == signum
    assert json.loads((tmp_path / "cut" / "run.json").read_text())["status"] == "interrupted"
    assert ckpt.read(tmp_path / "cut" / "checkpoints" / "last.pt")["step"] == 2
    assert signal.getsignal(signum) is not None and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # handlers put back
    resumed = ganzoo.train("tiny", resume="auto", runs_dir=tmp_path / "nowhere", run_dir=tmp_path / "cut",
                           registry=_registry(write_zoo), device="cpu")
    assert resumed.status == "finished" and resumed.run_dir == tmp_path / "cut"
    wa, wb = _weights(full.model), _weights(resumed.model)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_stop_signals_are_configurable(write_zoo, tmp_path):
    registry = _registry(write_zoo, ("sig", SignalAt(2, signal.SIGUSR2)), train={"stop_signals": ["SIGUSR2"]})
    run = ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert run.status == "interrupted" and run.step == 2


def test_resume_auto_picks_the_newest_unfinished_run_or_starts_one(write_zoo, tmp_path):
    runs = tmp_path / "runs"
    done = ganzoo.train("tiny", registry=_registry(write_zoo), runs_dir=runs, device="cpu")
    fresh = ganzoo.train("tiny", resume="auto", registry=_registry(write_zoo), runs_dir=runs, device="cpu")
    assert fresh.run_dir != done.run_dir and fresh.step == 6  # the only run had finished: a new one
    cut = ganzoo.train("tiny", registry=_registry(write_zoo, ("sig", SignalAt(3, signal.SIGTERM))), runs_dir=runs, device="cpu")
    picked = ganzoo.train("tiny", resume="auto", registry=_registry(write_zoo), runs_dir=runs, device="cpu")
    assert picked.run_dir == cut.run_dir and picked.status == "finished"
    assert len(list((runs / "tiny").iterdir())) == 3


def test_sigterm_on_the_command_line_exits_143_and_resume_auto_finishes(tmp_path):
    """The scheduler's view: SIGTERM to `ganzoo run`, then the same command again (requeue)."""
    command = [sys.executable, "-m", "ganzoo", "run", "dcgan-mnist-5k", "--run-dir", "r", "--resume", "auto", "--device", "cpu",
               "--set", "model_options.g_channels=4", "--set", "model_options.d_channels=4", "--set", "dataset_options.limit=64",
               "--set", "train.batch_size=8", "--set", "train.checkpoint_every=5", "--set", "train.sample_every=0",
               "--set", "train.grid_size=4"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    job = subprocess.Popen([*command, "--set", "train.steps=100000"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    last = tmp_path / "r" / "checkpoints" / "last.pt"
    deadline = time.time() + 240
    while not last.exists() and time.time() < deadline and job.poll() is None:
        time.sleep(0.2)
    job.send_signal(signal.SIGTERM)
    _, stderr = job.communicate(timeout=120)
    assert job.returncode == 128 + signal.SIGTERM, stderr
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "interrupted"
    stopped = ckpt.read(last)["step"]
    again = subprocess.run([*command, "--set", f"train.steps={stopped + 3}"], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert ckpt.read(last)["step"] == stopped + 3
    assert f"steps {stopped}->{stopped + 3}" in again.stderr


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds torchrun's workers through /proc")
def test_torchrun_restarts_a_killed_worker_and_the_run_resumes(tmp_path):
    """torchrun --max-restarts 3 with 2 gloo processes; one worker is killed (kill -9) after
    the first checkpoint; the restarted workers continue the run with --resume auto."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "--max-restarts", "3",
               "-m", "ganzoo", "run", "dcgan-mnist-5k", "--run-dir", "r", "--resume", "auto", "--device", "cpu",
               "--set", "model_options.g_channels=4", "--set", "model_options.d_channels=4", "--set", "dataset_options.limit=64",
               "--set", "train.batch_size=8", "--set", "train.steps=40", "--set", "train.checkpoint_every=5",
               "--set", "train.log_every=5", "--set", "train.sample_every=0", "--set", "train.grid_size=4",
               "--set", "train.precision=fp32"]
    job = subprocess.Popen(command, cwd=tmp_path, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    last = tmp_path / "r" / "checkpoints" / "last.pt"
    deadline = time.time() + 240
    while not last.exists() and time.time() < deadline and job.poll() is None:
        time.sleep(0.1)
    try:
        workers = _children(job.pid)
        assert len(workers) == 2 and last.exists()
        os.kill(workers[1], signal.SIGKILL)
        _, stderr = job.communicate(timeout=300)
    finally:
        if job.poll() is None:  # a hung restart must not outlive the test
            for pid in _children(job.pid) + [job.pid]:
                os.kill(pid, signal.SIGKILL)
    assert job.returncode == 0, stderr[-3000:]
    assert re.search(r"steps [1-9][0-9]*->40", stderr), stderr[-3000:]  # the second attempt resumed, it did not start over
    payload = ckpt.read(last)
    assert payload["step"] == 40 and json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"
    steps = [r["step"] for r in map(json.loads, (tmp_path / "r" / "history.jsonl").read_text().splitlines())]
    assert steps == list(range(5, 41, 5))  # continued from the checkpoint: no step logged twice, none missing
    assert len(list(tmp_path.iterdir())) == 1  # one run directory, shared by both attempts


# ---------------------------------------------------------------- run directory files


def test_a_torn_history_line_is_skipped_by_resume_report_and_compare(write_zoo, tmp_path):
    from ganzoo.report import compare_runs, write_report

    registry = _registry(write_zoo, ("sig", SignalAt(4, signal.SIGTERM)))
    ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    history = tmp_path / "r" / "history.jsonl"
    with history.open("a") as f:
        f.write('{"step": 6, "g_lo')  # a full disk cut the last line short
    for leftover in (tmp_path / "r" / ".run.json.x1.tmp", tmp_path / "r" / "checkpoints" / ".last.pt.x2.tmp"):
        leftover.write_bytes(b"half")  # what kill -9 during a write leaves
    with pytest.warns(GanzooWarning, match="skipped 1 unreadable line"):
        write_report(tmp_path / "r")
        compare_runs([tmp_path / "r"])
    with pytest.warns(GanzooWarning, match="unreadable line"):
        ganzoo.train("tiny", resume=tmp_path / "r", registry=_registry(write_zoo), device="cpu")
    assert [json.loads(line)["step"] for line in history.read_text().splitlines()] == [2, 4, 6]
    assert not list((tmp_path / "r").rglob("*.tmp"))


def test_a_full_disk_ends_the_run_in_one_line_and_keeps_the_last_checkpoint(write_zoo, tmp_path, monkeypatch):
    import errno

    import ganzoo.callbacks.history as history

    real_append = history.append_jsonl

    def full_disk(path, record):
        if record["step"] >= 4:
            with path.open("a") as f:
                f.write('{"step": 4, "d_l')
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_append(path, record)

    monkeypatch.setattr(history, "append_jsonl", full_disk)
    with pytest.raises(OSError, match="No space left"):
        ganzoo.train("tiny", registry=_registry(write_zoo), run_dir=tmp_path / "r", device="cpu")
    assert ckpt.read(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 3
    monkeypatch.setattr(history, "append_jsonl", real_append)  # space freed
    with pytest.warns(GanzooWarning):
        run = ganzoo.train("tiny", resume=tmp_path / "r", registry=_registry(write_zoo), device="cpu")
    assert run.status == "finished" and run.step == 6

    monkeypatch.setattr(torch, "save", lambda *a, **k: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    good = (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes()
    with pytest.raises(CheckpointError, match="No space left on device.*previous checkpoint is kept"):
        ganzoo.train("tiny", resume=tmp_path / "r", overrides=["train.steps=9"], registry=_registry(write_zoo), device="cpu")
    assert (tmp_path / "r" / "checkpoints" / "last.pt").read_bytes() == good


@pytest.mark.parametrize("args, message", [
    (["run", "dcgan-mnist-5k", "--runs-dir", "{blocked}", "--set", "train.steps=1"], "cannot use"),
    (["features", "dcgan-mnist-5k", "--epochs", "0", "--force"], "--epochs must be at least 1"),
    (["evaluate", "dcgan-mnist-5k", "--batches", "-1"], "--batches must be 0 (all) or a positive"),
    (["sample", "dcgan-mnist-5k", "--out", "grid.gif"], "write a .png"),
    (["sample", "dcgan-mnist-5k", "--out", "/dev/null"], "is a file, not a folder"),
    (["new-plugin", "x" * 300], "at most 40 characters"),
    (["run", "dcgan-mnist-5k", "--set", "train.betas=[2, 3]"], "train.betas must be at least 0 and below 1"),
])
def test_the_command_line_says_bad_input_in_one_line(tmp_path, monkeypatch, capsys, args, message):
    from ganzoo.cli import main

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the runs folder should be")
    monkeypatch.chdir(tmp_path)
    code = main([a.replace("{blocked}", str(blocked)) for a in args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and err[0].startswith("error:") and message in err[0], err


def test_ctrl_c_while_plugins_import_is_one_word_and_130(monkeypatch, capsys):
    import ganzoo.plugins
    from ganzoo.cli import main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ganzoo.plugins, "load_registry", interrupted)
    assert main(["list"]) == 130 and capsys.readouterr().err.strip() == "interrupted"


def test_captions_from_a_folder_and_an_empty_text_are_refused(tiny_registry, tmp_path):
    from ganzoo.cli import _read_captions

    with pytest.raises(GanzooError, match="is a folder"):
        _read_captions(tmp_path)
    ganzoo.train("tiny", registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    with pytest.raises(ConfigError, match="must be some words"):
        ganzoo.sample(tmp_path / "r", n=2, text="", registry=tiny_registry, device="cpu")


def test_damaged_metrics_and_run_json_are_rewritten_not_fatal(tiny_registry, tmp_path):
    from ganzoo.evaluation.records import update_metrics

    cut = ganzoo.train("tiny", overrides=["train.steps=3"], registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    (cut.run_dir / "metrics.json").write_text('{"heldout": {"sc')
    (cut.run_dir / "run.json").write_text("")
    with pytest.warns(GanzooWarning, match="unreadable"):
        update_metrics(cut.run_dir, "samples-domain", {"scores": {"fid": 1.0}})
    assert json.loads((cut.run_dir / "metrics.json").read_text()) == {"samples-domain": {"scores": {"fid": 1.0}}}
    with pytest.warns(GanzooWarning, match="run.json is unreadable"):
        run = ganzoo.train("tiny", resume=cut.run_dir, overrides=["train.steps=6"], registry=tiny_registry, device="cpu")
    assert run.status == "finished" and json.loads((cut.run_dir / "run.json").read_text())["status"] == "finished"


def test_checkpoints_keep_the_last_k_and_a_damaged_last_falls_back(write_zoo, tmp_path):
    registry = _registry(write_zoo, train={"checkpoint_every": 2, "keep_checkpoints": 3})
    ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    folder = tmp_path / "r" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt", "step_0000002.pt", "step_0000004.pt"]
    data = bytearray((folder / "last.pt").read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0xFF  # one flipped byte: the zip's CRC no longer matches
    (folder / "last.pt").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="fails its CRC check") as e:
        ckpt.read(folder / "last.pt")
    assert "\n" not in str(e.value)
    with pytest.warns(GanzooWarning, match="using step_0000004.pt"):
        loaded = ganzoo.load_checkpoint(tmp_path / "r", device="cpu", registry=registry)
    assert loaded.step == 4


@pytest.mark.parametrize("missing", ["step", "entry", "data_info", "model"])
def test_a_checkpoint_missing_a_part_is_refused_in_one_line(tmp_path, missing):
    payload = {"entry": {"name": "tiny"}, "step": 1, "data_info": {}, "model": {}}
    del payload[missing]
    ckpt.save_atomic(payload, tmp_path / "last.pt")
    with pytest.raises(CheckpointError, match=f"'{missing}' is missing"):
        ckpt.read(tmp_path / "last.pt")


def test_run_directories_are_unique_and_inside_the_runs_folder(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    from ganzoo.rundir import create_run_dir

    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(lambda _: create_run_dir("tiny", tmp_path), range(16)))
    assert len(set(made)) == 16 and all(p.is_dir() and p.parent == tmp_path / "tiny" for p in made)
    with pytest.raises(ConfigError, match="outside"):
        create_run_dir("..", tmp_path)


@pytest.mark.parametrize("name", ["../evil", "/abs", "a/b", "..", "x" * 101, ".hidden"])
def test_entry_names_cannot_leave_the_runs_folder(write_zoo, name):
    zoo = write_zoo({name: TINY_ENTRY})
    with pytest.raises(ConfigError, match="is not allowed"):
        ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin())])


def test_run_dir_into_a_non_empty_folder_is_refused(tiny_registry, tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "config.yaml").write_text("my own file")
    with pytest.raises(ConfigError, match="is not empty"):
        ganzoo.train("tiny", registry=tiny_registry, run_dir=folder, device="cpu")
    assert (folder / "config.yaml").read_text() == "my own file"


# ---------------------------------------------------------------- divergence


class Huge(NonSaturatingBCE):
    """BCE whose discriminator loss jumps to 1e12 (finite) after ``after`` calls."""

    def __init__(self, config) -> None:
        super().__init__(BCEConfig())
        self.calls = 0

    def discriminator(self, real_logits, fake_logits):
        self.calls += 1
        return super().discriminator(real_logits, fake_logits) * (1e12 if self.calls > 4 else 1.0)


class Saturated(NonSaturatingBCE):
    def __init__(self, config) -> None:
        super().__init__(BCEConfig())

    def saturated(self, real_logits, fake_logits):
        return torch.ones((), dtype=torch.bool)


@dataclass(frozen=True)
class NoOptions:
    pass


class LossPlugin:
    @hookimpl
    def ganzoo_register_losses(self):
        return [LossSpec("huge", Huge, NoOptions), LossSpec("saturated", Saturated, NoOptions)]


def test_a_finite_but_huge_loss_stops_the_run_as_diverged_keeping_the_good_checkpoint(write_zoo, tmp_path):
    zoo = write_zoo({"tiny": {**TINY_ENTRY, "loss": "huge"}})
    registry = ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("test-losses", LossPlugin())])
    with pytest.raises(DivergedError, match="above train.max_loss .* before step 6.*last checkpoint in .* was kept"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert ckpt.read(tmp_path / "r" / "checkpoints" / "last.pt")["step"] == 3
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "diverged"


def test_a_saturated_discriminator_for_n_intervals_stops_the_run(write_zoo, tmp_path):
    zoo = write_zoo({"tiny": {**TINY_ENTRY, "loss": "saturated", "train": {**TINY_ENTRY["train"], "log_every": 1,
                                                                           "saturated_intervals": 2}}})
    registry = ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("test-losses", LossPlugin())])
    with pytest.raises(DivergedError, match="sat at their targets for 2 log intervals.*no checkpoint had been written yet"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert not (tmp_path / "r" / "checkpoints" / "last.pt").exists()


def test_bce_and_lsgan_say_when_the_discriminator_saturates():
    from ganzoo.losses import LeastSquares, LSGANConfig

    bce, ls = NonSaturatingBCE(BCEConfig()), LeastSquares(LSGANConfig())
    assert bce.saturated(torch.full((8,), 9.0), torch.full((8,), -9.0)) and not bce.saturated(torch.zeros(8), torch.zeros(8))
    assert ls.saturated(torch.ones(8), torch.zeros(8)) and not ls.saturated(torch.full((8,), 0.6), torch.full((8,), 0.4))


# ---------------------------------------------------------------- overrides on resume


def test_a_changed_learning_rate_on_resume_is_applied_and_said(write_zoo, tmp_path):
    ganzoo.train("tiny", registry=_registry(write_zoo, ("sig", SignalAt(3, signal.SIGTERM))), run_dir=tmp_path / "r", device="cpu")
    with pytest.warns(GanzooWarning, match=r"train.lr_g 0.0002 -> 5e-05"):
        run = ganzoo.train("tiny", resume=tmp_path / "r", overrides=["train.lr_g=5e-5"], registry=_registry(write_zoo), device="cpu")
    assert run.optimizers["g"].param_groups[0]["lr"] == 5e-5 and run.optimizers["d"].param_groups[0]["lr"] == 2e-4


@pytest.mark.parametrize("override, key", [("model_options.width=32", "model_options"), ("train.batch_size=16", "train.batch_size"),
                                            ("dataset_options.n=32", "dataset_options")])
def test_settings_the_checkpoint_cannot_follow_are_refused_on_resume(write_zoo, tmp_path, override, key):
    ganzoo.train("tiny", registry=_registry(write_zoo, ("sig", SignalAt(3, signal.SIGTERM))), run_dir=tmp_path / "r", device="cpu")
    with pytest.raises(CheckpointError, match=f"'{key}' cannot change when resuming"):
        ganzoo.train("tiny", resume=tmp_path / "r", overrides=[override], registry=_registry(write_zoo), device="cpu")


# ---------------------------------------------------------------- validation at the edge


@pytest.mark.parametrize("override, message", [
    ("train.lr_g=nan", "train.lr_g must be a finite number above 0"),
    ("train.betas=[2, 3]", "train.betas must be at least 0 and below 1"),
    ("train.checkpoint_every=-1", "train.checkpoint_every must be at least 0"),
    ("train.keep_checkpoints=0", "train.keep_checkpoints must be at least 1"),
    ("dataset_options.image_size=7", "DCGAN needs an image side"),
    ("dataset_options.image_size=-4", "dataset_options.image_size must be at least 0"),
    ("dataset_options.limit=-4", "dataset_options.limit must be at least 0"),
    ("model_options.g_channels=0", "model_options.g_channels must be at least 1"),
    ("model_options.latent_dim=0", "model_options.latent_dim must be at least 1"),
    ("model_options.pack=3", "must be a multiple of model_options.pack"),
])
def test_bad_values_are_one_line_errors_naming_the_key(tmp_path, override, message):
    registry = ganzoo.load_registry()
    small = ["model_options.g_channels=4", "model_options.d_channels=4", "dataset_options.limit=64", "train.batch_size=8",
             "train.steps=1", "train.sample_every=0", "train.grid_size=4"]
    with pytest.raises(GanzooError, match=message) as e:
        ganzoo.train("dcgan-mnist-5k", overrides=[*small, override], registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert "\n" not in str(e.value)


def test_yaml_is_bounded_and_duplicates_are_refused(tmp_path):
    from ganzoo.config import read_zoo_file

    laughs = ["entries: {}", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        laughs.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    (tmp_path / "laughs.yaml").write_text("\n".join(laughs[1:]) + "\n")
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="expands to more than") as e:
        read_zoo_file(tmp_path / "laughs.yaml")
    assert len(str(e.value)) < 300
    (tmp_path / "dup.yaml").write_text("entries:\n  x: {model: a}\n  x: {model: b}\n")
    with pytest.raises(ConfigError, match="'x' is defined twice"):
        read_zoo_file(tmp_path / "dup.yaml")
    (tmp_path / "latin1.yaml").write_bytes("entries: {caf\xe9: {}}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8"):
        read_zoo_file(tmp_path / "latin1.yaml")
    assert time.perf_counter() - started < 60  # not the 35 s MemoryError of an expanded repr


def test_front_door_arguments_are_checked(tiny_registry, tmp_path):
    with pytest.raises(ConfigError, match="entry name or a ZooEntry"):
        ganzoo.train(None, registry=tiny_registry)
    with pytest.raises(ConfigError, match="list of \"KEY=VALUE\" strings"):
        ganzoo.train("tiny", overrides="train.steps=1", registry=tiny_registry)
    with pytest.raises(ConfigError, match="n \\(--n\\) must be a whole number from 1"):
        ganzoo.sample(tmp_path, n=-3, registry=tiny_registry)
    with pytest.raises(ConfigError, match="n \\(--n\\) must be a whole number from 1"):
        ganzoo.sample(tmp_path, n=100_000_000, registry=tiny_registry)


@pytest.mark.parametrize("out, message", [("grid.gif", "write a .png"), ("afolder.png", "is a folder"), ("afile", "is a file")])
def test_sample_outputs_are_checked_by_their_name(tmp_path, out, message):
    from ganzoo.images import save_images

    (tmp_path / "afolder.png").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError, match=message):
        save_images(torch.zeros(2, 1, 4, 4), tmp_path / out)


def test_translate_never_overwrites_its_inputs_nor_maps_two_inputs_to_one_output(tmp_path):
    from PIL import Image

    from ganzoo.images import process_image_files

    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("p0.png", "p1.png"):
        Image.new("RGB", (4, 4), (10, 20, 30)).save(folder / name)
    before = (folder / "p0.png").read_bytes()
    identity = lambda path, pixels: pixels[None].float() / 127.5 - 1  # noqa: E731
    with pytest.raises(ConfigError, match="is the input folder"):
        process_image_files(folder, folder, identity)
    with pytest.raises(ConfigError, match="would overwrite the input"):
        process_image_files(folder / "p0.png", folder / "p0.png", identity)
    Image.new("RGB", (4, 4)).save(folder / "p0.PNG.tmp.png")
    (folder / "p0.PNG.tmp.png").rename(folder / "P0.png")
    with pytest.raises(ConfigError, match="would both be written to"):
        process_image_files(folder, tmp_path / "out", identity)
    assert (folder / "p0.png").read_bytes() == before and not (tmp_path / "out").exists()


def test_16_bit_palette_and_oversized_images(tmp_path, monkeypatch):
    import numpy as np
    from PIL import Image

    from ganzoo import images
    from ganzoo.images import read_image

    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)  # 0 .. 63000 of 65535
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    grey = read_image(tmp_path / "deep.png", channels=1)[0].numpy()
    assert np.abs(grey.astype(int) - np.round(ramp / 65535 * 255)).max() <= 1
    assert (grey == 255).mean() < 0.05  # not the 99.7 % saturated of a clipping read

    palette = Image.new("P", (4, 4))
    palette.putpalette([0, 0, 0, 200, 30, 40] + [0] * 762)
    palette.putpixel((1, 1), 1)
    palette.save(tmp_path / "palette.png")
    rgb = read_image(tmp_path / "palette.png", channels=3)
    assert rgb[:, 1, 1].tolist() == [200, 30, 40] and rgb[:, 0, 0].tolist() == [0, 0, 0]

    monkeypatch.setattr(images, "MAX_PIXELS", 100)  # a bomb, scaled down: 16 x 16 = 256 pixels
    Image.new("L", (16, 16)).save(tmp_path / "bomb.png")
    with pytest.raises(DataError, match="16x16 pixels, more than the 100 ganzoo reads") as e:
        read_image(tmp_path / "bomb.png", channels=1)
    assert "\n" not in str(e.value)
    assert read_image(tmp_path / "deep.png", channels=1).shape == (1, 8, 8)  # 64 pixels: read


def test_new_plugin_refuses_names_that_collide(tmp_path):
    from ganzoo.scaffold import new_plugin

    for name, message in (("dcgan", "is taken"), ("class", "Python keyword"), ("x" * 300, "at most 40 characters")):
        with pytest.raises(ConfigError, match=message):
            new_plugin(name, tmp_path)
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        new_plugin("fine-name", tmp_path / "file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_disabling_the_callbacks_plugin_is_refused_before_training(write_zoo, tmp_path):
    zoo = write_zoo({"tiny": TINY_ENTRY})
    registry = ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin())], disabled=["callbacks"])
    with pytest.raises(GanzooError, match="'callbacks' plugin"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "r", device="cpu")
    assert not (tmp_path / "r").exists()


def test_a_disabled_plugins_checkpoint_says_disabled_not_missing(tiny_registry, tmp_path):
    ganzoo.train("dcgan-mnist-5k", overrides=["model_options.g_channels=4", "model_options.d_channels=4", "dataset_options.limit=16",
                                              "train.batch_size=8", "train.steps=1", "train.grid_size=4"],
                 registry=tiny_registry, run_dir=tmp_path / "r", device="cpu")
    with pytest.raises(CheckpointError, match="from plugin 'dcgan', which is disabled here"):
        ganzoo.load_checkpoint(tmp_path / "r", device="cpu", registry=ganzoo.load_registry(disabled=["dcgan"]))


def test_ctrl_c_during_the_end_of_run_evaluation_keeps_the_run_finished(write_zoo, tmp_path, monkeypatch):
    from ganzoo.callbacks.evaluation import Evaluation

    def interrupted(self, run):
        raise KeyboardInterrupt

    monkeypatch.setattr(Evaluation, "sample_quality", interrupted)
    run = ganzoo.train("tiny", registry=_registry(write_zoo, train={"eval_samples": 10}), run_dir=tmp_path / "r", device="cpu")
    assert run.status == "finished" and (tmp_path / "r" / "samples.png").is_file()
    assert json.loads((tmp_path / "r" / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("entry, override, key", [
    ("pix2pix-digit-edges", "model_options.d_layers=0", "model_options.d_layers"),
    ("pix2pix-digit-edges", "dataset_options.edge_width=-1", "dataset_options.edge_width"),
    ("srgan-photos", "model_options.blocks=0", "model_options.blocks"),
    ("srgan-photos", "dataset_options.limit=-2", "dataset_options.limit"),
    ("stackgan-digits", "model_options.temperature=0", "model_options.temperature"),
    ("stackgan-digits", "dataset_options.captions_per_image=0", "dataset_options.captions_per_image"),
])
def test_every_built_in_plugin_gives_its_options_ranges(entry, override, key):
    with pytest.raises(ConfigError, match=f"{key} must be at least") as e:
        ganzoo.load_registry().entry(entry, [override])
    assert "\n" not in str(e.value)
