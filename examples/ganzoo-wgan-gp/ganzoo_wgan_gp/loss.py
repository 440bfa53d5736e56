"""The Wasserstein loss with gradient penalty.

The critic's output is a score, not a logit: the critic minimises E[D(fake)] - E[D(real)],
the generator minimises -E[D(fake)], and the penalty keeps the critic 1-Lipschitz along
straight lines between real and fake samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ganzoo.plugin import GANLoss


@dataclass(frozen=True)
class WGANGPConfig:
    penalty_weight: float = 10.0  # lambda
    drift: float = 0.0  # epsilon * E[D(real)^2], keeps scores near 0 (Karras et al. 2018); 0: off


class WassersteinGP(GANLoss):
    def __init__(self, config: WGANGPConfig) -> None:
        self.config = config

    def discriminator(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        loss = fake_logits.mean() - real_logits.mean()
        if self.config.drift:
            loss = loss + self.config.drift * real_logits.pow(2).mean()
        return loss

    def generator(self, fake_logits: Tensor) -> Tensor:
        return -fake_logits.mean()

    def penalty(self, discriminator, real: Tensor, fake: Tensor, real_labels: Tensor | None, fake_labels: Tensor | None) -> Tensor:
        """lambda * E[(|grad D(x_hat)|_2 - 1)^2], x_hat uniformly between a real and a fake sample."""
        eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
        mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        scores = discriminator(mixed, real_labels)
        (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
        norms = grad.flatten(1).float().norm(2, dim=1)
        return self.config.penalty_weight * (norms - 1).pow(2).mean()
