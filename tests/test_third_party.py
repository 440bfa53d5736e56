"""Third-party plugins end to end: the WGAN-GP and CycleGAN examples and a scaffolded plugin are
installed with pip, listed, trained and removed again; plugin API versions, disabling a plugin,
and checkpoints that name the plugin they need.

Each plugin is installed into a folder of the test's own (``pip install --target``) that the
commands find on ``PYTHONPATH``, never into this environment: a run cut short (a timeout, a
killed CI job) leaves no plugin behind to change what the next run's registry holds."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import ganzoo
from conftest import ganzoo_process
from ganzoo.plugins import API_VERSION, PluginWarning, load_registry
import ganzoo.checkpoints as ckpt

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "ganzoo-wgan-gp"
ENV = {**os.environ, "COLUMNS": "250"}  # rich tables unwrapped
TWO_STEPS = ["--set", "model_options.g_channels=8", "--set", "model_options.d_channels=8", "--set", "dataset_options.limit=64",
             "--set", "train.batch_size=8", "--set", "train.steps=2", "--set", "train.sample_every=0", "--set", "train.grid_size=4"]


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, env={**ENV, **(env or {})}, timeout=600)


ganzoo_cli = ganzoo_process  # python -m ganzoo ARGS: the plugins installed in this test are found at start-up


@contextlib.contextmanager
def installed(project: Path, tmp_path: Path) -> Iterator[dict[str, str]]:
    """``pip install`` the plugin ``project`` (a copy, so that its build leaves nothing in the
    checkout) into ``tmp_path / "site"``; yields the environment that puts that folder on
    ``PYTHONPATH``, and removes the folder (uninstalls the plugin) on the way out. The
    environment stays usable after it: the plugin is then missing."""
    name = project.name  # the distribution's name, and with "_" its package's
    if importlib.util.find_spec(name.replace("-", "_")) is not None:  # then removing ours would not remove it
        pytest.skip(f"{name} is installed in this environment; this test installs and removes it itself (pip uninstall {name})")
    source = tmp_path / "source" / project.name
    shutil.copytree(project, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    isolation = ["--no-build-isolation"] if importlib.util.find_spec("setuptools") else []
    done = run(sys.executable, "-m", "pip", "-q", "install", "--no-deps", *isolation, "--target", str(tmp_path / "site"), str(source),
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    try:
        yield {"PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), os.environ.get("PYTHONPATH", "")])}
    finally:
        shutil.rmtree(tmp_path / "site")


def assert_zoo_wide_tests_pass(selection: str, env: dict[str, str], cwd: Path) -> None:
    """tests/test_zoo.py's tests of every model and entry, run on the installed plugin's
    (``-k selection``): a plugin is held to what the zoo's own models are."""
    done = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_zoo.py"), "-k", selection,
               cwd=cwd, env=env)
    assert done.returncode == 0, done.stdout[-2000:]  # 5 if the selection named no test


def test_wgan_gp_plugin_installs_lists_trains_and_uninstalls(tmp_path):
    with installed(EXAMPLE, tmp_path) as env:
        plugins = ganzoo_cli("plugins", cwd=tmp_path, env=env)
        line = next(ln for ln in plugins.stdout.splitlines() if ln.strip().startswith("wgan_gp"))
        assert "ganzoo-wgan-gp" in line and "0.1.0" in line and "wgan-gp" in line
        listed = ganzoo_cli("list", "wgan*", cwd=tmp_path, env=env)
        assert "wgan-gp-mnist-5k" in listed.stdout and "wgan_gp" in listed.stdout
        trained = ganzoo_cli("run", "wgan-gp-mnist-5k", *TWO_STEPS, "--run-dir", str(tmp_path / "run"), cwd=tmp_path, env=env)
        assert trained.returncode == 0, trained.stderr
        made = ckpt.read(tmp_path / "run" / "checkpoints" / "last.pt")["provenance"]
        assert made["model"] == {"name": "wgan-gp-dcgan", "plugin": "wgan_gp", "distribution": "ganzoo-wgan-gp", "version": "0.1.0"}
        assert made["loss"]["plugin"] == "wgan_gp" and made["dataset"]["distribution"] == "ganzoo"
        own = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests"), cwd=tmp_path, env=env)
        assert own.returncode == 0, own.stdout[-2000:]
        assert_zoo_wide_tests_pass("wgan", env, cwd=tmp_path)
        exported = ganzoo_cli("export", str(tmp_path / "run"), "--out", str(tmp_path / "export"), cwd=tmp_path, env=env)
        assert exported.returncode == 0, exported.stderr
        for source, out in ((tmp_path / "run", "from-run.png"), (tmp_path / "export", "from-export.png")):
            drawn = ganzoo_cli("sample", str(source), "--n", "8", "--seed", "3", "--out", str(tmp_path / out), cwd=tmp_path, env=env)
            assert drawn.returncode == 0, drawn.stderr
        assert (tmp_path / "from-run.png").read_bytes() == (tmp_path / "from-export.png").read_bytes()  # bit for bit
    gone = ganzoo_cli("sample", str(tmp_path / "run"), "--out", str(tmp_path / "s.png"), cwd=tmp_path, env=env)
    assert gone.returncode == 1 and gone.stderr.count("\n") == 1
    assert "model 'wgan-gp-dcgan' from plugin 'wgan_gp' of ganzoo-wgan-gp 0.1.0, which is not installed here: pip install ganzoo-wgan-gp" in gone.stderr
    gone = ganzoo_cli("sample", str(tmp_path / "export"), "--out", str(tmp_path / "s.png"), cwd=tmp_path, env=env)  # an export too
    assert gone.returncode == 1 and "pip install ganzoo-wgan-gp" in gone.stderr and gone.stderr.count("\n") == 1


