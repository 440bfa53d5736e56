"""The typed definitions that plugins register.

Registration hooks return lists of these small frozen dataclasses. The registry
(:mod:`ganzoo.plugins`) validates them when they register and merges them by name.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ganzoo.data import ImageData
    from ganzoo.losses import GANLoss
    from ganzoo.model import GANModel


@dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about its data to size its networks."""

    channels: int  # 1 for grayscale, 3 for colour
    height: int
    width: int
    num_classes: int = 0  # 0 when the data carries no class labels


@dataclass(frozen=True)
class ModelSpec:
    """A GAN variant: ``build(config, info)`` returns a :class:`ganzoo.model.GANModel`.

    ``config`` is a dataclass type with a default for every field; a zoo entry's
    ``model_options`` are checked against it (unknown keys and wrong types are errors).
    """

    name: str
    build: Callable[[Any, DataInfo], GANModel]
    config: type
    description: str = ""
    conditional: bool = False  # True: samples take a class label


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: ``load(options, root)`` returns :class:`ganzoo.data.ImageData`.

    ``options`` is an instance of ``config`` built from the entry's ``dataset_options``;
    ``root`` is the data directory (``--data-dir``, ``$GANZOO_DATA`` or ``~/.cache/ganzoo``).
    """

    name: str
    load: Callable[[Any, Path], ImageData]
    config: type
    description: str = ""


@dataclass(frozen=True)
class LossSpec:
    """An adversarial loss: ``build(options)`` returns a :class:`ganzoo.losses.GANLoss`."""

    name: str
    build: Callable[[Any], GANLoss]
    config: type
    description: str = ""


@dataclass(frozen=True)
class TrainConfig:
    """Trainer settings of a zoo entry (the ``train:`` block)."""

    batch_size: int = 64
    steps: int = 0  # generator updates; 0 means "use epochs"
    epochs: int = 0  # passes over the data; used when steps is 0
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1  # discriminator updates per generator update
    seed: int = 0
    precision: str = "fp32"  # fp32 | bf16 | fp16 | auto
    ema: float = 0.0  # decay of the generator's moving average; 0 switches it off
    ema_start: int = 0  # steps before the average starts following the generator
    log_every: int = 50  # steps between progress updates (and non-finite checks)
    sample_every: int = 500  # steps between sample grids; 0 only at the end
    checkpoint_every: int = 1000  # steps between checkpoints; 0 only at the end
    grid_size: int = 64  # images in each sample grid

    def __post_init__(self) -> None:
        if self.steps <= 0 and self.epochs <= 0:
            raise ValueError("set train.steps or train.epochs to a positive number")
        if self.precision not in ("fp32", "bf16", "fp16", "auto"):
            raise ValueError(f"train.precision must be fp32, bf16, fp16 or auto, not '{self.precision}'")
        if not 0.0 <= self.ema < 1.0:
            raise ValueError("train.ema must be in [0, 1)")
        for name in ("batch_size", "d_steps", "log_every", "grid_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be at least 1")


@dataclass(frozen=True)
class ZooEntry:
    """One runnable entry: model + dataset + loss + trainer settings, fully resolved."""

    name: str
    model: str
    dataset: str
    loss: str
    description: str = ""
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=lambda: TrainConfig(steps=1000))
    source: str = ""  # the file (or plugin) the entry came from

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML- and checkpoint-safe), without the ``source`` bookkeeping."""
        data = dataclasses.asdict(self)
        data.pop("source")
        data["train"]["betas"] = list(self.train.betas)
        return data
