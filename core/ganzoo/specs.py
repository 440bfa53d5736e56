"""The typed definitions that plugins register.

Registration hooks return lists of these small frozen dataclasses. The registry
(:mod:`ganzoo.plugins`) validates them when they register and merges them by name.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from ganzoo.data import ImageData, ItemData, UnpairedData
    from ganzoo.losses import GANLoss
    from ganzoo.model import GANModel


@dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about its data to size its networks."""

    channels: int  # 1 for grayscale, 3 for colour
    height: int
    width: int
    num_classes: int = 0  # 0 when the data carries no class labels
    input_channels: int = 0  # paired data: channels of the input image (0: no input image)
    input_height: int = 0  # paired data: size of the input image (e.g. the low-resolution one)
    input_width: int = 0
    vocabulary: tuple[str, ...] = ()  # captioned data: the words of the training captions (token id = index + 2)
    text_dim: int = 0  # captioned data with precomputed caption embeddings: their size

    def shape(self, key: str) -> tuple[int, int, int]:
        """(channels, height, width) of the images under batch key ``key`` ("image" or "input")."""
        if key == "input":
            return self.input_channels, self.input_height, self.input_width
        return self.channels, self.height, self.width


def square_images(size: int, channels: int) -> DataInfo | None:
    """The data most models are tried on in registry-driven tests: labelled square images."""
    return DataInfo(channels, size, size, num_classes=10)


@dataclass(frozen=True)
class ModelSpec:
    """A GAN variant: ``build(config, info)`` returns a :class:`ganzoo.model.GANModel`.

    ``config`` is a dataclass type with a default for every field; a zoo entry's
    ``model_options`` are checked against it (unknown keys and wrong types are errors).
    ``tiny_options`` and ``example_data`` serve registry-driven tests (ganzoo's, and a
    plugin's own): the options of a model small enough for a few CPU steps, and the data
    the model takes at a given image side and channel count (``None``: that size is not
    supported, and building the model for it must raise a one-line ``ValueError``).
    ``reference_loop`` serves ``benchmarks/speed.py``: ``reference_loop(entry, model, data,
    device)`` returns ``train(n)``, which trains the model's networks ``n`` steps the way the
    variant's well-known public implementation does (its data pipeline, its losses, its
    per-step host reads), so that ganzoo's loop is timed against it on the same networks.
    """

    name: str
    build: Callable[[Any, DataInfo], GANModel]
    config: type
    description: str = ""
    tiny_options: dict[str, Any] = field(default_factory=dict)
    example_data: Callable[[int, int], DataInfo | None] = square_images
    reference_loop: Callable[..., Callable[[int], None]] | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: ``load(options, root, split)`` returns its ``split``.

    The result is a :class:`ganzoo.data.ImageData` (held in memory, batched on the
    device), a :class:`ganzoo.data.UnpairedData` (in-memory domains drawn independently)
    or a :class:`ganzoo.data.ItemData` (read item by item by loader workers).
    ``options`` is an instance of ``config`` built from the entry's ``dataset_options``;
    ``root`` is the data directory (``--data-dir``, ``$GANZOO_DATA`` or ``~/.cache/ganzoo``);
    ``split`` is one of ``splits``: ``"train"`` for training, ``"val"`` or ``"test"``
    (held out) for evaluation.
    """

    name: str
    load: Callable[[Any, Path, str], ImageData | UnpairedData | ItemData]
    config: type
    description: str = ""
    splits: tuple[str, ...] = ("train",)
    tiny_options: dict[str, Any] = field(default_factory=dict)  # a few small items, for registry-driven tests
    features: str = ""  # the feature extractor `ganzoo evaluate --features auto` uses ("": ganzoo chooses by the data)
    license: str = ""  # the data's licence, for model cards (e.g. "Apache-2.0", "CC BY-SA 3.0", "research use only")
    citation: str = ""  # how to cite the data (authors, year, title)

    @property
    def eval_split(self) -> str | None:
        """The held-out split evaluation uses: ``val`` if there is one, else ``test``."""
        return next((s for s in ("val", "test") if s in self.splits), None)


@dataclass(frozen=True)
class LossSpec:
    """An adversarial loss: ``build(options)`` returns a :class:`ganzoo.losses.GANLoss`."""

    name: str
    build: Callable[[Any], GANLoss]
    config: type
    description: str = ""


@dataclass(frozen=True)
class FeatureExtractorSpec:
    """A feature network for sample-quality metrics: ``build(context)`` returns a
    :class:`ganzoo.plugin.FeatureExtractor` (images in [-1, 1] -> features, logits).

    ``context`` is a :class:`ganzoo.plugin.FeatureContext`: the entry, the registry,
    the data directory, the ``--weights`` path and the device.
    """

    name: str
    build: Callable[[Any], Any]
    description: str = ""


@dataclass(frozen=True)
class LoggerSpec:
    """A place runs are recorded while they train (``--logger NAME``, ``train.loggers``):
    ``build(options)`` returns a :class:`ganzoo.plugin.Logger`; ``options`` is the entry's
    ``train.logger_options[NAME]`` (a dict, empty by default). ``extra`` names the pip
    extra (or package) the logger needs, for the message shown when it is missing.
    """

    name: str
    build: Callable[[dict[str, Any]], Any]
    description: str = ""
    extra: str = ""


@dataclass(frozen=True)
class CommandSpec:
    """A ``ganzoo`` sub-command contributed by a plugin (e.g. ``ganzoo translate``).

    ``configure(parser)`` adds its arguments to an ``argparse`` sub-parser; ``run(args)``
    does the work and returns the exit status. Raise :class:`ganzoo.GanzooError` for user
    errors: the command line prints them as one line.
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


