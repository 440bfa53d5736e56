"""Adversarial losses, and the built-in plugin that registers them.

A loss sees discriminator *logits* (never probabilities), so each is numerically
stable and autocast-safe. ``penalty`` lets a loss add a regulariser that needs the
discriminator itself, which is how a plugin adds WGAN-GP without touching the core.

Scale conventions (each is a mean over the batch; a model adds its other terms, e.g.
``l1_weight * L1``, to ``loss.generator(...)`` with weight 1 on the adversarial term):

=========  =========================================  ===========================================
loss       discriminator                              generator
=========  =========================================  ===========================================
``bce``    softplus(-D(x)) + softplus(D(G(z)))        softplus(-D(G(z)))  (non-saturating)
``lsgan``  ½(D(x) - 1)² + ½D(G(z))²                   w·(D(G(z)) - 1)², w = ``generator_weight``
``hinge``  relu(1 - D(x)) + relu(1 + D(G(z)))         -D(G(z))
=========  =========================================  ===========================================

LSGAN's ``generator_weight`` is ½ as in Mao et al. (2017); CycleGAN's and pix2pix's
code use the plain mean squared error, ``generator_weight: 1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.hookspecs import hookimpl
from ganzoo.specs import LossSpec, check_range


class GANLoss:
    """Base class: the discriminator's and the generator's adversarial loss, from logits.

    ``discriminator(real_logits, fake_logits)`` is minimised by the discriminator,
    ``generator(fake_logits)`` by the generator; both are means over the batch.
    ``discriminator_step`` is the number of discriminator steps of the run before the
    current one (``step * d_steps + i``, going on across a resume), set by the loop through
    :meth:`start_discriminator_step`: a penalty applied on some steps only reads it.
    """

    discriminator_step: int = 0

    def start_discriminator_step(self, step: int) -> None:
        """Called by the loop before each discriminator step."""
        self.discriminator_step = step

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

    def saturated(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor | None:
        """0-d bool: the discriminator's outputs sit at their targets (it tells every real
        from every fake with certainty, and the generator's gradient fades); None where
        the loss has no such targets (hinge, Wasserstein)."""
        return None


SATURATED_GAP = 0.98  # mean output on reals minus mean output on fakes, in the targets' [0, 1] scale


@dataclass(frozen=True)
class BCEConfig:
    label_smoothing: float = 0.0  # one-sided: real targets become 1 - label_smoothing
    r1_gamma: float = 0.0  # R1 penalty (Mescheder et al. 2018): gamma/2 * E|grad D(x)|^2 on reals; 0: off
    r1_every: int = 1  # lazy R1 (Karras et al. 2020): the penalty on every r1_every-th discriminator step, times r1_every

    def __post_init__(self) -> None:
        check_range("loss_options.label_smoothing", self.label_smoothing, 0.0, 1.0, high_open=True)
        check_range("loss_options.r1_gamma", self.r1_gamma, 0.0, 1e6)
        check_range("loss_options.r1_every", self.r1_every, 1, 1e6)


class NonSaturatingBCE(GANLoss):
    """Goodfellow et al. 2014: -log D(x) - log(1 - D(G(z))) for the discriminator (on logits:
    softplus(-D(x)) + softplus(D(G(z)))), and the non-saturating -log D(G(z)) for the generator."""

    def __init__(self, config: BCEConfig) -> None:
        self.real_target = 1.0 - config.label_smoothing
        self.r1_gamma = config.r1_gamma
        self.r1_every = config.r1_every

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        real = F.binary_cross_entropy_with_logits(real_logits, real_logits.new_full(real_logits.shape, self.real_target))
        fake = F.softplus(fake_logits).mean()  # -log(1 - D(x))
        return real + fake

    def generator(self, fake_logits: Tensor) -> Tensor:
        return F.softplus(-fake_logits).mean()  # -log D(G(z))

    def penalty(self, discriminator: Callable[..., Tensor] | nn.Module, real: Tensor, fake: Tensor,
                real_labels: Tensor | None, fake_labels: Tensor | None) -> Tensor | None:
        """R1: the squared norm of the discriminator's gradient at the real images, which
        makes the non-saturating game converge near its equilibrium (Mescheder et al. 2018).
        It costs one more discriminator pass and its double backward per step; lazily
        (``r1_every`` > 1, as in StyleGAN2) only on the discriminator steps 0, ``r1_every``,
        2 ``r1_every``, ... of the run, weighted ``r1_every`` times."""
        if not self.r1_gamma or self.discriminator_step % self.r1_every:
            return None
        x = real.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(discriminator(x, real_labels).sum(), x, create_graph=True)
        return 0.5 * self.r1_gamma * self.r1_every * grad.flatten(1).float().pow(2).sum(1).mean()

    def saturated(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return real_logits.float().sigmoid().mean() - fake_logits.float().sigmoid().mean() > SATURATED_GAP


@dataclass(frozen=True)
class NoOptions:
    pass


@dataclass(frozen=True)
class LSGANConfig:
    generator_weight: float = 0.5  # the generator's term is generator_weight * (D(G(z)) - 1)^2: 1/2 in the paper, 1 in CycleGAN's code


class LeastSquares(GANLoss):
    """Mao et al. 2017 (LSGAN): targets 1 for real, 0 for fake; the discriminator's loss is
    ½(D(x) - 1)² + ½D(G(z))², the generator's ``generator_weight`` x (D(G(z)) - 1)²."""

    def __init__(self, config: LSGANConfig) -> None:
        self.generator_weight = config.generator_weight

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * ((real_logits - 1).pow(2).mean() + fake_logits.pow(2).mean())

    def generator(self, fake_logits: Tensor) -> Tensor:
        return self.generator_weight * (fake_logits - 1).pow(2).mean()

    def saturated(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return real_logits.float().mean() - fake_logits.float().mean() > SATURATED_GAP


class Hinge(GANLoss):
    """Lim & Ye 2017 / Miyato et al. 2018: relu(1 - D(x)) + relu(1 + D(G(z))) for the
    discriminator, -D(G(z)) for the generator (unbounded: keep D Lipschitz, e.g. spectral norm)."""

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
        LossSpec("lsgan", LeastSquares, LSGANConfig, "least squares (Mao et al. 2017)"),
        LossSpec("hinge", Hinge, NoOptions, "hinge (Lim & Ye 2017)"),
    ]
