"""The Pix2Pix model: a conditional GAN with an L1 term (Isola et al. 2017).

The discriminator judges (input, image) pairs, so the generator must produce an image
that is both realistic and consistent with its input; the L1 term ties the output to
the target at low frequencies, the PatchGAN to high-frequency realism.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ganzoo import ConfigError, DataInfo, GANLoss, GANModel, StepOutput
from ganzoo.metrics import mean_image_baseline, paired_scores
from ganzoo.model import Batch, init_normal_
from ganzoo_pix2pix.networks import PatchDiscriminator, UNetGenerator


@dataclass(frozen=True)
class Pix2PixConfig:
    g_channels: int = 64  # U-Net width of the outermost stage; doubles per stage up to 8x
    d_channels: int = 64  # PatchGAN width of its first layer
    depth: int = 0  # U-Net stages; 0: as many as the image side allows, at most 8 (256 -> 8)
    d_layers: int = 3  # PatchGAN strided layers: 3 gives 70x70 patches, 2 gives 34x34, 1 gives 16x16
    norm: str = "batch"  # batch | instance
    dropout: float = 0.5  # dropout of the first three decoder layers (the noise source); 0: none
    l1_weight: float = 100.0  # lambda of the L1 term
    init_std: float = 0.02  # N(0, init_std) weights, as in the paper

    def __post_init__(self) -> None:
        if self.norm not in ("batch", "instance"):
            raise ValueError(f"model_options.norm must be 'batch' or 'instance', not '{self.norm}'")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("model_options.dropout must be in [0, 1)")


class Pix2Pix(GANModel):
    paired = True
    latent_dim = 0

    def __init__(self, config: Pix2PixConfig, info: DataInfo) -> None:
        super().__init__()
        if not info.input_channels:
            raise ValueError("pix2pix needs paired data: a dataset with 'input' and 'image' images")
        if (info.input_height, info.input_width) != (info.height, info.width):
            raise ValueError(f"pix2pix needs inputs and targets of one size, got {info.input_height}x{info.input_width} "
                             f"and {info.height}x{info.width}")
        self.l1_weight = config.l1_weight
        self.input_channels = info.input_channels
        self.generator = UNetGenerator(info.input_channels, info.channels, (info.height, info.width), config.g_channels,
                                       config.depth, config.norm, config.dropout)
        self.discriminator = PatchDiscriminator(info.input_channels + info.channels, config.d_channels, config.d_layers, config.norm)
        self.apply(lambda m: init_normal_(m, config.init_std))

    # ------------------------------------------------------------ the adversarial step

    def discriminator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        source, target = batch["input"], batch["image"]
        fake = self.generator(source)
        self.keep_fakes(fake)  # the generator's update of this step reuses them (same batch)
        fake = fake.detach()
        # the pairs (input, target) and (input, output); halved as in the paper: D learns slower than G
        return self.judge(torch.cat([source, target], 1), torch.cat([source, fake], 1), loss, scale=0.5)

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        source, target = batch["input"], batch["image"]
        kept = self.take_fakes(len(source))
        fake = kept[0] if kept is not None else self.generator(source)
        adversarial = loss.generator(self.discriminator(torch.cat([source, fake], 1)))
        l1 = (fake - target).abs().mean()
        return StepOutput(adversarial + self.l1_weight * l1, {"g_loss": adversarial.detach(), "l1": l1.detach()})

    # ------------------------------------------------------------ using the model

    def translate(self, source: Tensor, net: nn.Module | None = None) -> Tensor:
        """Outputs (B, C, H, W) in [-1, 1] for inputs (B, C', H, W) in [-1, 1]."""
        return (net or self.generator)(source)

    def sample(self, n: int, labels: Tensor | None = None, **kwargs) -> Tensor:
        raise ConfigError("pix2pix translates input images rather than sampling from noise: use 'ganzoo translate'")

    def preview_inputs(self, examples: Batch, n: int, rng: torch.Generator) -> Batch:
        n = min(n, 16)  # rows of (input, output, target) triplets
        return {"input": examples["input"][:n], "image": examples["image"][:n]}

    def preview(self, inputs: Batch, net: nn.Module | None = None) -> Tensor:
        """(input | output | target) side by side, one triplet per image."""
        source, target = inputs["input"], inputs["image"]
        output = self.translate(source, net)
        shown = source.expand(-1, target.shape[1], -1, -1) if source.shape[1] == 1 else source[:, : target.shape[1]]
        return torch.cat([shown, output, target], dim=3)  # (B, C, H, 3W)

    def preview_columns(self) -> int:
        return 0

    def paired_outputs(self, batch: Batch, net: nn.Module | None = None) -> tuple[Tensor, Tensor]:
        return self.translate(batch["input"], net), batch["image"]

    def evaluate_batch(self, batch: Batch, net: nn.Module | None = None) -> dict[str, Tensor]:
        """L1, PSNR and SSIM of the outputs, and of two baselines: the input itself
        (identity) and the mean target of the batch (the best constant guess)."""
        source, target = batch["input"], batch["image"]
        return {
            **paired_scores(self.translate(source, net), target),
            **paired_scores(source, target, prefix="identity_"),
            **paired_scores(mean_image_baseline(target), target, prefix="mean_"),
        }
