"""Shared fixtures: a tiny GAN, in-process plugins, a plugin manager, a zoo file writer, the command line."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml
from torch import nn

import ganzoo
from ganzoo import DatasetSpec, GANModel, ImageData, ModelSpec, hookimpl
from ganzoo.plugin import FeatureExtractor, FeatureExtractorSpec

torch.set_num_threads(2)


@dataclass(frozen=True)
class TinyConfig:
    latent_dim: int = 8
    width: int = 16


class TinyGenerator(nn.Module):
    def __init__(self, latent_dim: int, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.shape = shape
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.ReLU(), nn.Linear(width, shape[0] * shape[1] * shape[2]), nn.Tanh())

    def forward(self, z, labels=None):
        return self.net(z).view(-1, *self.shape)


class TinyDiscriminator(nn.Module):
    def __init__(self, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(shape[0] * shape[1] * shape[2], width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x, labels=None):
        return self.net(x).flatten()


class TinyGAN(GANModel):
    """A two-layer MLP GAN: the smallest model the standard GAN step can train."""

    def __init__(self, config: TinyConfig, info: ganzoo.DataInfo) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        shape = (info.channels, info.height, info.width)
        self.generator = TinyGenerator(config.latent_dim, config.width, shape)
        self.discriminator = TinyDiscriminator(config.width, shape)


@dataclass(frozen=True)
class BlobsConfig:
    n: int = 64
    size: int = 8


def load_blobs(config: BlobsConfig, root: Path, split: str = "train") -> ImageData:
    g = torch.Generator().manual_seed(0)
    images = (torch.rand(config.n, 1, config.size, config.size, generator=g) * 255).to(torch.uint8)
    return ImageData({"image": images, "label": torch.arange(config.n) % 2}, num_classes=2)


def make_tiny_plugin(name: str = "tiny") -> types.SimpleNamespace:
    """An in-process plugin registering model 'tiny' and dataset 'blobs' (names prefixed by ``name``)."""
    prefix = "" if name == "tiny" else f"{name}-"

    class Plugin:
        @hookimpl
        def ganzoo_register_models(self):
            return [ModelSpec(f"{prefix}tiny", TinyGAN, TinyConfig, "tiny MLP GAN for tests")]

        @hookimpl
        def ganzoo_register_datasets(self):
            return [DatasetSpec(f"{prefix}blobs", load_blobs, BlobsConfig, "random 8x8 images")]

    return Plugin()


TINY_ENTRY = {
    "description": "tiny GAN on random blobs",
    "model": "tiny",
    "dataset": "blobs",
    "loss": "bce",
    "train": {"batch_size": 8, "steps": 6, "log_every": 2, "sample_every": 3, "checkpoint_every": 3, "grid_size": 4},
}


@pytest.fixture(autouse=True)
def _private_cache(monkeypatch, tmp_path_factory):
    """No test reads or writes the user's ganzoo cache (feature networks, real features)."""
    monkeypatch.setenv("GANZOO_CACHE", str(tmp_path_factory.getbasetemp() / "ganzoo-cache"))


@pytest.fixture
def write_zoo(tmp_path):
    def write(entries: dict, name: str = "zoo.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"entries": entries}))
        return path

    return write


@pytest.fixture
def tiny_registry(write_zoo):
    """A registry with the installed plugins plus the tiny plugin and its 'tiny' entry."""
    zoo = write_zoo({"tiny": TINY_ENTRY})
    return ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin())])


@pytest.fixture
def pm(tiny_registry):
    return tiny_registry.pm


class MeanPool(FeatureExtractor):
    """A plugin's extractor: 2x2 average-pooled pixels (no weights)."""

    def __init__(self) -> None:
        super().__init__()  # no parameters at all
        self.protocol = {"features": "meanpool", "weights": "", "weights_sha256": "none", "resize": "2x2 mean pooling"}

    def forward(self, images):
        return torch.nn.functional.avg_pool2d(images.float(), 2).flatten(1), None


class MeanPoolPlugin:
    @hookimpl
    def ganzoo_register_feature_extractors(self):
        return [FeatureExtractorSpec("meanpool", lambda context: MeanPool(), "2x2 mean-pooled pixels")]


@dataclass(frozen=True)
class CliResult:
    """What a run of ``ganzoo ARGS`` gave: the fields of ``subprocess.CompletedProcess`` tests read."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch):
    """``cli(*args, cwd=DIR, env={...})`` runs ``ganzoo ARGS`` in this process, as the console
    script does (``sys.exit(main(argv))``), from ``cwd``, its output captured as a pipe would:
    some 4 s less per call than a subprocess, which starts Python and torch again. What needs
    a fresh interpreter (an install, PYTHONPATH, a signal, ``python -m ganzoo``) stays a
    subprocess in its own test."""
    from ganzoo.cli import main

    def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> CliResult:
        monkeypatch.chdir(cwd)
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as e:  # argparse: usage errors (2), --help and --version (0)
                code = e.code if isinstance(e.code, int) else int(e.code is not None)
        return CliResult(code, out.getvalue(), err.getvalue())

    return run


def needs(module: str):
    """An optional extra's module: imported, or the test skipped, except in CI (``$CI``),
    where the test command installs every extra and a missing one is a failure."""
    import importlib
    import os

    if os.environ.get("CI"):
        return importlib.import_module(module)
    return pytest.importorskip(module)


def ganzoo_process(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m ganzoo ARGS`` in a fresh interpreter, its output captured, for what the
    in-process ``cli`` fixture cannot show: an install, plugins found on ``PYTHONPATH`` at
    start-up, what ``--help`` imports. ``env`` adds to this process's environment."""
    env = {**os.environ, "COLUMNS": "250", **(env or {})}  # rich tables unwrapped
    return subprocess.run([sys.executable, "-m", "ganzoo", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def site_with_plugins(site: Path, distribution: str, plugins: dict[str, str | None]) -> dict[str, str]:
    """A distribution ``distribution`` installed at ``site`` (its dist-info) whose ``ganzoo``
    entry points are the modules ``plugins`` (name -> source; ``None``: a module that does not
    exist); the environment that puts it on ``PYTHONPATH``, for :func:`ganzoo_process`."""
    package = distribution.replace("-", "_")
    info = site / f"{package}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ganzoo]\n" + "".join(f"{name} = {package}_{name}\n" for name in plugins))
    for name, source in plugins.items():
        if source is not None:
            (site / f"{package}_{name}.py").write_text(source)
    return {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
