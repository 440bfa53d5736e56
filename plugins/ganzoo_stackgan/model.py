"""The StackGAN model: text -> Stage-I sketch -> Stage-II image, trained in three phases.

Phase ``text`` learns the caption embedding jointly with an image encoder (a symmetric
contrastive loss over the batch: each image must pick its own caption and vice versa),
as StackGAN's embeddings came from a joint image-text model (Reed et al. 2016). Phase
``stage1`` trains the Stage-I generator and discriminator on the frozen embedding; phase
``stage2`` trains Stage II on top of the frozen Stage I. Each discriminator is
matching-aware: a real image with its caption is real; a generated image with that
caption, and a real image with another image's caption, are fake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.plugin import (
    AUXILIARY, DISCRIMINATOR, GENERATOR, Batch, Capabilities, ConfigError, DataInfo, GANLoss, GANModel, Phase, StepOutput,
    check_range, init_normal_,
)
from ganzoo_stackgan.networks import ImageEncoder, MatchingDiscriminator, StackGenerator, TextEncoder
from ganzoo_stackgan.text import encode


@dataclass(frozen=True)
class StackGANConfig:
    latent_dim: int = 64  # noise vector z
    text_dim: int = 128  # caption embedding
    condition_dim: int = 32  # the sampled condition (conditioning augmentation)
    g_channels: int = 32  # generator width
    d_channels: int = 32  # discriminator width of its first layer
    kl_weight: float = 1.0  # weight of the conditioning augmentation's KL term
    temperature: float = 0.1  # of the contrastive loss of the joint embedding
    max_words: int = 12  # tokens per caption when sampling from text
    init_std: float = 0.02

    def __post_init__(self) -> None:
        for name in ("latent_dim", "text_dim", "condition_dim", "g_channels", "d_channels", "max_words"):
            check_range(f"model_options.{name}", getattr(self, name), 1, 4096)
        check_range("model_options.kl_weight", self.kl_weight, 0.0)
        check_range("model_options.temperature", self.temperature, 1e-6, 100.0)
        check_range("model_options.init_std", self.init_std, 0.0, 1.0)


class StackGAN(GANModel):
    networks = {"text": AUXILIARY, "image_encoder": AUXILIARY, "generator": GENERATOR,
                "discriminator1": DISCRIMINATOR, "discriminator2": DISCRIMINATOR}
    capabilities = Capabilities(condition="text")
    phases = (Phase("text", generator_groups=("text",), discriminator_groups=()),
              Phase("stage1", generator_groups=("g1",), discriminator_groups=("d1",)),
              Phase("stage2", generator_groups=("g2",), discriminator_groups=("d2",)))
    phase = "stage2"  # a model built outside training samples from both stages

    def __init__(self, config: StackGANConfig, info: DataInfo) -> None:
        super().__init__()
        if not info.vocabulary and not info.text_dim:
            raise ValueError("StackGAN needs captioned data: a dataset with 'caption' token ids or 'embedding' vectors")
        if info.height != info.width:
            raise ValueError(f"StackGAN needs square images, got {info.height}x{info.width}")
        self.config = config
        self.latent_dim = config.latent_dim
        self.vocabulary = info.vocabulary
        self.text = TextEncoder(len(info.vocabulary), config.text_dim, info.text_dim)
        self.image_encoder = ImageEncoder(info.channels, config.text_dim)
        self.generator = StackGenerator(config.latent_dim, config.text_dim, config.condition_dim, info.channels,
                                        info.height, config.g_channels)
        self.discriminator1 = MatchingDiscriminator(info.channels, info.height // 4, config.d_channels, config.text_dim)
        self.discriminator2 = MatchingDiscriminator(info.channels, info.height, config.d_channels, config.text_dim)
        self.apply(lambda m: init_normal_(m, config.init_std))

    @property
    def stage(self) -> int:
        return 1 if self.phase == "stage1" else 2

    @property
    def discriminator(self) -> nn.Module:  # the current stage's (the penalty of a loss such as WGAN-GP uses it)
        return self.discriminator1 if self.stage == 1 else self.discriminator2

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        g = self.generator
        return {
            "text": [*self.text.parameters(), *self.image_encoder.parameters()],
            "d1": list(self.discriminator1.parameters()),
            "g1": [*g.ca1.parameters(), *g.stage1.parameters()],
            "d2": list(self.discriminator2.parameters()),
            "g2": [*g.ca2.parameters(), *g.stage2.parameters()],
        }

    # ------------------------------------------------------------ text

    def embed(self, batch: Batch) -> Tensor:
        """One caption per image, drawn among its K captions: (B, text_dim) embeddings."""
        texts = batch["caption"] if "caption" in batch else batch["embedding"]  # (B, K, L) ids or (B, K, D)
        pick = torch.randint(0, texts.shape[1], (texts.shape[0],), device=texts.device)
        return self.text(texts[torch.arange(texts.shape[0], device=texts.device), pick])

    def encode_text(self, texts: Sequence[str]) -> tuple[Tensor, list[str]]:
        """Embeddings (N, text_dim) of free-text captions, and the words the vocabulary lacks."""
        if self.text.precomputed:
            raise ConfigError("this model was trained on precomputed caption embeddings: it cannot read text")
        ids, unknown = encode(list(texts), self.vocabulary, self.config.max_words)
        device = next(self.parameters()).device
        return self.text(ids.to(device)), unknown

    def _images(self, batch: Batch) -> Tensor:
        real = batch["image"]
        return F.avg_pool2d(real, 4) if self.stage == 1 else real  # Stage I learns the 4x smaller image

    # ------------------------------------------------------------ the adversarial step

    def discriminator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        real = self._images(batch)
        embedding = self.embed(batch).detach()  # the text encoder is frozen in the stages
        fake, kl = self.generator(self.sample_latent(len(real), real.device), embedding, self.stage, return_kl=True)
        self.keep_fakes(fake, kl, embedding)  # one generator forward and one caption per step, as the official trainer
        fake = fake.detach()
        d = self.discriminator
        wrong = embedding.roll(1, dims=0)  # each image with its neighbour's caption
        real_logits, fake_logits, wrong_logits = d(real, embedding), d(fake, embedding), d(real, wrong)
        # matching-aware: log D(real, right) + [log(1 - D(fake, right)) + log(1 - D(real, wrong))] / 2
        d_loss = 0.5 * (loss.discriminator(real_logits, fake_logits) + loss.discriminator(real_logits, wrong_logits))
        diagnostics = {"d_real": real_logits.detach().mean(), "d_fake": fake_logits.detach().mean(),
                       "d_wrong": wrong_logits.detach().mean()}
        return StepOutput(d_loss, {"d_loss": d_loss.detach()}, diagnostics)

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        if self.phase == "text":
            return self.joint_embedding_loss(batch)
        n = batch["image"].shape[0]
        kept = self.take_fakes(n)  # the discriminator's step's fakes, with their graph
        if kept is not None:
            fake, kl, embedding = kept
        else:
            embedding = self.embed(batch).detach()
            fake, kl = self.generator(self.sample_latent(n, embedding.device), embedding, self.stage, return_kl=True)
        adversarial = loss.generator(self.discriminator(fake, embedding))
        kl = kl.mean()
        return StepOutput(adversarial + self.config.kl_weight * kl, {"g_loss": adversarial.detach(), "kl": kl.detach()})

    def joint_embedding_loss(self, batch: Batch) -> StepOutput:
        """Symmetric InfoNCE between the batch's images and one caption of each."""
        text = F.normalize(self.embed(batch), dim=1)
        image = F.normalize(self.image_encoder(batch["image"]), dim=1)
        logits = text @ image.T / self.config.temperature  # (B, B): caption i against image j
        target = torch.arange(len(logits), device=logits.device)
        contrastive = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
        accuracy = (logits.argmax(1) == target).float().mean()
        return StepOutput(contrastive, {"text_loss": contrastive.detach()}, {"text_match": accuracy})

    # ------------------------------------------------------------ sampling and previews

    def sample(self, n: int, condition: Tensor | None = None, *, rng: torch.Generator | None = None,
               latent: Tensor | None = None) -> Tensor:
        """``n`` images for caption embeddings ``condition`` (n, text_dim), at the current
        stage's resolution upsampled to the full size."""
        if condition is None:
            raise ConfigError("StackGAN draws images for captions: pass --text \"...\" or --captions FILE")
        z = self.sample_latent(n, condition.device, rng) if latent is None else latent
        images = self.generator(z, condition, self.stage)
        return F.interpolate(images, scale_factor=4, mode="nearest") if self.stage == 1 else images

    def evaluation_condition(self, batch: Batch) -> Tensor:
        """One of each real image's captions, embedded: samples for the captions of the real set."""
        return self.embed(batch)

    def preview_inputs(self, examples: Batch, n: int, rng: torch.Generator) -> Batch:
        """Fixed noise and the first caption of held-out images spread over the data."""
        texts = examples["caption"] if "caption" in examples else examples["embedding"]
        texts = texts[:, 0].repeat_interleave(-(-n // len(texts)), dim=0)[:n]
        return {"latent": self.sample_latent(n, torch.device("cpu"), rng).to(texts.device), "text": texts}

    def preview(self, inputs: Batch) -> Tensor:
        return self.sample(len(inputs["latent"]), self.text(inputs["text"]), latent=inputs["latent"])

    def preview_columns(self) -> int:
        return 0