CYCLEGAN = ROOT / "examples" / "ganzoo-cyclegan"
CG_SMALL = ["--set", "model_options.g_channels=4", "--set", "model_options.blocks=1", "--set", "model_options.d_channels=4",
            "--set", "model_options.d_layers=2", "--set", "dataset_options.limit=32", "--set", "train.batch_size=4",
            "--set", "train.sample_every=0", "--set", "train.grid_size=4", "--set", "train.lr_decay_steps=0"]


def test_cyclegan_plugin_installs_lists_trains_translates_resumes_and_uninstalls(tmp_path):
    from PIL import Image

    with installed(CYCLEGAN, tmp_path) as env:
        listed = ganzoo_cli("list", "cyclegan*", cwd=tmp_path, env=env)
        assert "cyclegan-digit-outlines" in listed.stdout and "cyclegan" in listed.stdout
        cut = ganzoo_cli("run", "cyclegan-digit-outlines", *CG_SMALL, "--set", "train.steps=2", "--run-dir", str(tmp_path / "run"),
                         cwd=tmp_path, env=env)
        assert cut.returncode == 0, cut.stderr
        resumed = ganzoo_cli("run", "cyclegan-digit-outlines", "--resume", str(tmp_path / "run"), "--set", "train.steps=4", cwd=tmp_path, env=env)
        assert resumed.returncode == 0, resumed.stderr
        payload = ckpt.read(tmp_path / "run" / "checkpoints" / "last.pt")
        assert payload["step"] == 4 and payload["training_state"]["pool_a"].shape[0] == 16  # 4 steps x 4 fakes, in the pool
        Image.fromarray((torch.rand(32, 32) * 255).to(torch.uint8).numpy()).save(tmp_path / "digit.png")
        for direction in ("a2b", "b2a"):
            done = ganzoo_cli("translate", str(tmp_path / "run"), str(tmp_path / "digit.png"), "--direction", direction,
                              "--out", str(tmp_path / f"{direction}.png"), cwd=tmp_path, env=env)
            assert done.returncode == 0 and f"translated ({direction})" in done.stderr, done.stderr
        exported = ganzoo_cli("export", str(tmp_path / "run"), "--out", str(tmp_path / "export"), cwd=tmp_path, env=env)
        assert exported.returncode == 0, exported.stderr
        again = ganzoo_cli("translate", str(tmp_path / "export"), str(tmp_path / "digit.png"), "--direction", "b2a",
                           "--out", str(tmp_path / "b2a-export.png"), cwd=tmp_path, env=env)
        assert again.returncode == 0, again.stderr
        assert (tmp_path / "b2a-export.png").read_bytes() == (tmp_path / "b2a.png").read_bytes()  # the export translates alike
        wrong = ganzoo_cli("translate", str(tmp_path / "run"), str(tmp_path / "digit.png"), "--direction", "x", "--out", "o.png", cwd=tmp_path,
                           env=env)
        assert wrong.returncode == 1 and "unknown direction 'x'" in wrong.stderr and wrong.stderr.count("\n") == 1
        scored = ganzoo_cli("evaluate", str(tmp_path / "run"), "--batches", "1", cwd=tmp_path, env=env)
        assert scored.returncode == 0 and "a2b_l1" in scored.stdout and "b2a_l1" in scored.stdout, scored.stderr
        own = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(CYCLEGAN / "tests"), cwd=tmp_path, env=env)
        assert own.returncode == 0, own.stdout[-2000:]
        assert_zoo_wide_tests_pass("cyclegan", env, cwd=tmp_path)
    gone = ganzoo_cli("translate", str(tmp_path / "run"), str(tmp_path / "digit.png"), "--out", "o.png", cwd=tmp_path, env=env)
    assert gone.returncode == 1 and "pip install ganzoo-cyclegan" in gone.stderr


