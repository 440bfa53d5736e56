"""The SRGAN model (Ledig et al. 2017): SRResNet + VGG-style discriminator, in two phases.

Phase ``pretrain`` trains the generator alone with the pixel MSE (SRResNet); phase
``adversarial`` adds the discriminator, with the generator's loss = content loss +
``adversarial_weight`` x adversarial loss. The content loss is the MSE of VGG19 feature
maps (``content: vgg``, the paper's SRGAN-VGG54) or of the pixels (``content: pixel``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.plugin import Batch, Capabilities, DataInfo, Direction, GANLoss, GANModel, Phase, StepOutput, check_range, init_normal_, paired_scores
from ganzoo_srgan.features import ContentFeatures
from ganzoo_srgan.networks import Discriminator, SRResNet


@dataclass(frozen=True)
class SRGANConfig:
    scale: int = 4  # upscaling factor: 2, 4 or 8
    blocks: int = 16  # residual blocks of the generator
    g_channels: int = 64  # generator width
    bicubic_skip: bool = False  # add the output to the bicubic upsampling (not in the paper; converges much faster)
    d_channels: int = 64  # discriminator width of its first layer (8x at the last)
    d_dense: int = 1024  # width of the discriminator's dense layer
    content: str = "vgg"  # vgg: MSE of VGG feature maps (SRGAN-VGG); pixel: MSE of the pixels
    feature_net: str = "vgg19"  # vgg19 (torchvision) or timm:NAME (any timm backbone)
    vgg_layer: int = 54  # vgg19: 22 or 54 (after conv2_2 / conv5_4); timm: the feature stage index
    vgg_weights: str = ""  # a local weights file; empty: torch's / timm's cache (downloaded when online)
    feature_scale: float = 0.0784  # features are multiplied by this (1 / 12.75, as in the paper)
    adversarial_weight: float = 1e-3  # weight of the adversarial term in the generator's loss

    def __post_init__(self) -> None:
        for name in ("blocks", "g_channels", "d_channels", "d_dense"):
            check_range(f"model_options.{name}", getattr(self, name), 1, 8192)
        check_range("model_options.feature_scale", self.feature_scale, 0.0)
        check_range("model_options.adversarial_weight", self.adversarial_weight, 0.0)
        if self.scale not in (2, 4, 8):
            raise ValueError(f"model_options.scale must be 2, 4 or 8, not {self.scale}")
        if self.content not in ("vgg", "pixel"):
            raise ValueError(f"model_options.content must be 'vgg' or 'pixel', not '{self.content}'")


class SRGAN(GANModel):
    """A translator from ``input`` (low resolution) to ``image`` (``scale`` x larger) that
    takes inputs of any size: ``ganzoo upscale`` tiles large ones."""

    capabilities = Capabilities(generates=False, directions=(Direction("upscale"),), any_size=True)
    phases = (Phase("pretrain", generator_groups=("g",), discriminator_groups=()), Phase("adversarial"))

    def __init__(self, config: SRGANConfig, info: DataInfo) -> None:
        super().__init__()
        if not info.input_channels:
            raise ValueError("SRGAN needs paired data: low-resolution 'input' and high-resolution 'image'")
        if info.height != info.input_height * config.scale or info.width != info.input_width * config.scale:
            raise ValueError(f"model_options.scale is {config.scale} but the data pairs {info.input_height}x{info.input_width} "
                             f"inputs with {info.height}x{info.width} images: set dataset_options.scale to match")
        self.config = config
        self.scale = config.scale
        self.generator = SRResNet(config.scale, info.channels, config.g_channels, config.blocks, config.bicubic_skip)
        self.discriminator = Discriminator(info.channels, config.d_channels, config.d_dense)
        self.discriminator.apply(init_normal_)
        self._content: ContentFeatures | None = None  # not a submodule: not in checkpoints

    def setup_training(self) -> None:
        if self.config.content == "vgg":
            c = self.config
            object.__setattr__(self, "_content", ContentFeatures(c.feature_net, c.vgg_layer, c.vgg_weights, c.feature_scale))

    # ------------------------------------------------------------ the adversarial step

    def discriminator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        fake = self.generator(batch["input"])
        self.keep_fakes(fake)  # the generator's update of this step reuses them (same batch)
        return self.judge(batch["image"], fake.detach(), loss)

    def generator_loss(self, batch: Batch, loss: GANLoss) -> StepOutput:
        kept = self.take_fakes(len(batch["input"]))
        sr, hr = kept[0] if kept is not None else self.generator(batch["input"]), batch["image"]
        mse = F.mse_loss(sr, hr)
        if self.phase == "pretrain":
            return StepOutput(mse, {"mse": mse.detach()})
        content = mse if self._content is None else F.mse_loss(*self._features(sr, hr))
        adversarial = loss.generator(self.discriminator(sr))
        total = content + self.config.adversarial_weight * adversarial
        return StepOutput(total, {"g_loss": adversarial.detach(), "content": content.detach(), "mse": mse.detach()})

    def _features(self, sr: Tensor, hr: Tensor) -> tuple[Tensor, Tensor]:
        net = self._content.to(sr.device)
        with torch.no_grad():
            target = net(hr)
        return net(sr), target

    # ------------------------------------------------------------ using the model

    def receptive_radius(self, direction: str | None = None) -> int:
        return self.generator.receptive_radius()

    def bicubic(self, lr: Tensor) -> Tensor:
        """The classical baseline: bicubic upsampling, clamped to [-1, 1]."""
        return F.interpolate(lr, scale_factor=self.scale, mode="bicubic", align_corners=False).clamp(-1, 1)

    def preview_inputs(self, examples: Batch, n: int, rng: torch.Generator) -> Batch:
        n = min(n, 8)
        return {"input": examples["input"][:n], "image": examples["image"][:n]}

    def preview(self, inputs: Batch) -> Tensor:
        """(bicubic | SRGAN | original) side by side."""
        lr, hr = inputs["input"], inputs["image"]
        return torch.cat([self.bicubic(lr), self.translate(lr).clamp(-1, 1), hr], dim=3)

    def preview_columns(self) -> int:
        return 1

    def evaluate_batch(self, batch: Batch, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
        """PSNR / SSIM on the Y channel with ``scale`` border pixels cropped (the SR
        literature's convention), for the model and for bicubic upsampling."""
        lr, hr = batch["input"], batch["image"]
        options = {"y_channel": True, "border": self.scale}
        return {**paired_scores(outputs["upscale"], hr, **options), **paired_scores(self.bicubic(lr), hr, prefix="bicubic_", **options)}
