"""``ganzoo new-plugin NAME``: the skeleton of a plugin package that installs and trains at once."""

from __future__ import annotations

import re
from pathlib import Path

from ganzoo.errors import ConfigError
from ganzoo.plugins import API_VERSION
from ganzoo.specs import short

PYPROJECT = '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "ganzoo-{name}"
version = "0.1.0"
description = "{title}: a ganzoo plugin"
requires-python = ">=3.10"
dependencies = ["ganzoo>={ganzoo_version}"]

[project.optional-dependencies]
test = ["pytest>=7.4"]

# ganzoo finds the plugin through this entry point
[project.entry-points.ganzoo]
{name_id} = "{package}"

[tool.setuptools.packages.find]
include = ["{package}*"]

[tool.setuptools.package-data]
{package} = ["zoo.yaml"]
'''

README = '''\
# ganzoo-{name}

A ganzoo plugin: model `{name}`, dataset `{name}-digits`, command `ganzoo {name}-walk` and the
zoo entry `{name}-mnist-5k`.

```bash
pip install -e .              # then: ganzoo plugins, ganzoo list {name}*
ganzoo run {name}-mnist-5k    # trains through ganzoo's one loop
pytest tests                  # the plugin's own tests
```

Start in `{package}/model.py` (the networks and the GAN's losses), `{package}/data.py` (a
dataset), `{package}/command.py` (a command) and `{package}/zoo.yaml` (the entries). Import
from ganzoo only `ganzoo.plugin` (and the front door, `ganzoo.train`, ... in commands and tests). Publish with `python -m build` and `twine upload dist/*`; users then
`pip install ganzoo-{name}` and its models appear in `ganzoo list`.
'''

INIT = '''\
\"\"\"{title}: a ganzoo plugin. Registered through the ``ganzoo`` entry point in pyproject.toml;
it imports nothing from ganzoo but ``ganzoo.plugin`` (the declared plugin API).\"\"\"

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import CommandSpec, DatasetSpec, ModelSpec, hookimpl
from {package}.command import configure, run
from {package}.data import {cls}DigitsConfig, load_digits
from {package}.model import {cls}, {cls}Config

GANZOO_API = {api}  # the ganzoo plugin API this plugin is written for


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    # tiny_options: a model small enough for a few CPU steps (the tests build it with them)
    return [ModelSpec("{name}", {cls}, {cls}Config, "{title}", tiny_options={{"latent_dim": 8, "width": 16}})]


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [DatasetSpec("{name}-digits", load_digits, {cls}DigitsConfig, "some of ganzoo's bundled MNIST digits",
                        tiny_options={{"limit": 64}})]


@hookimpl
def ganzoo_commands() -> list[CommandSpec]:
    return [CommandSpec("{name}-walk", "a walk through {name}'s latent space, as one PNG", configure, run)]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
'''

MODEL = '''\
\"\"\"{title}: a minimal GAN to start from (two-layer MLPs). Replace the networks with yours.

The base class ``GANModel`` already implements the standard GAN step; override
``discriminator_loss`` / ``generator_loss`` if your variant computes its losses differently,
``networks`` if it has other networks than one generator and one discriminator, and
``capabilities`` if it translates images rather than generating them (see docs/plugins.md).
\"\"\"

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ganzoo.plugin import DataInfo, GANModel


@dataclass(frozen=True)
class {cls}Config:
    latent_dim: int = 32  # size of the noise vector
    width: int = 256  # hidden units of both networks


class Generator(nn.Module):
    def __init__(self, latent_dim: int, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        self.shape = shape
        pixels = shape[0] * shape[1] * shape[2]
        self.net = nn.Sequential(nn.Linear(latent_dim, width), nn.ReLU(), nn.Linear(width, pixels), nn.Tanh())

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(z).view(-1, *self.shape)  # (B, C, H, W) in [-1, 1]


class Discriminator(nn.Module):
    def __init__(self, width: int, shape: tuple[int, int, int]) -> None:
        super().__init__()
        pixels = shape[0] * shape[1] * shape[2]
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(pixels, width), nn.LeakyReLU(0.2), nn.Linear(width, 1))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()  # (B,) logits


