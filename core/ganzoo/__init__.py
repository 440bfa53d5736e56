"""ganzoo: a model zoo for generative adversarial networks, built around plugins.

The front door is small: :func:`list_entries`, :func:`load_entry`, :func:`train`,
:func:`sample`, :func:`translate`, :func:`load_checkpoint`, :func:`evaluate`,
:func:`load_registry`. Plugins import from :mod:`ganzoo.plugin` (re-exported here where
sensible: :data:`hookimpl`, the specs, :class:`GANModel`, the errors).
"""

from ganzoo._version import __version__
from ganzoo.api import evaluate, list_entries, load_checkpoint, load_entry, sample, train, translate
from ganzoo.plugin import (
    CheckpointError, CommandSpec, ConfigError, DataError, DataInfo, DatasetSpec, GANLoss, GANModel, GanzooError, ImageData,
    ItemData, LossSpec, ModelSpec, Phase, PluginError, StepOutput, TrainConfig, UnpairedData, ZooEntry, hookimpl, save_images,
)
from ganzoo.errors import NonFiniteLossError
from ganzoo.plugins import load_registry

__all__ = [
    "CheckpointError", "CommandSpec", "ConfigError", "DataError", "DataInfo", "DatasetSpec", "GANLoss", "GANModel",
    "GanzooError", "ImageData", "ItemData", "LossSpec", "ModelSpec", "NonFiniteLossError", "Phase", "PluginError", "StepOutput",
    "TrainConfig", "UnpairedData", "ZooEntry", "__version__", "evaluate", "hookimpl", "list_entries", "load_checkpoint",
    "load_entry", "load_registry", "sample", "save_images", "train", "translate",
]