def test_scaffolded_plugin_installs_and_trains_at_once(tmp_path):
    made = ganzoo_cli("new-plugin", "demo-gan", "--dir", str(tmp_path), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    root = tmp_path / "ganzoo-demo-gan"
    assert {p.name for p in root.rglob("*") if p.is_file()} >= {"pyproject.toml", "README.md", "__init__.py", "model.py", "data.py",
                                                                 "command.py", "zoo.yaml", "test_demo_gan.py"}
    assert "class DemoGAN(GANModel)" in (root / "ganzoo_demo_gan" / "model.py").read_text()
    # a plugin author replaces the networks (another depth, an option renamed): the generated tests still hold
    package = root / "ganzoo_demo_gan"
    model = re.sub(r"(?<!info\.)\bwidth\b", "hidden", (package / "model.py").read_text())  # the option, not the image's
    deeper = "nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Tanh()"
    replaced = model.replace("nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, pixels), nn.Tanh()", deeper)
    assert replaced != model
    (package / "model.py").write_text(replaced)
    for name in ("__init__.py", "zoo.yaml"):
        (package / name).write_text((package / name).read_text().replace("width", "hidden"))
    with installed(root, tmp_path) as env:
        assert "demo-gan-mnist-5k" in ganzoo_cli("list", "demo*", cwd=tmp_path, env=env).stdout
        trained = ganzoo_cli("run", "demo-gan-mnist-5k", "--set", "train.steps=2", "--set", "train.sample_every=0",
                             "--run-dir", str(tmp_path / "run"), cwd=tmp_path, env=env)
        assert trained.returncode == 0, trained.stderr
        own = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests"), cwd=tmp_path, env=env)
        assert own.returncode == 0, own.stdout[-2000:]
        assert_zoo_wide_tests_pass("demo", env, cwd=tmp_path)
    again = ganzoo_cli("new-plugin", "demo-gan", "--dir", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = ganzoo_cli("new-plugin", "Bad Name", cwd=tmp_path)
    assert bad.returncode == 1 and "lowercase letters" in bad.stderr


def test_plugin_written_for_another_api_is_refused(monkeypatch):
    import importlib.metadata

    future = types.ModuleType("ganzoo_future_plugin")
    future.GANZOO_API = API_VERSION + 1
    monkeypatch.setitem(sys.modules, "ganzoo_future_plugin", future)
    real = list(importlib.metadata.entry_points(group="ganzoo"))
    fake = importlib.metadata.EntryPoint(name="future", value="ganzoo_future_plugin", group="ganzoo")
    monkeypatch.setattr("ganzoo.plugins._entry_points", lambda: [*real, fake])
    with pytest.warns(PluginWarning, match="future"):
        registry = load_registry()
    (error,) = registry.plugins["future"].errors
    assert f"written for ganzoo plugin API {API_VERSION + 1}" in error and "\n" not in error
    assert "dcgan" in registry.models  # the others keep working


def test_disable_a_plugin(monkeypatch, tmp_path, cli):
    monkeypatch.setenv("GANZOO_DISABLE_PLUGINS", "pix2pix, srgan")
    registry = load_registry()
    assert registry.plugins["pix2pix"].disabled and "pix2pix" not in registry.models and "srgan" not in registry.models
    assert "dcgan" in registry.models
    monkeypatch.delenv("GANZOO_DISABLE_PLUGINS")
    listed = cli("--disable-plugin", "stackgan", "list", cwd=tmp_path)
    assert listed.returncode == 0 and "stackgan-digits" not in listed.stdout and "pix2pix-digit-edges" in listed.stdout
    shown = cli("--disable-plugin", "stackgan", "plugins", cwd=tmp_path, env={"COLUMNS": "250"})
    assert "disabled" in next(ln for ln in shown.stdout.splitlines() if ln.strip().startswith("stackgan"))


def test_checkpoints_are_data_not_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    torch.save({"entry": {}, "evil": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ganzoo.CheckpointError):
        ckpt.read(tmp_path / "evil.pt")
    assert not (tmp_path / "pwned").exists()
