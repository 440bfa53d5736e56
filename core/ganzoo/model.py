"""The model interface: a GAN variant owns its networks and its adversarial step.

The trainer owns devices, precision, optimizers, stepping, hooks and checkpoints; a
:class:`GANModel` says what the losses of one batch are, what its preview grid shows and
what it measures on held-out data. The defaults below are the standard (optionally
class-conditional) GAN from noise, which most image GANs reuse as is; a model with other
needs (paired data, extra loss terms) overrides the methods concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ganzoo.losses import GANLoss

Batch = dict[str, Tensor]  # e.g. {"image": (B, C, H, W) in [-1, 1], "label": (B,)}


@dataclass(frozen=True)
class Phase:
    """A stage of training: which parameter groups are updated, by which step.

    The loop runs the model's phases in order, each for its ``train.phase_steps`` steps,
    and calls ``model.set_phase(name)`` when one begins. Groups not listed are frozen for
    the phase. With no discriminator groups, the phase has no discriminator step (e.g.
    SRGAN's MSE warm-up of its generator); a later phase may freeze an earlier stage
    (e.g. StackGAN's Stage II with Stage I fixed).
    """

    name: str
    generator_groups: tuple[str, ...] = ("g",)
    discriminator_groups: tuple[str, ...] = ("d",)


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
    paired: bool = False  # True: maps an input image to a target; previews and scores use held-out pairs
    phases: tuple[Phase, ...] = (Phase("adversarial"),)  # training stages, in order
    phase: str = "adversarial"  # the current one (set by the loop through set_phase)

    def setup_training(self) -> None:
        """Load what only training needs (e.g. a perceptual-loss network and its weights).

        Called by the trainer after the model is built and before anything is written, so
        a missing file fails early; not called when a checkpoint is loaded for sampling.
        """

    def set_phase(self, name: str) -> None:
        """Called by the loop when phase ``name`` begins (and on resume); losses may depend on it."""
        self.phase = name

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
        fake_labels = self.sample_labels(real.shape[0], real.device)
        fake = self.sample(real.shape[0], fake_labels)  # with its graph when the generator trains this step
        self.keep_fakes(fake, fake_labels)
        return self.judge(real, fake.detach(), loss, real_labels, fake_labels)

    def keep_fakes(self, fake: Tensor, *extra: Tensor | None) -> None:
        """Keep the fakes of this step's discriminator update (and ``extra``, e.g. their labels)
        for the generator's update: one generator forward per step, as in the DCGAN paper's
        loop. Only fakes with a graph (the generator trains in this phase) are kept."""
        self._fakes = (fake, *extra) if fake.requires_grad else None

    def take_fakes(self, n: int) -> tuple[Tensor, ...] | None:
        """What :meth:`keep_fakes` kept in this step (once), or ``None``: no discriminator
        update came before, or it drew a different number of fakes."""
        fakes, self._fakes = getattr(self, "_fakes", None), None
        return fakes if fakes is not None and fakes[0].shape[0] == n else None

    def judge(self, real: Tensor, fake: Tensor, loss: GANLoss, real_labels: Tensor | None = None,
              fake_labels: Tensor | None = None, scale: float = 1.0) -> StepOutput:
        """The discriminator's loss on ``real`` and ``fake`` inputs (times ``scale``), plus the
        loss's penalty term, with the usual metrics: the core of every discriminator step."""
        real_logits = self.discriminator(real, real_labels)
        fake_logits = self.discriminator(fake, fake_labels)
        d_loss = scale * loss.discriminator(real_logits, fake_logits)
        metrics = {"d_loss": d_loss.detach(), "d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean()}
        penalty = loss.penalty(self.discriminator, real, fake, real_labels, fake_labels)
        if penalty is not None:
            d_loss = d_loss + penalty
            metrics["d_penalty"] = penalty.detach()
        return StepOutput(d_loss, metrics)

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        """Loss of the generator on the fakes of the discriminator's step just before (or as
        many fresh ones as the batch has images)."""
        n = batch["image"].shape[0]
        fakes = self.take_fakes(n)
        if fakes is not None:
            fake, labels = fakes
        else:
            labels = self.sample_labels(n, batch["image"].device)
            fake = self.sample(n, labels)
        fake_logits = self.discriminator(fake, labels)
        g_loss = loss.generator(fake_logits)
        return StepOutput(g_loss, {"g_loss": g_loss.detach()})

    def encode_text(self, texts: Sequence[str]) -> tuple[Tensor, list[str]]:
        """Conditions (N, ...) for free-text captions, and the words the model does not know.

        Text-conditional models (StackGAN) override it; ``ganzoo sample --text`` uses it.
        """
        from ganzoo.errors import ConfigError

        raise ConfigError(f"model {type(self).__name__} does not take a text condition: drop --text / --captions")

    # ------------------------------------------------------------ previews and evaluation

    def preview_inputs(self, examples: Batch, n: int, rng: torch.Generator) -> Batch:
        """Fixed inputs of the run's preview grids, drawn once per run.

        ``examples`` holds the first (at most ``n``) items of the held-out split (or of the
        training split), plain and on the device. The default draws ``n`` noise vectors
        from ``rng`` (on the CPU, so they do not depend on the device) and, for a
        conditional model, cycles through the classes.
        """
        device = examples["image"].device
        inputs = {"latent": self.sample_latent(n, torch.device("cpu"), rng).to(device)}
        if self.num_classes:
            inputs["label"] = torch.arange(n, device=device) % self.num_classes
        return inputs

    def preview(self, inputs: Batch, net: nn.Module | None = None) -> Tensor:
        """The preview images (N, C, H, W) in [-1, 1] for ``inputs`` from :meth:`preview_inputs`."""
        return self.sample(len(inputs["latent"]), inputs.get("label"), net=net, latent=inputs["latent"])

    def preview_columns(self) -> int:
        """Images per row of a preview grid (0: a square grid)."""
        return self.num_classes if 0 < self.num_classes <= 16 else 0

    def evaluation_condition(self, batch: Batch) -> Tensor | None:
        """The condition of one sample per real item of ``batch`` (``labels`` of :meth:`sample`),
        so that sample-quality metrics compare like with like: the batch's class labels for a
        class-conditional model, ``None`` for an unconditional one. Text-conditional models
        return the items' caption embeddings."""
        return batch["label"] if self.num_classes else None

    def paired_outputs(self, batch: Batch, net: nn.Module | None = None) -> tuple[Tensor, Tensor] | None:
        """Paired models: ``(outputs, targets)`` of a held-out batch, both in [-1, 1], for
        metrics computed over whole batches (LPIPS); ``None`` for models without targets."""
        return None

    def evaluate_batch(self, batch: Batch, net: nn.Module | None = None) -> dict[str, Tensor]:
        """Per-item scores (each a (B,) tensor) of the model on a held-out batch.

        The trainer averages them over the held-out split at the end of a run and writes
        them to ``metrics.json``. Paired models (image-to-image, super-resolution) compare
        their outputs with the targets here; the default has nothing to compare and
        returns ``{}`` (sample-quality metrics such as FID are computed by ``ganzoo
        evaluate`` from samples).
        """
        return {}

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters of each optimizer, by group name: names starting with ``d`` use
        ``lr_d``, the others ``lr_g``. Phases name the groups they update."""
        return {"d": list(self.discriminator.parameters()), "g": list(self.generator.parameters())}


def init_normal_(module: nn.Module, std: float = 0.02) -> None:
    """The DCGAN initialisation, used by most image GANs: weights of convolutions and linear
    layers from N(0, std), biases 0, normalisation scales from N(1, std). Apply with
    ``model.apply(lambda m: init_normal_(m, std))``."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, std)
        nn.init.zeros_(module.bias)