class {cls}(GANModel):
    def __init__(self, config: {cls}Config, info: DataInfo) -> None:
        super().__init__()
        shape = (info.channels, info.height, info.width)
        self.latent_dim = config.latent_dim
        self.generator = Generator(config.latent_dim, config.width, shape)
        self.discriminator = Discriminator(config.width, shape)
'''

DATA = '''\
\"\"\"A dataset template: some of the digits bundled with ganzoo, held in memory.

A loader returns ``ImageData`` (tensors in memory), ``UnpairedData`` (independent
domains) or an ``ItemData`` subclass (read item by item); see docs/plugins.md.
\"\"\"

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ganzoo.plugin import DataError, ImageData, bundled_mnist


@dataclass(frozen=True)
class {cls}DigitsConfig:
    digits: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9)  # which classes to keep
    limit: int = 0  # use only the first `limit` images (0: all)


def load_digits(config: {cls}DigitsConfig, root: Path, split: str = "train") -> ImageData:
    images, labels = bundled_mnist()  # (5000, 28, 28) uint8, (5000,) uint8
    keep = sum(labels == d for d in config.digits).bool()
    images, labels = images[keep][: config.limit or None], labels[keep][: config.limit or None]
    if not len(images):
        raise DataError(f"no digits left: dataset_options.digits is {{list(config.digits)}}")
    return ImageData({{"image": images.unsqueeze(1), "label": labels.long()}}, num_classes=10)
'''

COMMAND = '''\
\"\"\"A command template: ``ganzoo {name}-walk SOURCE --out walk.png``.\"\"\"

from __future__ import annotations

import argparse
from pathlib import Path

import torch

import ganzoo
from ganzoo.plugin import ConfigError, save_images


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
    parser.add_argument("--steps", type=int, default=8, help="images along the walk")
    parser.add_argument("--out", type=Path, default=Path("walk.png"))
    parser.add_argument("--device", default="auto")


@torch.no_grad()
def run(args: argparse.Namespace) -> int:
    if args.steps < 2:
        raise ConfigError("--steps must be at least 2")
    loaded = ganzoo.load_checkpoint(args.source, device=args.device, registry=args.registry)
    model = loaded.model
    device = next(model.parameters()).device
    ends = model.sample_latent(2, device, torch.Generator(device=device).manual_seed(0))
    t = torch.linspace(0, 1, args.steps, device=device)[:, None]
    images = model.sample(args.steps, latent=(1 - t) * ends[0] + t * ends[1])
    save_images(images, args.out, nrow=args.steps)
    print(f"{{args.steps}} images from {{loaded.entry.name}} -> {{args.out}}")
    return 0
'''

ZOO = '''\
entries:
  {name}-mnist-5k:
    description: {title} on the 5,000 MNIST digits bundled with ganzoo
    model: {name}
    dataset: {name}-digits
    loss: bce
    model_options: {{latent_dim: 32, width: 256}}
    train: {{batch_size: 64, steps: 1000, lr_g: 2.0e-4, lr_d: 2.0e-4, betas: [0.5, 0.999], seed: 0}}
'''

TEST = '''\
\"\"\"The plugin registers with ganzoo, and its entry trains a few steps on the CPU. What is
checked comes from the plugin's own specs, so it holds after the networks are replaced.\"\"\"

from __future__ import annotations

import json
import subprocess
import sys

import ganzoo

ENTRY = "{name}-mnist-5k"


