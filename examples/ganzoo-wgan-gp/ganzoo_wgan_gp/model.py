"""A DCGAN-shaped generator and a critic without batch norm, sized by the data."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from ganzoo.plugin import DataInfo, GANModel


@dataclass(frozen=True)
class WGANGPModelConfig:
    latent_dim: int = 64  # size of the noise vector
    g_channels: int = 64  # generator width next to the output
    d_channels: int = 64  # critic width of its first layer
    critic_norm: str = "layer"  # layer (the paper's recommendation) | none; never batch norm

    def __post_init__(self) -> None:
        if self.critic_norm not in ("layer", "none"):
            raise ValueError(f"model_options.critic_norm must be 'layer' or 'none', not '{self.critic_norm}'")


def _halvings(size: int) -> int:
    """2x stages down to a 4..7 pixel base (28 -> 7 takes 2, 32 -> 4 takes 3)."""
    stages = 0
    while size % 2 == 0 and size // 2 >= 4:
        size, stages = size // 2, stages + 1
    if stages == 0:
        raise ValueError(f"image side {size} cannot be halved to a small base")
    return stages


class Generator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        stages = _halvings(size)
        self.base, self.top = size // 2**stages, width * 2 ** (stages - 1)
        self.project = nn.Sequential(nn.Linear(latent_dim, self.top * self.base**2), nn.BatchNorm1d(self.top * self.base**2), nn.ReLU(True))
        layers: list[nn.Module] = []
        c = self.top
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.BatchNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(self.project(z).view(-1, self.top, self.base, self.base))


class Critic(nn.Module):
    def __init__(self, channels: int, size: int, width: int, norm: str) -> None:
        super().__init__()
        stages = _halvings(size)
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        c = width
        for _ in range(stages - 1):
            layers += [nn.Conv2d(c, 2 * c, 4, 2, 1), nn.GroupNorm(1, 2 * c) if norm == "layer" else nn.Identity(), nn.LeakyReLU(0.2)]
            c *= 2
        layers += [nn.Flatten(), nn.Linear(c * (size // 2**stages) ** 2, 1)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten()  # (B,) scores


class WGANGP(GANModel):
    def __init__(self, config: WGANGPModelConfig, info: DataInfo) -> None:
        super().__init__()
        self.latent_dim = config.latent_dim
        self.generator = Generator(config.latent_dim, info.channels, info.height, config.g_channels)
        self.discriminator = Critic(info.channels, info.height, config.d_channels, config.critic_norm)
