"""Building what an entry names: its dataset splits, its model and its loss, through the
plugins that registered them (the one place that calls a spec's ``load`` / ``build``)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from ganzoo.data import DATASET_TYPES, Dataset
from ganzoo.errors import ConfigError, DataError
from ganzoo.losses import GANLoss
from ganzoo.model import ROLES, GANModel
from ganzoo.paths import data_root
from ganzoo.plugins import Registry
from ganzoo.specs import DataInfo, ZooEntry, short


def load_data(registry: Registry, entry: ZooEntry, data_dir: str | Path | None = None, split: str = "train") -> Dataset:
    """The ``split`` of the entry's dataset, loaded by the plugin that registered it."""
    spec = registry.spec("dataset", entry.dataset)
    if split not in spec.splits:
        raise DataError(f"dataset '{entry.dataset}' has no '{split}' split (it has: {', '.join(spec.splits)})")
    try:
        data = spec.load(spec.config(**entry.dataset_options), data_root(data_dir), split)
    except ValueError as e:  # what a dataset raises for options it cannot serve
        raise ConfigError(f"entry '{entry.name}', dataset '{entry.dataset}': {short(e, 300)}") from e
    if not isinstance(data, DATASET_TYPES):
        raise DataError(f"dataset '{entry.dataset}' loaded a {type(data).__name__}, not ganzoo ImageData, UnpairedData or ItemData")
    return data


def build_model(registry: Registry, entry: ZooEntry, info: DataInfo) -> GANModel:
    """The entry's model, sized for data described by ``info``; its declared networks checked."""
    spec = registry.spec("model", entry.model)
    try:
        model = spec.build(spec.config(**entry.model_options), info)
    except ValueError as e:  # what ModelSpec asks a model to raise for a size or option it does not support
        raise ConfigError(f"entry '{entry.name}', model '{entry.model}': {short(e, 300)}") from e
    if not isinstance(model, GANModel):
        raise ConfigError(f"model '{entry.model}' built a {type(model).__name__}, not a ganzoo GANModel")
    for name, role in model.networks.items():
        if role not in ROLES:
            raise ConfigError(f"model '{entry.model}' declares network '{name}' with role '{role}' (roles: {', '.join(ROLES)})")
        if not isinstance(getattr(model, name, None), nn.Module):
            raise ConfigError(f"model '{entry.model}' declares network '{name}' but has no such submodule")
    return model


def build_loss(registry: Registry, entry: ZooEntry) -> GANLoss:
    """The entry's adversarial loss with its options."""
    spec = registry.spec("loss", entry.loss)
    loss = spec.build(spec.config(**entry.loss_options))
    if not isinstance(loss, GANLoss):
        raise ConfigError(f"loss '{entry.loss}' built a {type(loss).__name__}, not a GANLoss: a loss plugin's class must subclass ganzoo.GANLoss")
    return loss
