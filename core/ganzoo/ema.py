"""Moving averages of a model's generators (``train.ema``), for sampling.

One ``torch.optim.swa_utils.AveragedModel`` per averaged network, held in a module so
that its state dict is flat (checkpoints, tests). Sampling during training swaps the
averages into the model (:meth:`EMA.applied`); loading a checkpoint for sampling copies
them into the model's networks, so a loaded model samples from the averages as it is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ganzoo.errors import ConfigError
from ganzoo.model import GENERATOR, GANModel


def averaged_names(model: GANModel, chosen: Sequence[str] = ()) -> list[str]:
    """The networks to average: ``chosen`` (checked against the model's declaration), or
    every generator the model declares."""
    if not chosen:
        return list(model.named_networks(GENERATOR))
    unknown = [name for name in chosen if name not in model.networks]
    if unknown:
        raise ConfigError(f"train.ema_networks names networks the model does not declare: {unknown} "
                          f"(it has: {', '.join(model.networks)})")
    return list(chosen)


class EMA(nn.Module):
    """Exponential moving averages (decay ``decay``) of ``model``'s networks ``names``."""

    def __init__(self, model: GANModel, names: Sequence[str], decay: float = 0.999) -> None:
        super().__init__()
        avg_fn = get_ema_multi_avg_fn(decay)
        self.averages = nn.ModuleDict({name: AveragedModel(getattr(model, name), multi_avg_fn=avg_fn, use_buffers=True)
                                       for name in names})

    def update(self, model: GANModel, follow: bool = False) -> None:
        """One step of the averages; with ``follow``, copy the networks instead (``train.ema_start``)."""
        for name, average in self.averages.items():
            if follow:
                average.module.load_state_dict(getattr(model, name).state_dict())
            else:
                average.update_parameters(getattr(model, name))

    @contextlib.contextmanager
    def applied(self, model: GANModel) -> Iterator[GANModel]:
        """``model`` with the averaged networks in place of its own, for the block's duration."""
        originals = {name: getattr(model, name) for name in self.averages}
        for name, average in self.averages.items():
            setattr(model, name, average.module)
        try:
            yield model
        finally:
            for name, module in originals.items():
                setattr(model, name, module)

    def copy_into(self, model: GANModel) -> None:
        """Load the averaged weights into ``model``'s networks (a model kept for sampling)."""
        for name, average in self.averages.items():
            getattr(model, name).load_state_dict(average.module.state_dict())