def small(registry) -> list[str]:
    entry = registry.entry(ENTRY)
    model, data = registry.spec("model", entry.model), registry.spec("dataset", entry.dataset)
    return ([f"model_options.{{k}}={{json.dumps(v)}}" for k, v in model.tiny_options.items()]
            + [f"dataset_options.{{k}}={{json.dumps(v)}}" for k, v in data.tiny_options.items()]
            + ["train.batch_size=8", "train.steps=2", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4"])


def test_registered():
    registry = ganzoo.load_registry()
    assert "{name}" in registry.models and ENTRY in registry.entries and "{name}-walk" in registry.commands
    assert not registry.plugins["{name_id}"].errors


def test_entry_trains_and_samples(tmp_path):
    registry = ganzoo.load_registry()
    run = ganzoo.train(ENTRY, overrides=small(registry), run_dir=tmp_path / "run", device="cpu", registry=registry)
    assert run.status == "finished" and run.step == 2
    loaded = ganzoo.load_checkpoint(tmp_path / "run", device="cpu", registry=registry)
    info = loaded.info
    if loaded.model.capabilities.generates:
        images = ganzoo.sample(loaded, n=4)
        assert images.shape == (4, info.channels, info.height, info.width) and images.abs().max() <= 1


def test_command_writes_its_png(tmp_path):
    registry = ganzoo.load_registry()
    ganzoo.train(ENTRY, overrides=small(registry), run_dir=tmp_path / "run", device="cpu", registry=registry)
    done = subprocess.run([sys.executable, "-m", "ganzoo", "{name}-walk", str(tmp_path / "run"), "--out", str(tmp_path / "walk.png"),
                           "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "walk.png").stat().st_size > 0
'''


def class_name(name: str) -> str:
    """'cyclegan' -> 'CycleGAN', 'my-gan' -> 'MyGAN', 'style' -> 'StyleGAN'."""
    parts = name.split("-")
    if parts[-1].endswith("gan"):
        parts[-1] = parts[-1][:-3]
    return "".join(part.capitalize() for part in parts if part) + "GAN"


def _check_name_is_free(name: str, name_id: str, package: str) -> None:
    """A new plugin must not take the name of an installed distribution or package (installing
    it would overwrite their files, uninstalling it delete them), nor a Python keyword."""
    import importlib.metadata
    import importlib.util
    import keyword

    if keyword.iskeyword(name_id) or keyword.issoftkeyword(name_id):
        raise ConfigError(f"plugin name '{name}' is a Python keyword; choose another")
    installed = {d.metadata["Name"].lower().replace("_", "-") for d in importlib.metadata.distributions() if d.metadata["Name"]}
    taken = next((n for n in (f"ganzoo-{name}", name) if n in installed), None)
    if taken is None and importlib.util.find_spec(package) is not None:
        taken = f"the package {package}"
    if taken is not None:
        raise ConfigError(f"plugin name '{name}' is taken: {taken} is installed here (ganzoo's own plugins included); choose "
                          "another name")


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package ``parent/ganzoo-NAME`` and return its folder."""
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,39}", name):
        raise ConfigError(f"plugin name '{short(name, 50)}' must be lowercase letters, digits and dashes, starting with a "
                          "letter, at most 40 characters")
    from ganzoo._version import __version__

    name_id = name.replace("-", "_")
    package = f"ganzoo_{name_id}"
    _check_name_is_free(name, name_id, package)
    cls = class_name(name)
    title = f"{cls} ({name})"
    if Path(parent).exists() and not Path(parent).is_dir():
        raise ConfigError(f"--dir {parent} is a file, not a folder")
    root = Path(parent) / f"ganzoo-{name}"
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --dir")
    values = {"name": name, "name_id": name_id, "package": package, "cls": cls, "title": title, "api": API_VERSION,
              "ganzoo_version": __version__}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, f"{package}/__init__.py": INIT, f"{package}/model.py": MODEL,
             f"{package}/data.py": DATA, f"{package}/command.py": COMMAND, f"{package}/zoo.yaml": ZOO,
             f"tests/test_{name_id}.py": TEST}
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return root
