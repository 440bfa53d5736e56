"""The DCGAN model: networks sized by the data, the standard GAN step from the core."""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.plugin import DataInfo, GANModel, check_range, init_normal_
from ganzoo_dcgan.networks import Discriminator, Generator


@dataclass(frozen=True)
class DCGANConfig:
    latent_dim: int = 100  # size of the noise vector z
    g_channels: int = 64  # generator width next to the output; doubles per stage inward
    d_channels: int = 64  # discriminator width of its first layer; doubles per stage
    label_dim: int = 50  # size of the class embedding (conditional variant only)
    init_std: float = 0.02  # N(0, init_std) weights, as in the paper
    pack: int = 1  # images the discriminator judges together (PacGAN); 1: the paper's DCGAN
    upsample: str = "transposed"  # generator's upsampling: transposed (the paper's) | nearest (+ 3x3 conv)
    g_extra_layers: int = 0  # stride-1 3x3 conv blocks before the generator's last upsampling
    d_extra_layers: int = 0  # stride-1 3x3 conv blocks after the discriminator's first layer

    def __post_init__(self) -> None:
        for name in ("latent_dim", "g_channels", "d_channels", "label_dim", "pack"):
            check_range(f"model_options.{name}", getattr(self, name), 1, 4096)
        check_range("model_options.init_std", self.init_std, 0.0, 1.0)
        if self.upsample not in ("transposed", "nearest"):
            raise ValueError(f"model_options.upsample must be transposed or nearest, not '{self.upsample}'")
        if min(self.g_extra_layers, self.d_extra_layers) < 0:
            raise ValueError("model_options.g_extra_layers and d_extra_layers must be at least 0")


class DCGAN(GANModel):
    def __init__(self, config: DCGANConfig, info: DataInfo, conditional: bool = False) -> None:
        super().__init__()
        if info.height != info.width:
            raise ValueError(f"DCGAN needs square images, got {info.height}x{info.width}")
        if conditional and not info.num_classes:
            raise ValueError("the conditional DCGAN needs a dataset with class labels")
        self.latent_dim = config.latent_dim
        self.num_classes = info.num_classes if conditional else 0
        self.generator = Generator(config.latent_dim, info.channels, info.height, config.g_channels, self.num_classes, config.label_dim,
                                   config.g_extra_layers, config.upsample)
        self.discriminator = Discriminator(info.channels, info.height, config.d_channels, self.num_classes, config.pack,
                                           config.d_extra_layers)
        self.apply(lambda m: init_normal_(m, config.init_std))
