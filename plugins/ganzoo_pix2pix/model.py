"""The Pix2Pix model: a conditional GAN with an L1 term (Isola et al. 2017).

The discriminator judges (input, image) pairs, so the generator must produce an image
that is both realistic and consistent with its input; the L1 term ties the output to
the target at low frequencies, the PatchGAN to high-frequency realism.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ganzoo.plugin import TRANSLATOR, Batch, DataInfo, GANLoss, GANModel, StepOutput, check_range, init_normal_
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
        for name in ("g_channels", "d_channels"):
            check_range(f"model_options.{name}", getattr(self, name), 1, 4096)
        check_range("model_options.depth", self.depth, 0, 8)
        check_range("model_options.d_layers", self.d_layers, 1, 8)
        check_range("model_options.l1_weight", self.l1_weight, 0.0)
        check_range("model_options.init_std", self.init_std, 0.0, 1.0)
        if self.norm not in ("batch", "instance"):
            raise ValueError(f"model_options.norm must be 'batch' or 'instance', not '{self.norm}'")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("model_options.dropout must be in [0, 1)")


class Pix2Pix(GANModel):
    """Translates ``input`` into ``image``; previews, ``ganzoo translate`` and the held-out
    scores (L1 / PSNR / SSIM beside the identity and mean-image baselines) are the core's."""

    capabilities = TRANSLATOR

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