@dataclass(frozen=True)
class TrainConfig:
    """Trainer settings of a zoo entry (the ``train:`` block)."""

    batch_size: int = 64
    steps: int = 0  # generator updates; 0 means "use epochs" (or phase_steps)
    epochs: int = 0  # passes over the data; used when steps is 0
    lr_g: float = 2e-4  # Adam's rate for generator groups (every group no phase lists as a discriminator group)
    lr_d: float = 2e-4  # ... for discriminator groups
    betas: tuple[float, float] = (0.5, 0.999)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # per parameter group: {NAME: {lr, betas, weight_decay}}
    d_steps: int = 1  # discriminator updates per generator update
    lr_decay_steps: int = 0  # learning rates fall linearly to 0 over the run's last N steps (pix2pix's n_epochs_decay); 0: constant
    seed: int = 0
    precision: str = "fp32"  # fp32 | bf16 | fp16 | auto
    phase_precision: dict[str, str] = field(default_factory=dict)  # a phase's own precision, e.g. {pretrain: auto}; the others: precision
    ema: float = 0.0  # decay of the generators' moving average; 0 switches it off
    ema_networks: tuple[str, ...] = ()  # the networks averaged (names the model declares); empty: every generator
    ema_start: int = 0  # steps before the average starts following the generator
    log_every: int = 50  # steps between progress updates (and non-finite checks)
    sample_every: int = 500  # steps between sample grids; 0 only at the end
    checkpoint_every: int = 1000  # steps between checkpoints; 0 only at the end
    grid_size: int = 64  # images in each sample grid
    workers: int = -1  # loader processes for item datasets; -1: 0 on the CPU, up to 8 on an accelerator
    phase_steps: dict[str, int] = field(default_factory=dict)  # steps of each of the model's phases, e.g. {pretrain: 1000, adversarial: 2000}
    eval_batches: int = 0  # held-out batches evaluated at the end (0: the whole split)
    eval_samples: int = 0  # generators: FID/KID/precision/recall of this many samples at the end (0: off; `ganzoo evaluate` later)
    channels_last: bool = True  # channels-last memory format on CUDA (tensor cores) and CPUs (oneDNN); ignored on MPS
    compile: bool | str = False  # torch.compile the networks (true, or a mode: reduce-overhead = CUDA graphs); eager where it fails
    sync_batchnorm: bool = False  # torchrun on GPUs: batch-norm statistics over all processes' batches
    keep_checkpoints: int = 2  # checkpoints kept: last.pt and the K - 1 before it (checkpoints/step_NNNNNNN.pt)
    max_loss: float = 1e6  # a loss above this stops the run as diverged (0: no bound)
    saturated_intervals: int = 20  # log intervals in a row with the discriminator's outputs saturated that stop the run (0: off)
    stop_signals: tuple[str, ...] = ("SIGTERM", "SIGINT", "SIGUSR1")  # finish the step, checkpoint, exit "interrupted"
    loggers: tuple[str, ...] = ()  # where the run is recorded besides its own history.jsonl: tensorboard, mlflow, a plugin's
    logger_options: dict[str, dict[str, Any]] = field(default_factory=dict)  # per logger: {mlflow: {experiment: ..., log_model: true}}

    def precision_setting(self, phase: str) -> str:
        """The precision phase ``phase`` is set to train in: its own (``phase_precision``),
        else ``precision``; ``auto`` until the device resolves it."""
        return self.phase_precision.get(phase, self.precision)

    def __post_init__(self) -> None:
        if self.steps <= 0 and self.epochs <= 0 and not self.phase_steps:
            raise ValueError("set train.steps, train.epochs or train.phase_steps")
        if any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in self.phase_steps.values()):
            raise ValueError("train.phase_steps must map phase names to step counts (integers >= 0)")
        for key, value in (("precision", self.precision), *((f"phase_precision.{k}", v) for k, v in self.phase_precision.items())):
            if value not in PRECISIONS:
                raise ValueError(f"train.{key} must be {', '.join(PRECISIONS[:-1])} or {PRECISIONS[-1]}, not '{short(value)}'")
        for name in ("batch_size", "d_steps", "log_every", "keep_checkpoints"):
            check_range(f"train.{name}", getattr(self, name), 1)
        for name in ("steps", "epochs", "seed", "lr_decay_steps", "ema_start", "sample_every", "checkpoint_every", "eval_batches",
                     "eval_samples", "saturated_intervals"):
            check_range(f"train.{name}", getattr(self, name), 0)
        check_range("train.grid_size", self.grid_size, 1, 1024)
        check_range("train.workers", self.workers, -1, 64)
        check_range("train.batch_size", self.batch_size, 1, 1 << 16)
        check_rate("train.lr_g", self.lr_g)
        check_rate("train.lr_d", self.lr_d)
        check_betas("train.betas", self.betas)
        check_range("train.ema", self.ema, 0.0, 1.0, high_open=True)
        check_range("train.max_loss", self.max_loss, 0.0, math.inf, high_open=True)
        if isinstance(self.compile, str) and self.compile not in COMPILE_MODES:
            raise ValueError(f"train.compile must be true, false or a torch.compile mode ({', '.join(COMPILE_MODES)}), "
                             f"not '{short(self.compile)}'")
        unknown = [s for s in self.stop_signals if s not in STOP_SIGNALS]
        if unknown:
            raise ValueError(f"train.stop_signals: '{short(unknown[0])}' is not one of {', '.join(STOP_SIGNALS)}")
        if not all(isinstance(name, str) and name for name in self.loggers):
            raise ValueError("train.loggers must be a list of logger names, e.g. [tensorboard, mlflow]")
        for name, options in self.logger_options.items():
            if not isinstance(options, dict):
                raise ValueError(f"train.logger_options.{short(name)} must be a mapping of that logger's options")
        for group, settings in self.groups.items():
            if not isinstance(settings, dict) or set(settings) - GROUP_SETTINGS:
                raise ValueError(f"train.groups.{short(group)} must be a mapping of {', '.join(sorted(GROUP_SETTINGS))}")
            if "lr" in settings:
                check_rate(f"train.groups.{group}.lr", settings["lr"])
            if "betas" in settings:
                check_betas(f"train.groups.{group}.betas", settings["betas"])
            if "weight_decay" in settings:
                check_range(f"train.groups.{group}.weight_decay", settings["weight_decay"], 0.0, 1.0)


