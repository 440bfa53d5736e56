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


def _site_with_plugins(site: Path, plugins: dict[str, str]) -> dict[str, str]:
    """An installed distribution on ``PYTHONPATH`` whose ``ganzoo`` entry points are the
    modules ``plugins`` (name -> source); the environment to run ganzoo in."""
    info = site / "ganzoo_hostile-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ganzoo-hostile\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ganzoo]\n" + "".join(f"{name} = hostile_{name}\n" for name in plugins))
    for name, source in plugins.items():
        (site / f"hostile_{name}.py").write_text(source)
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]), "COLUMNS": "250"}


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
    import subprocess
    import sys

    marker = tmp_path / "imported"
    env = _site_with_plugins(tmp_path / "site", {
        "exits": "import sys\nsys.exit(3)\n",
        "clashing": CLASHING,
        "slow": f"open({str(marker)!r}, 'w').close()\nimport time\ntime.sleep(2)\n",
    })

    def ganzoo_cli(*args):
        return subprocess.run([sys.executable, "-m", "ganzoo", *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)

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
