"""The model interface: a GAN variant owns its networks and its adversarial step.

The trainer owns devices, precision, optimizers, stepping, hooks and checkpoints; a
:class:`GANModel` says what the losses of one batch are. The default step below is the
standard (optionally class-conditional) GAN step, which most image GANs reuse as is;
a model with other needs (paired data, extra loss terms) overrides the two loss methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ganzoo.losses import GANLoss

Batch = dict[str, Tensor]  # e.g. {"image": (B, C, H, W) in [-1, 1], "label": (B,)}


@dataclass
class StepOutput:
    """The loss to minimise for one update, plus named scalars to log (0-d tensors)."""

    loss: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)


class GANModel(nn.Module):
    """Base class of every model in the zoo.

    Subclasses set ``self.generator`` (called as ``generator(z, labels)``) and
    ``self.discriminator`` (called as ``discriminator(images, labels)``, returning logits),
    ``latent_dim`` and ``num_classes`` (0 when unconditional).
    """

    generator: nn.Module
    discriminator: nn.Module
    latent_dim: int
    num_classes: int = 0

    # ------------------------------------------------------------ sampling

    def sample_latent(self, n: int, device: torch.device, rng: torch.Generator | None = None) -> Tensor:
        """Noise for ``n`` samples: (n, latent_dim) standard normal."""
        return torch.randn(n, self.latent_dim, device=device, generator=rng)

    def sample_labels(self, n: int, device: torch.device, rng: torch.Generator | None = None) -> Tensor | None:
        """Uniformly drawn class labels for ``n`` samples, or None when unconditional."""
        if not self.num_classes:
            return None
        return torch.randint(0, self.num_classes, (n,), device=device, generator=rng)

    def sample(
        self,
        n: int,
        labels: Tensor | None = None,
        *,
        rng: torch.Generator | None = None,
        net: nn.Module | None = None,
        latent: Tensor | None = None,
    ) -> Tensor:
        """``n`` images in [-1, 1].

        ``net`` replaces the generator (e.g. its moving average); ``latent`` fixes the noise.
        """
        device = next(self.generator.parameters()).device
        if labels is None:
            labels = self.sample_labels(n, device, rng)
        z = self.sample_latent(n, device, rng) if latent is None else latent
        return (net or self.generator)(z, labels)

    # ------------------------------------------------------------ the adversarial step

    def discriminator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        """Loss of the discriminator on a batch of real data and as many fresh fakes."""
        real = batch["image"]
        real_labels = batch.get("label") if self.num_classes else None
        with torch.no_grad():
            fake_labels = self.sample_labels(real.shape[0], real.device)
            fake = self.sample(real.shape[0], fake_labels)
        real_logits = self.discriminator(real, real_labels)
        fake_logits = self.discriminator(fake, fake_labels)
        d_loss = loss.discriminator(real_logits, fake_logits)
        metrics = {"d_loss": d_loss.detach(), "d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        penalty = loss.penalty(self.discriminator, real, fake, real_labels, fake_labels)
        if penalty is not None:
            d_loss = d_loss + penalty
            metrics["d_penalty"] = penalty.detach()
        return StepOutput(d_loss, metrics)

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        """Loss of the generator on as many fresh fakes as the batch has images."""
        n = batch["image"].shape[0]
        device = batch["image"].device
        labels = self.sample_labels(n, device)
        fake_logits = self.discriminator(self.sample(n, labels), labels)
        g_loss = loss.generator(fake_logits)
        return StepOutput(g_loss, {"g_loss": g_loss.detach()})

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters of each optimizer: ``"d"`` uses ``lr_d``, ``"g"`` uses ``lr_g``."""
        return {"d": list(self.discriminator.parameters()), "g": list(self.generator.parameters())}
