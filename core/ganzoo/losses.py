"""Adversarial losses, and the built-in plugin that registers them.

A loss sees discriminator *logits* (never probabilities), so each is numerically
stable and autocast-safe. ``penalty`` lets a loss add a regulariser that needs the
discriminator itself, which is how a plugin adds WGAN-GP without touching the core.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.hookspecs import hookimpl
from ganzoo.specs import LossSpec


class GANLoss:
    """Base class: the discriminator's and the generator's adversarial loss."""

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        raise NotImplementedError

    def generator(self, fake_logits: Tensor) -> Tensor:
        raise NotImplementedError

    def penalty(
        self,
        discriminator: Callable[..., Tensor] | nn.Module,
        real: Tensor,
        fake: Tensor,
        real_labels: Tensor | None,
        fake_labels: Tensor | None,
    ) -> Tensor | None:
        """An extra discriminator term (e.g. a gradient penalty); None when there is none."""
        return None


@dataclass(frozen=True)
class BCEConfig:
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - label_smoothing


class NonSaturatingBCE(GANLoss):
    """Goodfellow et al. 2014, with the non-saturating generator loss -log D(G(z))."""

    def __init__(self, config: BCEConfig) -> None:
        self.real_target = 1.0 - config.label_smoothing

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        real = F.binary_cross_entropy_with_logits(real_logits, real_logits.new_full(real_logits.shape, self.real_target))
        fake = F.softplus(fake_logits).mean()  # -log(1 - D(x))
        return real + fake

    def generator(self, fake_logits: Tensor) -> Tensor:
        return F.softplus(-fake_logits).mean()  # -log D(G(z))


@dataclass(frozen=True)
class NoOptions:
    pass


class LeastSquares(GANLoss):
    """Mao et al. 2017 (LSGAN): targets 1 for real, 0 for fake."""

    def __init__(self, config: NoOptions) -> None:
        pass

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())

    def generator(self, fake_logits: Tensor) -> Tensor:
        return 0.5 * (fake_logits - 1).pow(2).mean()


class Hinge(GANLoss):
    """Lim & Ye 2017 / Miyato et al. 2018: hinge for the discriminator, -D(G(z)) for the generator."""

    def __init__(self, config: NoOptions) -> None:
        pass

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()

    def generator(self, fake_logits: Tensor) -> Tensor:
        return -fake_logits.mean()


@hookimpl
def ganzoo_register_losses() -> list[LossSpec]:
    return [
        LossSpec("bce", NonSaturatingBCE, BCEConfig, "non-saturating binary cross-entropy (Goodfellow et al. 2014)"),
        LossSpec("lsgan", LeastSquares, NoOptions, "least squares (Mao et al. 2017)"),
        LossSpec("hinge", Hinge, NoOptions, "hinge (Lim & Ye 2017)"),
    ]