STOP_SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1", "SIGUSR2", "SIGHUP")  # what train.stop_signals may name
PRECISIONS = ("fp32", "bf16", "fp16", "auto")  # what train.precision and train.phase_precision may name
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs")  # torch.compile's modes


def short(value: Any, limit: int = 60) -> str:
    """A bounded ``repr`` of ``value`` for an error message (never the whole of a huge value)."""
    import reprlib

    r = reprlib.Repr()
    r.maxlevel, r.maxlist, r.maxdict, r.maxstring, r.maxother = 2, 4, 4, limit, limit
    text = value if isinstance(value, str) else str(value) if isinstance(value, BaseException) else r.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_range(key: str, value: Any, low: float, high: float = math.inf, *, high_open: bool = False) -> None:
    """Raise a one-line ``ValueError`` naming ``key`` and the allowed range unless ``low <= value <= high``
    (``< high`` with ``high_open``); NaN is never in range."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    inside = number and not math.isnan(value) and low <= value and (value < high if high_open else value <= high)
    if not inside:
        top = "" if high == math.inf else (f" and below {high:g}" if high_open else f" and at most {high:g}")
        raise ValueError(f"{key} must be at least {low:g}{top}, got {short(value)}")


def check_rate(key: str, value: Any) -> None:
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not (number and math.isfinite(value) and value > 0):
        raise ValueError(f"{key} must be a finite number above 0, got {short(value)}")


def check_betas(key: str, value: Any) -> None:
    if not (isinstance(value, (list, tuple)) and len(value) == 2):
        raise ValueError(f"{key} must be two numbers in [0, 1), got {short(value)}")
    for beta in value:
        check_range(key, beta, 0.0, 1.0, high_open=True)


GROUP_SETTINGS = {"lr", "betas", "weight_decay"}  # what train.groups may set per parameter group


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
    reference: dict[str, Any] = field(default_factory=dict)  # figures measured with these defaults, and when/where ('measured')
    pretrained: dict[str, str] = field(default_factory=dict)  # published weights: {weights: hf://owner/name@rev, sha256: ...}
    source: str = ""  # the file (or plugin) the entry came from

    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML- and checkpoint-safe), without the ``source`` bookkeeping."""
        data = dataclasses.asdict(self)
        data.pop("source")
        data["train"]["betas"] = list(self.train.betas)
        return data
