"""ganzoo: a model zoo for generative adversarial networks, built around plugins.

The front door is small: :func:`list_entries`, :func:`load_entry`, :func:`train`,
:func:`sample`, :func:`translate`, :func:`load_checkpoint`, :func:`evaluate`,
:func:`load_registry`. Plugins import from :mod:`ganzoo.plugin` (re-exported here where
sensible: :data:`hookimpl`, the specs, :class:`GANModel`, the errors).
"""

from __future__ import annotations

import importlib
from typing import Any

from ganzoo._version import __version__
from ganzoo.errors import CheckpointError, ConfigError, DataError, GanzooError, NonFiniteLossError, PluginError

# the rest is imported on first use (PEP 562): `ganzoo --version` and `--help` need neither torch nor a plugin
_LAZY = {
    **dict.fromkeys(("evaluate", "export", "list_entries", "load_checkpoint", "load_entry", "load_pretrained", "push", "sample",
                    "train", "translate"), "ganzoo.api"),
    **dict.fromkeys(("CommandSpec", "DataInfo", "DatasetSpec", "LossSpec", "ModelSpec", "TrainConfig", "ZooEntry"), "ganzoo.specs"),
    **dict.fromkeys(("GANLoss", "GANModel", "ImageData", "ItemData", "Phase", "StepOutput", "UnpairedData", "hookimpl",
                     "save_images"), "ganzoo.plugin"),
    "load_registry": "ganzoo.plugins",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'ganzoo' has no attribute '{name}'")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "CheckpointError", "CommandSpec", "ConfigError", "DataError", "DataInfo", "DatasetSpec", "GANLoss", "GANModel",
    "GanzooError", "ImageData", "ItemData", "LossSpec", "ModelSpec", "NonFiniteLossError", "Phase", "PluginError", "StepOutput",
    "TrainConfig", "UnpairedData", "ZooEntry", "__version__", "evaluate", "export", "hookimpl", "list_entries", "load_checkpoint", "load_pretrained", "push",
    "load_entry", "load_registry", "sample", "save_images", "train", "translate",
]
