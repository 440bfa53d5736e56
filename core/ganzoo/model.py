"""The model interface: a GAN variant owns its networks and its adversarial step.

The trainer owns devices, precision, optimizers, stepping, the moving averages, hooks and
checkpoints; a :class:`GANModel` declares

- its **networks**, by attribute name and role (:data:`GENERATOR`, :data:`DISCRIMINATOR`,
  :data:`AUXILIARY` trained alongside, :data:`FROZEN` never trained), which the loop,
  the moving average, ``channels_last``, ``compile`` and checkpoints work from;
- its **capabilities** (:class:`Capabilities`): whether it generates from noise (and with
  which condition), which image translations it performs (:class:`Direction`), and
  whether it translates inputs of any size; ``ganzoo sample / translate / upscale /
  evaluate``, the previews and the end-of-run scores dispatch on them;
- what the losses of one batch are (:meth:`GANModel.discriminator_loss`,
  :meth:`GANModel.generator_loss`), in one or more training :class:`Phase` s.

The defaults below are the standard (optionally class-conditional) GAN from noise with
one generator and one discriminator, which most image GANs reuse as is, and the standard
one-generator translator; a model with other needs overrides the methods concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ganzoo.errors import ConfigError
from ganzoo.losses import GANLoss

Batch = dict[str, Tensor]  # e.g. {"image": (B, C, H, W) in [-1, 1], "label": (B,)}

GENERATOR = "generator"  # trained by generator updates; averaged by train.ema; what sampling and translating use
DISCRIMINATOR = "discriminator"  # trained by discriminator updates
AUXILIARY = "auxiliary"  # trained with the generators (an encoder, a mapping network, ...); not averaged
FROZEN = "frozen"  # part of the model and its checkpoints, never trained (requires_grad off)
ROLES = (GENERATOR, DISCRIMINATOR, AUXILIARY, FROZEN)


@dataclass(frozen=True)
class Phase:
    """A stage of training: which parameter groups are updated, by which step.

    The loop runs the model's phases in order, each for its ``train.phase_steps`` steps,
    and calls ``model.set_phase(name)`` when one begins. Groups not listed are frozen for
    the phase. With no discriminator groups, the phase has no discriminator step (e.g.
    SRGAN's MSE warm-up of its generator); a later phase may freeze an earlier stage
    (e.g. StackGAN's Stage II with Stage I fixed). A group listed among the discriminator
    groups of any phase takes ``train.lr_d`` by default, every other group ``train.lr_g``.
    """

    name: str
    generator_groups: tuple[str, ...] = ("g",)
    discriminator_groups: tuple[str, ...] = ("d",)


@dataclass
class StepOutput:
    """The loss to minimise for one update, plus named 0-d tensors to log: ``metrics`` are
    losses (plotted as loss curves), ``diagnostics`` anything else (mean logits, accuracies)."""

    loss: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)
    diagnostics: dict[str, Tensor] = field(default_factory=dict)
    saturated: Tensor | None = None  # discriminator steps: 0-d bool, its outputs sat at their targets (see GANLoss.saturated)


@dataclass(frozen=True)
class Direction:
    """One image translation a model performs: it reads batch key ``source`` and produces
    images of batch key ``target`` (held-out batches that hold both are its true pairs)."""

    name: str  # e.g. "a2b"; chosen with `ganzoo translate --direction NAME`
    source: str = "input"
    target: str = "image"


@dataclass(frozen=True)
class Capabilities:
    """What a model can do; the command line, previews and evaluation act on this alone."""

    generates: bool = True  # samples images from noise: sample(n, condition)
    condition: str = ""  # what sample() is conditioned on: "" (nothing), "class" (labels) or "text" (caption embeddings)
    directions: tuple[Direction, ...] = ()  # the image translations it performs: translate(images, direction)
    any_size: bool = False  # translates inputs of any size (fully convolutional); else inputs are resized to the training size

    @property
    def translates(self) -> bool:
        return bool(self.directions)

    def direction(self, name: str | None = None) -> Direction:
        """The direction called ``name`` (``None``: the only one, or the first)."""
        if not self.directions:
            raise ConfigError("this model does not translate images")
        if name is None:
            return self.directions[0]
        for direction in self.directions:
            if direction.name == name:
                return direction
        raise ConfigError(f"unknown direction '{name}' (this model translates: {', '.join(d.name for d in self.directions)})")


TRANSLATOR = Capabilities(generates=False, directions=(Direction("translate"),))  # one image in, one image out


class GANModel(nn.Module):
    """Base class of every model in the zoo.

    The defaults serve a model with ``self.generator`` (called as ``generator(z, labels)``
    for noise models, ``generator(images)`` for translators) and ``self.discriminator``
    (called as ``discriminator(images, labels)``, returning logits), ``latent_dim`` and
    ``num_classes`` (0 when unconditional). A model with other networks declares them in
    :attr:`networks` and overrides the methods that use them.
    """

    networks: dict[str, str] = {"generator": GENERATOR, "discriminator": DISCRIMINATOR}  # attribute name -> role
    latent_dim: int = 0
    num_classes: int = 0
    phases: tuple[Phase, ...] = (Phase("adversarial"),)  # training stages, in order
    phase: str = "adversarial"  # the current one (set by the loop through set_phase)

    @property
    def capabilities(self) -> Capabilities:
        """A class-conditional generator when ``num_classes`` is set, else an unconditional
        one. Subclasses set a :class:`Capabilities` of their own (e.g. :data:`TRANSLATOR`)."""
        return Capabilities(condition="class" if self.num_classes else "")

    def named_networks(self, *roles: str) -> dict[str, nn.Module]:
        """The declared networks with one of ``roles`` (all of them without), by name."""
        return {name: getattr(self, name) for name, role in self.networks.items() if not roles or role in roles}

    def setup_training(self) -> None:
        """Load what only training needs (e.g. a perceptual-loss network and its weights).

        Called by the trainer after the model is built and before anything is written, so
        a missing file fails early; not called when a checkpoint is loaded for sampling.
        """

    def set_phase(self, name: str) -> None:
        """Called by the loop when phase ``name`` begins (and on resume); losses may depend on it."""
        self.phase = name

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        """Parameters of each optimizer, by group name; phases name the groups they update.

        The default: ``"d"`` holds every discriminator, ``"g"`` every generator and
        auxiliary network. Per-group settings come from ``train.groups`` in the entry.
        """
        groups = {"d": [p for net in self.named_networks(DISCRIMINATOR).values() for p in net.parameters()],
                  "g": [p for net in self.named_networks(GENERATOR, AUXILIARY).values() for p in net.parameters()]}
        return {name: params for name, params in groups.items() if params}

    # ------------------------------------------------------------ training state that is not weights

    def training_state(self) -> dict[str, Any]:
        """State that training needs and sampling does not (a history pool of fakes, a
        running mean for a path-length penalty): tensors or plain data, stored in training
        checkpoints, handed back by :meth:`load_training_state` on ``--resume``, and left
        out of what sampling loads. Keep such state out of ``state_dict`` (plain attributes
        or ``register_buffer(..., persistent=False)``)."""
        return {}

    def load_training_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`training_state` returned (called on ``--resume``)."""

    # ------------------------------------------------------------ generating and translating

    def sample_latent(self, n: int, device: torch.device, rng: torch.Generator | None = None) -> Tensor:
        """Noise for ``n`` samples: (n, latent_dim) standard normal."""
        return torch.randn(n, self.latent_dim, device=device, generator=rng)

    def sample_labels(self, n: int, device: torch.device, rng: torch.Generator | None = None) -> Tensor | None:
        """Uniformly drawn class labels for ``n`` samples, or None when unconditional."""
        if not self.num_classes:
            return None
        return torch.randint(0, self.num_classes, (n,), device=device, generator=rng)

    def sample(self, n: int, condition: Tensor | None = None, *, rng: torch.Generator | None = None,
               latent: Tensor | None = None) -> Tensor:
        """``n`` images in [-1, 1] for ``condition`` (class labels (n,), text embeddings (n, D)
        or None; drawn at random when the model is class-conditional and none is given).
        ``latent`` fixes the noise."""
        if not self.capabilities.generates:
            raise ConfigError(f"model {type(self).__name__} translates images rather than sampling from noise: "
                              "use 'ganzoo translate'")
        device = next(self.generator.parameters()).device
        if condition is None:
            condition = self.sample_labels(n, device, rng)
        z = self.sample_latent(n, device, rng) if latent is None else latent
        return self.generator(z, condition)

    def translate(self, images: Tensor, direction: str | None = None) -> Tensor:
        """Outputs (B, C, H', W') in [-1, 1] for inputs (B, C', H, W) in [-1, 1], in
        ``direction`` (a name of ``capabilities.directions``; ``None``: the first)."""
        self.capabilities.direction(direction)
        return self.generator(images)

    def receptive_radius(self, direction: str | None = None) -> int:
        """How many input pixels around a pixel its output depends on: the overlap that
        makes tiled translation (``ganzoo upscale --tile``) equal a one-piece pass. 0:
        unknown (tiles then need ``--overlap``)."""
        return 0

    def encode_text(self, texts: Sequence[str]) -> tuple[Tensor, list[str]]:
        """Conditions (N, ...) for free-text captions, and the words the model does not know.

        Text-conditional models (``capabilities.condition == "text"``) override it.
        """
        raise ConfigError(f"model {type(self).__name__} does not take a text condition: drop --text / --captions")

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
              fake_labels: Tensor | None = None, scale: float = 1.0, discriminator: nn.Module | None = None,
              prefix: str = "d") -> StepOutput:
        """``discriminator``'s loss (default ``self.discriminator``) on ``real`` and ``fake``
        inputs, times ``scale``, plus the loss's penalty term, with the usual metrics named
        ``{prefix}_loss``, ``{prefix}_real``, ...: the core of every discriminator step."""
        discriminator = discriminator if discriminator is not None else self.discriminator
        real_logits = discriminator(real, real_labels)
        fake_logits = discriminator(fake, fake_labels)
        d_loss = scale * loss.discriminator(real_logits, fake_logits)
        metrics = {f"{prefix}_loss": d_loss.detach()}
        penalty = loss.penalty(discriminator, real, fake, real_labels, fake_labels)
        if penalty is not None:
            d_loss = d_loss + penalty
            metrics[f"{prefix}_penalty"] = penalty.detach()
        diagnostics = {f"{prefix}_real": real_logits.detach().mean(), f"{prefix}_fake": fake_logits.detach().mean()}
        return StepOutput(d_loss, metrics, diagnostics, loss.saturated(real_logits.detach(), fake_logits.detach()))

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
        g_loss = loss.generator(self.discriminator(fake, labels))
        return StepOutput(g_loss, {"g_loss": g_loss.detach()})

    # ------------------------------------------------------------ previews and evaluation

    def preview_inputs(self, examples: Batch, n: int, rng: torch.Generator) -> Batch:
        """Fixed inputs of the run's preview grids, drawn once per run.

        ``examples`` holds the first (at most ``n``) items of the held-out split (or of the
        training split), plain and on the device. For a generator the default draws ``n``
        noise vectors from ``rng`` (on the CPU, so they do not depend on the device) and,
        for a class-conditional one, cycles through the classes; for a translator it keeps
        up to 16 examples' sources (and targets, when the examples have them).
        """
        device = examples["image"].device
        if not self.capabilities.generates:
            keys = {key for d in self.capabilities.directions for key in (d.source, d.target)}
            return {key: examples[key][: min(n, 16)] for key in keys if key in examples}
        inputs = {"latent": self.sample_latent(n, torch.device("cpu"), rng).to(device)}
        if self.num_classes:
            inputs["label"] = torch.arange(n, device=device) % self.num_classes
        return inputs

    def preview(self, inputs: Batch) -> Tensor:
        """The preview images (N, C, H, W) in [-1, 1] for ``inputs`` from :meth:`preview_inputs`:
        samples, or for each direction rows of (input | output | target) side by side."""
        if self.capabilities.generates:
            return self.sample(len(inputs["latent"]), inputs.get("label"), latent=inputs["latent"])
        rows = []
        for d in self.capabilities.directions:
            shown = [inputs[d.source], self.translate(inputs[d.source], d.name)] + ([inputs[d.target]] if d.target in inputs else [])
            channels = max(t.shape[1] for t in shown)
            rows.append(torch.cat([t.expand(-1, channels, -1, -1) if t.shape[1] == 1 else t for t in shown], dim=3))
        return torch.cat(rows)

    def preview_columns(self) -> int:
        """Images per row of a preview grid (0: a square grid)."""
        if not self.capabilities.generates:
            return 0
        return self.num_classes if 0 < self.num_classes <= 16 else 0

    def evaluation_condition(self, batch: Batch) -> Tensor | None:
        """The condition of one sample per real item of ``batch`` (``condition`` of
        :meth:`sample`), so that sample-quality metrics compare like with like: the batch's
        class labels for a class-conditional model, ``None`` for an unconditional one.
        Text-conditional models return the items' caption embeddings."""
        return batch["label"] if self.num_classes else None

    def evaluate_batch(self, batch: Batch, outputs: dict[str, Tensor]) -> dict[str, Tensor] | None:
        """Per-item held-out scores (each a (B,) tensor) of a translator, from ``outputs``:
        its translation of ``batch`` in each direction, by direction name.

        ``None`` (the default) asks for the standard scores: L1, PSNR and SSIM of each
        direction's outputs against its targets, beside the identity and mean-image
        baselines. A model with its own conventions (super-resolution's Y channel and
        bicubic baseline) returns its own dict; ``ganzoo.plugin.paired_scores`` helps.
        """
        return None


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
