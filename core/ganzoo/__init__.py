"""ganzoo: a model zoo for generative adversarial networks, built around plugins.

The public API is small: :func:`list_entries`, :func:`load_entry`, :func:`train`,
:func:`sample`, :func:`load_checkpoint`, :func:`evaluate`; plugins use :data:`hookimpl` and the types in
:mod:`ganzoo.specs`, :class:`GANModel` and :class:`GANLoss`.
"""

__version__ = "0.1.0"

from ganzoo.hookspecs import hookimpl  # noqa: E402  (first: plugins import it from here)
from ganzoo.errors import (  # noqa: E402
    CheckpointError,
    ConfigError,
    DataError,
    GanzooError,
    NonFiniteLossError,
    PluginError,
)
from ganzoo.specs import CommandSpec, DatasetSpec, DataInfo, LossSpec, ModelSpec, TrainConfig, ZooEntry  # noqa: E402
from ganzoo.losses import GANLoss  # noqa: E402
from ganzoo.model import GANModel, Phase, StepOutput  # noqa: E402
from ganzoo.data import ImageData, ItemData  # noqa: E402
from ganzoo.plugins import load_registry  # noqa: E402
from ganzoo.api import evaluate, list_entries, load_checkpoint, load_entry, sample, save_images, train  # noqa: E402

__all__ = [
    "CheckpointError", "CommandSpec", "ConfigError", "DataError", "DataInfo", "DatasetSpec", "GANLoss", "GANModel",
    "GanzooError", "ImageData", "ItemData", "LossSpec", "ModelSpec", "NonFiniteLossError", "Phase", "PluginError", "StepOutput",
    "TrainConfig", "ZooEntry", "evaluate", "hookimpl", "list_entries", "load_checkpoint", "load_entry", "load_registry",
    "sample", "save_images", "train",
]
