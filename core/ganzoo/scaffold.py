"""``ganzoo new-plugin NAME``: the skeleton of a plugin package that installs and trains at once."""

from __future__ import annotations

import re
from pathlib import Path

from ganzoo.errors import ConfigError
from ganzoo.plugins import API_VERSION

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

A ganzoo plugin: model `{name}` and the zoo entry `{name}-mnist-5k`.

```bash
pip install -e .              # then: ganzoo plugins, ganzoo list {name}*
ganzoo run {name}-mnist-5k    # trains through ganzoo's one loop
pytest tests                  # the plugin's own tests
```

Start in `{package}/model.py` (the networks and the GAN's losses) and `{package}/zoo.yaml`
(the entries). Publish with `python -m build` and `twine upload dist/*`; users then
`pip install ganzoo-{name}` and its models appear in `ganzoo list`.
'''

INIT = '''\
"""{title}: a ganzoo plugin. Registered through the ``ganzoo`` entry point in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from ganzoo import ModelSpec, hookimpl
from {package}.model import {cls}, {cls}Config

GANZOO_API = {api}  # the ganzoo plugin API this plugin is written for


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("{name}", {cls}, {cls}Config, "{title}")]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
'''

MODEL = '''\
"""{title}: a minimal GAN to start from (two-layer MLPs). Replace the networks with yours.

The base class ``ganzoo.GANModel`` already implements the standard GAN step; override
``discriminator_loss`` / ``generator_loss`` if your variant computes its losses differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ganzoo import DataInfo, GANModel


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

ZOO = '''\
entries:
  {name}-mnist-5k:
    description: {title} on the 5,000 MNIST digits bundled with ganzoo
    model: {name}
    dataset: mnist-5k
    loss: bce
    model_options: {{latent_dim: 32, width: 256}}
    train: {{batch_size: 64, steps: 1000, lr_g: 2.0e-4, lr_d: 2.0e-4, betas: [0.5, 0.999], seed: 0}}
'''

TEST = '''\
"""The plugin registers with ganzoo and its entry trains a few steps on the CPU."""

from __future__ import annotations

import ganzoo


def test_registered():
    registry = ganzoo.load_registry()
    assert "{name}" in registry.models and "{name}-mnist-5k" in registry.entries


def test_entry_trains(tmp_path):
    small = ["model_options.width=16", "dataset_options.limit=64", "train.batch_size=8", "train.steps=2",
             "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4"]
    run = ganzoo.train("{name}-mnist-5k", overrides=small, run_dir=tmp_path / "run", device="cpu")
    assert run.status == "finished" and run.step == 2
    assert ganzoo.sample(tmp_path / "run", n=4, device="cpu").shape == (4, 1, 28, 28)
'''


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package ``parent/ganzoo-NAME`` and return its folder."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ConfigError(f"plugin name '{name}' must be lowercase letters, digits and dashes, starting with a letter")
    from ganzoo import __version__

    name_id = name.replace("-", "_")
    package = f"ganzoo_{name_id}"
    cls = "".join(part.capitalize() for part in name.split("-")) + "GAN"
    title = f"{cls} ({name})"
    root = Path(parent) / f"ganzoo-{name}"
    if root.exists():
        raise ConfigError(f"{root} already exists; choose another name or --dir")
    values = {"name": name, "name_id": name_id, "package": package, "cls": cls, "title": title, "api": API_VERSION,
              "ganzoo_version": __version__}
    files = {"pyproject.toml": PYPROJECT, "README.md": README, f"{package}/__init__.py": INIT, f"{package}/model.py": MODEL,
             f"{package}/zoo.yaml": ZOO, f"tests/test_{name_id}.py": TEST}
    for relative, template in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**values))
    return root
