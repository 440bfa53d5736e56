"""The plugin contract: the declared API, the core's layers, multi-network models, capabilities,
unpaired data, training state, per-group optimizer settings and the resume order of callbacks."""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torch import nn

import ganzoo
import ganzoo.checkpoints as ckpt
import ganzoo.plugin as api
from ganzoo import hookimpl
from ganzoo.data import UnpairedData, make_batches

from conftest import TINY_ENTRY, BlobsConfig, TinyConfig, TinyDiscriminator, TinyGenerator, load_blobs, make_tiny_plugin

ROOT = Path(__file__).resolve().parents[1]
PLUGIN_SOURCES = sorted([*ROOT.glob("plugins/*/**/*.py"), *ROOT.glob("examples/*/ganzoo_*/**/*.py")])


def _core_imports(path: Path) -> list[tuple[int, str]]:
    """Every ``ganzoo...`` module (or ``ganzoo`` name) a file imports, with its line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "ganzoo"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ganzoo" and not node.level:
            found += [(node.lineno, node.module if node.module != "ganzoo" else f"ganzoo.{a.name}") for a in node.names]
    return found


def test_plugins_and_examples_import_only_the_declared_api():
    assert len(PLUGIN_SOURCES) >= 20  # the built-in plugins and both examples were found
    front_door = {f"ganzoo.{name}" for name in ganzoo.__all__}
    bad = [f"{path.relative_to(ROOT)}:{line} imports {name}" for path in PLUGIN_SOURCES for line, name in _core_imports(path)
           if name not in ("ganzoo", "ganzoo.plugin") and name not in front_door]
    assert not bad, "plugins may import only ganzoo.plugin (and the front door):\n" + "\n".join(bad)


def test_the_declared_api_exports_what_it_lists():
    assert api.API_VERSION == 1
    missing = [name for name in api.__all__ if not hasattr(api, name)]
    assert not missing
    assert {"GANModel", "Capabilities", "Direction", "UnpairedData", "hookimpl", "bundled_mnist", "paired_scores"} <= set(api.__all__)


def test_the_core_has_no_import_cycles():
    core = ROOT / "core" / "ganzoo"
    modules = {".".join(p.relative_to(core.parent).with_suffix("").parts).removesuffix(".__init__"): p for p in core.rglob("*.py")}

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {}
    for mod, path in modules.items():
        tree = ast.parse(path.read_text())
        typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                       for n in ast.walk(node)}
        targets = set()
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        edges[mod] = {r for t in targets if t.split(".")[0] == "ganzoo" and (r := resolve(t)) and r != mod}

    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for nxt in sorted(edges[mod]):
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path[path.index(nxt):], nxt])
            if nxt not in state:
                visit(nxt, [*path, nxt])
        state[mod] = 2

    for mod in sorted(modules):
        if mod not in state:
            visit(mod, [mod])
    assert "ganzoo.training.loop" in modules and edges["ganzoo.model"] <= {"ganzoo.losses", "ganzoo.errors"}


# ---------------------------------------------------------------- a model of four networks, unpaired data


@dataclass(frozen=True)
class TwoWayConfig:
    width: int = 16


class TwoWay(ganzoo.GANModel):
    """Two translators and two discriminators over unpaired domains, with a counter as training state."""

    networks = {"g_ab": api.GENERATOR, "g_ba": api.GENERATOR, "d_a": api.DISCRIMINATOR, "d_b": api.DISCRIMINATOR}
    capabilities = api.Capabilities(generates=False, directions=(api.Direction("a2b", "input", "image"),
                                                                 api.Direction("b2a", "image", "input")), any_size=True)

    def __init__(self, config: TwoWayConfig, info: ganzoo.DataInfo) -> None:
        super().__init__()
        self.g_ab, self.g_ba = nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, padding=1)
        shape = (info.channels, info.height, info.width)
        self.d_a, self.d_b = TinyDiscriminator(config.width, shape), TinyDiscriminator(config.width, shape)
        self.seen = torch.zeros(())  # training state: not a buffer, never in state_dict

    def translate(self, images, direction=None):
        return torch.tanh((self.g_ba if self.capabilities.direction(direction).name == "b2a" else self.g_ab)(images))

    def discriminator_loss(self, batch, loss):
        self.seen += len(batch["image"])
        a = self.judge(batch["input"], self.translate(batch["image"], "b2a").detach(), loss, discriminator=self.d_a, prefix="d_a")
        b = self.judge(batch["image"], self.translate(batch["input"], "a2b").detach(), loss, discriminator=self.d_b, prefix="d_b")
        return api.StepOutput(a.loss + b.loss, {**a.metrics, **b.metrics}, {**a.diagnostics, **b.diagnostics})

    def generator_loss(self, batch, loss):
        fake_b, fake_a = self.translate(batch["input"], "a2b"), self.translate(batch["image"], "b2a")
        g = loss.generator(self.d_b(fake_b)) + loss.generator(self.d_a(fake_a))
        return api.StepOutput(g, {"g_loss": g.detach()})

    def training_state(self):
        return {"seen": self.seen.clone()}

    def load_training_state(self, state):
        self.seen = state["seen"].clone()


@dataclass(frozen=True)
class DomainsConfig:
    a: int = 24
    b: int = 40


def load_domains(config: DomainsConfig, root: Path, split: str = "train"):
    g = torch.Generator().manual_seed(1)
    if split == "val":  # held-out true pairs: b is a shifted a
        a = (torch.rand(16, 1, 8, 8, generator=g) * 200).to(torch.uint8)
        return ganzoo.ImageData({"input": a, "image": a + 50})
    a = (torch.rand(config.a, 1, 8, 8, generator=g) * 200).to(torch.uint8)
    b = (torch.rand(config.b, 1, 8, 8, generator=g) * 200).to(torch.uint8)
    return UnpairedData([{"input": a}, {"image": b, "label": torch.arange(config.b)}])


class TwoWayPlugin:
    @hookimpl
    def ganzoo_register_models(self):
        return [ganzoo.ModelSpec("two-way", TwoWay, TwoWayConfig)]

    @hookimpl
    def ganzoo_register_datasets(self):
        return [ganzoo.DatasetSpec("domains", load_domains, DomainsConfig, splits=("train", "val"))]


@pytest.fixture
def two_way(write_zoo):
    entry = {**TINY_ENTRY, "model": "two-way", "dataset": "domains", "loss": "lsgan",
             "train": {**TINY_ENTRY["train"], "ema": 0.5, "groups": {"d": {"lr": 1e-3, "betas": [0.0, 0.99], "weight_decay": 0.01}}}}
    return ganzoo.load_registry([write_zoo({"two-way": entry})], extra_plugins=[("two-way", TwoWayPlugin())])


def test_unpaired_batches_draw_each_domain_on_its_own_and_resume_exactly():
    data = load_domains(DomainsConfig(), Path("."))
    stream = make_batches(data, 8, torch.device("cpu"), seed=3)
    assert stream.batches_per_epoch == 5  # a pass over the larger domain (40 / 8)
    labels = torch.cat([stream.next()[0]["label"] for _ in range(5)])
    assert sorted(labels.tolist()) == list(range(40))  # domain b: each item once an epoch
    seen_a = []
    again = make_batches(data, 8, torch.device("cpu"), seed=3)
    for _ in range(6):
        batch, _ = again.next()
        seen_a.append(batch["input"])
    first_pass = torch.cat(seen_a)[:24]
    assert len({tuple(x.flatten().tolist()) for x in first_pass}) == 24  # domain a: all 24 before any repeats
    resumed = make_batches(data, 8, torch.device("cpu"), seed=3)
    resumed.load_state_dict(again.state_dict())
    expected = again.next()[0]
    got = resumed.next()[0]
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    other = make_batches(data, 8, torch.device("cpu"), seed=4)
    assert not torch.equal(other.next()[0]["label"], make_batches(data, 8, torch.device("cpu"), seed=3).next()[0]["label"])


def test_a_four_network_translator_trains_previews_averages_and_scores(two_way, tmp_path):
    run = ganzoo.train("two-way", registry=two_way, run_dir=tmp_path / "run", device="cpu")
    assert run.status == "finished" and set(run.ema.averages) == {"g_ab", "g_ba"}  # every generator, no discriminator
    assert run.sample_fixed().shape == (2 * 4, 1, 8, 24)  # each direction: input | output | target
    d, g = run.optimizers["d"].param_groups[0], run.optimizers["g"].param_groups[0]
    assert (d["lr"], d["betas"], d["weight_decay"]) == (1e-3, (0.0, 0.99), 0.01)
    assert (g["lr"], g["betas"], g["weight_decay"]) == (2e-4, (0.5, 0.999), 0.0)
    scores = json.loads((tmp_path / "run" / "metrics.json").read_text())["heldout"]["scores"]
    assert {"a2b_l1", "b2a_psnr", "a2b_identity_l1", "b2a_mean_ssim"} <= scores.keys()
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert set(history[-1]["diagnostics"]) == {"d_a_real", "d_a_fake", "d_b_real", "d_b_fake"}
    from ganzoo.callbacks.history import loss_keys

    assert set(loss_keys(history[-1])) == {"d_a_loss", "d_b_loss", "g_loss"}

    loaded = ganzoo.load_checkpoint(tmp_path / "run", registry=two_way, device="cpu")
    assert torch.equal(loaded.model.g_ab.weight, run.ema.averages["g_ab"].module.weight)  # sampling holds the averages
    assert float(loaded.model.seen) == 0  # training state stays out of what sampling loads
    x = torch.rand(2, 1, 8, 8) * 2 - 1
    assert torch.equal(ganzoo.translate(loaded, x, direction="b2a"), loaded.model.translate(x, "b2a"))
    with pytest.raises(ganzoo.ConfigError, match="unknown direction 'c2d'.*a2b, b2a"):
        ganzoo.translate(loaded, x, direction="c2d")
    with pytest.raises(ganzoo.ConfigError, match="translates images rather than sampling"):
        ganzoo.sample(loaded, n=2)


def test_training_state_resumes_bit_identically(two_way, tmp_path):
    full = ganzoo.train("two-way", registry=two_way, run_dir=tmp_path / "full", device="cpu")
    ganzoo.train("two-way", overrides=["train.steps=3"], registry=two_way, run_dir=tmp_path / "half", device="cpu")
    assert float(ckpt.read(tmp_path / "half" / "checkpoints" / "last.pt")["training_state"]["seen"]) == 3 * 8
    resumed = ganzoo.train("two-way", overrides=["train.steps=6"], resume=tmp_path / "half", registry=two_way, device="cpu")
    assert float(resumed.model.seen) == float(full.model.seen) == 6 * 8
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("override, message", [
    ("train.groups={g2: {lr: 0.1}}", "train.groups names parameter groups the model does not have: ['g2']"),
    ("train.groups={d: {momentum: 0.9}}", "train.groups.d must be a mapping of betas, lr, weight_decay"),
    ("train.ema_networks=[d_z]", "train.ema_networks names networks the model does not declare: ['d_z']"),
])
def test_group_and_ema_settings_are_checked(two_way, tmp_path, override, message):
    with pytest.raises(ganzoo.ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        ganzoo.train("two-way", overrides=[override], registry=two_way, run_dir=tmp_path / "r", device="cpu")


def test_ema_can_cover_chosen_networks(two_way, tmp_path):
    run = ganzoo.train("two-way", overrides=["train.ema_networks=[g_ba]", "train.steps=2"], registry=two_way, run_dir=tmp_path / "r",
                       device="cpu")
    assert set(run.ema.averages) == {"g_ba"}


# ---------------------------------------------------------------- the resume order of per-run callbacks


class Counter:
    """A per-run callback (``ganzoo_callbacks``) that counts steps across a resume."""

    def __init__(self, log: list) -> None:
        self.count, self.log = 0, log

    @hookimpl
    def ganzoo_step_end(self, run, step):
        self.count += 1

    @hookimpl
    def ganzoo_checkpoint_state(self, run):
        return {"counter": self.count}

    @hookimpl
    def ganzoo_load_checkpoint_state(self, run, state):
        self.count = state["counter"]

    @hookimpl
    def ganzoo_train_end(self, run, status):
        self.log.append(self.count)


def test_per_run_callbacks_get_their_checkpoint_state_back_on_resume(write_zoo, tmp_path):
    log: list[int] = []

    class Provider:
        @hookimpl
        def ganzoo_callbacks(self, run):
            return [Counter(log)]

    registry = ganzoo.load_registry([write_zoo({"tiny": TINY_ENTRY})], extra_plugins=[("tiny", make_tiny_plugin()),
                                                                                    ("counter", Provider())])
    ganzoo.train("tiny", overrides=["train.steps=4"], registry=registry, run_dir=tmp_path / "r", device="cpu")
    ganzoo.train("tiny", overrides=["train.steps=7"], resume=tmp_path / "r", registry=registry, device="cpu")
    assert log == [4, 7]  # the second run's fresh callback object continued from the checkpoint's 4


def test_lsgan_generator_weight():
    loss = ganzoo.load_registry().spec("loss", "lsgan")
    logits = torch.tensor([0.0, 2.0])
    plain = loss.build(loss.config())
    assert plain.generator(logits) == pytest.approx(0.5 * ((logits - 1) ** 2).mean())  # Mao et al.
    assert loss.build(loss.config(generator_weight=1.0)).generator(logits) == pytest.approx(((logits - 1) ** 2).mean())


def test_translate_and_upscale_belong_to_the_core(tmp_path):
    from ganzoo.cli import COMMANDS, main

    assert {"translate", "upscale"} <= set(COMMANDS)
    registry = ganzoo.load_registry(disabled=["pix2pix", "srgan"])
    assert "translate" not in registry.commands  # no plugin provides them
    with pytest.raises(SystemExit) as done:
        main(["--disable-plugin", "pix2pix", "--disable-plugin", "srgan", "translate", "--help"])
    assert done.value.code == 0


def test_a_model_declaring_a_missing_network_is_refused(write_zoo):
    class Broken(TinyGAN_):
        networks = {"generator": api.GENERATOR, "critic": api.DISCRIMINATOR}

    class Plugin:
        @hookimpl
        def ganzoo_register_models(self):
            return [ganzoo.ModelSpec("broken", Broken, TinyConfig)]

        @hookimpl
        def ganzoo_register_datasets(self):
            return [ganzoo.DatasetSpec("blobs", load_blobs, BlobsConfig)]

    registry = ganzoo.load_registry([write_zoo({"b": {**TINY_ENTRY, "model": "broken"}})], extra_plugins=[("b", Plugin())])
    with pytest.raises(ganzoo.ConfigError, match="declares network 'critic' but has no such submodule"):
        ganzoo.train("b", registry=registry, device="cpu")


class TinyGAN_(ganzoo.GANModel):
    def __init__(self, config, info):
        super().__init__()
        self.latent_dim = config.latent_dim
        shape = (info.channels, info.height, info.width)
        self.generator = TinyGenerator(config.latent_dim, config.width, shape)
        self.discriminator = TinyDiscriminator(config.width, shape)
