"""SRGAN networks (Ledig et al. 2017, arXiv:1609.04802).

The generator (SRResNet) works at the low resolution: a 9x9 convolution, ``blocks``
residual blocks (conv-BN-PReLU-conv-BN plus identity), a convolution whose output is
added to the first one's (the global skip), then one sub-pixel stage per factor of 2
(a convolution to 4x the channels, PixelShuffle, PReLU) and a final 9x9 convolution.

The discriminator is VGG-like: eight 3x3 convolutions (64 to 512 channels, every second
one strided, batch norm after the first, LeakyReLU 0.2), then two dense layers (the
features are pooled to 6x6 first, which is what a 96x96 crop gives in the paper, so any
crop size works) and one logit.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels), nn.PReLU(channels),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False), nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class SRResNet(nn.Module):
    """With ``bicubic_skip`` (not in the paper; VDSR's image-level residual, Kim et al. 2016)
    the network adds its output to the bicubic upsampling of its input and starts from it
    (the last layer is zero-initialised), so a short training can only improve on bicubic."""

    def __init__(self, scale: int = 4, channels: int = 3, width: int = 64, blocks: int = 16, bicubic_skip: bool = False) -> None:
        super().__init__()
        if scale not in (2, 4, 8):
            raise ValueError(f"the scale factor must be 2, 4 or 8, not {scale}")
        self.scale = scale
        self.blocks = blocks
        self.head = nn.Sequential(nn.Conv2d(channels, width, 9, 1, 4), nn.PReLU(width))
        self.body = nn.Sequential(*[ResidualBlock(width) for _ in range(blocks)])
        self.fuse = nn.Sequential(nn.Conv2d(width, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width))
        self.upsample = nn.Sequential(*[
            nn.Sequential(nn.Conv2d(width, 4 * width, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU(width))
            for _ in range(int(math.log2(scale)))
        ])
        self.tail = nn.Conv2d(width, channels, 9, 1, 4)
        self.bicubic_skip = bicubic_skip
        if bicubic_skip:
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    def forward(self, x: Tensor) -> Tensor:  # (B, C, h, w) in [-1, 1]
        h = self.head(x)  # (B, width, h, w)
        h = h + self.fuse(self.body(h))  # the global skip
        out = self.tail(self.upsample(h))  # (B, C, scale*h, scale*w)
        if self.bicubic_skip:
            out = out + F.interpolate(x, scale_factor=self.scale, mode="bicubic", align_corners=False)
        return out

    def receptive_radius(self) -> int:
        """How far (in input pixels) one output pixel sees: the overlap that makes tiling exact."""
        stages = int(math.log2(self.scale))
        high_res = sum(1 / 2**i for i in range(1, stages)) + 4 / self.scale  # the 3x3 after each shuffle but the last, the 9x9 tail
        return math.ceil(4 + 2 * self.blocks + 1 + stages * 1 + high_res)


class Discriminator(nn.Module):
    def __init__(self, channels: int = 3, width: int = 64, dense: int = 1024) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, 1, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for i in range(7):  # (stride 2, same width), (stride 1, double width), ...
            stride = 2 if i % 2 == 0 else 1
            c_out = c if stride == 2 else c * 2
            layers += [nn.Conv2d(c, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, inplace=True)]
            c = c_out
        self.features = nn.Sequential(*layers)  # (B, 8*width, H/16, W/16)
        self.pool = nn.AdaptiveAvgPool2d(6)
        self.classify = nn.Sequential(nn.Flatten(), nn.Linear(c * 36, dense), nn.LeakyReLU(0.2, inplace=True), nn.Linear(dense, 1))

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.classify(self.pool(self.features(x))).flatten()  # (B,) logits
