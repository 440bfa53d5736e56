"""CycleGAN's networks (Zhu, Park, Isola & Efros 2017, arXiv:1703.10593, appendix 7.2).

The generator is Johnson et al.'s ResNet: c7s1-w, d2w, d4w, R4w x blocks, u2w, uw,
c7s1-C (reflection padding, instance norm, ReLU; tanh at the end). The discriminator is
the 70x70 PatchGAN of pix2pix: C64-C128-C256-C512 (instance norm from the second layer,
LeakyReLU 0.2), then one logit per patch; ``layers`` sets how many strided layers (3:
70x70 patches; fewer for small images).
"""

from __future__ import annotations

from torch import Tensor, nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), nn.InstanceNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, width: int = 64, blocks: int = 9, downsamplings: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7), nn.InstanceNorm2d(width), nn.ReLU(True)]
        c = width
        for _ in range(downsamplings):  # (B, c, H, W) -> (B, 2c, H/2, W/2)
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1), nn.InstanceNorm2d(2 * c), nn.ReLU(True)]
            c *= 2
        layers += [ResidualBlock(c) for _ in range(blocks)]
        for _ in range(downsamplings):  # (B, c, h, w) -> (B, c/2, 2h, 2w)
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1), nn.InstanceNorm2d(c // 2), nn.ReLU(True)]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)  # (B, out_channels, H, W) in [-1, 1]


class PatchDiscriminator(nn.Module):
    def __init__(self, channels: int, width: int = 64, layers: int = 3) -> None:
        super().__init__()
        body: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for i in range(1, layers + 1):  # strided, then one stride-1 layer as in pix2pix's n_layers_D
            nxt = width * min(2**i, 8)
            body += [nn.Conv2d(c, nxt, 4, 2 if i < layers else 1, 1), nn.InstanceNorm2d(nxt), nn.LeakyReLU(0.2, True)]
            c = nxt
        body += [nn.Conv2d(c, 1, 4, 1, 1)]
        self.net = nn.Sequential(*body)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(x).flatten(1)  # (B, patches) logits
