"""DCGAN networks (Radford, Metz & Chintala 2016, arXiv:1511.06434), sized by the data.

The generator projects the noise to a small feature map and doubles its resolution with
strided transposed convolutions (batch norm + ReLU) up to the image size, ending in tanh.
The discriminator mirrors it with strided convolutions (batch norm + LeakyReLU 0.2, none
on the first layer) down to the same small map, then one logit.

The pyramid follows the image: 28x28 runs 7 -> 14 -> 28, 32x32 runs 4 -> 8 -> 16 -> 32,
64x64 runs 4 -> ... -> 64 (the paper's network for ``g_channels = d_channels = 64``).
``extra_layers`` adds that many stride-1 3x3 convolution blocks at the generator's last
hidden resolution or the discriminator's first (the ``n_extra_layers`` option of the
DCGAN reference code): more depth where the strokes are drawn, at a small cost.
The class-conditional variant (Mirza & Osindero 2014) feeds the label to both networks:
a learned embedding joins the generator's noise, and one-hot label planes join the
discriminator's input channels.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def pyramid(size: int) -> tuple[int, int]:
    """(number of 2x stages, base resolution) for a square image of side ``size``."""
    stages = 0
    while size % 2 == 0 and size // 2 >= 4:
        size //= 2
        stages += 1
    if stages == 0 or size > 8:
        raise ValueError(f"DCGAN needs an image side of the form b*2^k with 4 <= b <= 8 and k >= 1, got {size * 2**stages}")
    return stages, size


def up(c_in: int, c_out: int, how: str, bias: bool = True) -> nn.Module:
    """Double the side: a 4x4 stride-2 transposed convolution (the paper's), or a nearest
    upsampling followed by a 3x3 convolution (no checkerboard artefacts; Odena et al. 2016)."""
    if how == "transposed":
        return nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1, bias=bias))


class Generator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, size: int, width: int, num_classes: int = 0, label_dim: int = 0,
                 extra_layers: int = 0, upsample: str = "transposed") -> None:
        super().__init__()
        stages, base = pyramid(size)
        self.base = base
        self.top = width * 2 ** (stages - 1)
        self.embed = nn.Embedding(num_classes, label_dim) if num_classes else None
        in_dim = latent_dim + (label_dim if num_classes else 0)
        self.project = nn.Sequential(  # (B, in_dim) -> (B, top * base * base)
            nn.Linear(in_dim, self.top * base * base, bias=False),
            nn.BatchNorm1d(self.top * base * base),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        c = self.top
        for _ in range(stages - 1):  # each doubles the side, halves the width
            layers += [up(c, c // 2, upsample, bias=False), nn.BatchNorm2d(c // 2), nn.ReLU(inplace=True)]
            c //= 2
        for _ in range(extra_layers):  # (B, c, size/2, size/2) kept
            layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        layers += [up(c, channels, upsample), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.embed is not None:
            z = torch.cat([z, self.embed(labels)], dim=1)
        h = self.project(z).view(-1, self.top, self.base, self.base)  # (B, top, base, base)
        return self.net(h)  # (B, channels, size, size)


class Discriminator(nn.Module):
    """With ``pack = m`` (PacGAN, Lin et al. 2018) it judges m images at once, stacked on the
    channels, and returns one logit per pack: a generator that repeats itself is then easy
    to tell from the data, which counters mode collapse at almost no cost."""

    def __init__(self, channels: int, size: int, width: int, num_classes: int = 0, pack: int = 1, extra_layers: int = 0) -> None:
        super().__init__()
        stages, base = pyramid(size)
        self.num_classes = num_classes
        self.pack = pack
        layers: list[nn.Module] = [nn.Conv2d(pack * (channels + num_classes), width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for _ in range(extra_layers):  # (B, width, size/2, size/2) kept
            layers += [nn.Conv2d(c, c, 3, 1, 1, bias=False), nn.BatchNorm2d(c), nn.LeakyReLU(0.2, inplace=True)]
        for _ in range(stages - 1):  # each halves the side, doubles the width
            layers += [nn.Conv2d(c, c * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(c * 2), nn.LeakyReLU(0.2, inplace=True)]
            c *= 2
        layers += [nn.Conv2d(c, 1, base)]  # (B, c, base, base) -> (B, 1, 1, 1)
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        if self.num_classes:
            planes = nn.functional.one_hot(labels, self.num_classes).to(x.dtype)  # (B, K)
            x = torch.cat([x, planes[:, :, None, None].expand(-1, -1, *x.shape[2:])], dim=1)
        if self.pack > 1:
            if x.shape[0] % self.pack:
                raise ValueError(f"the batch size ({x.shape[0]}) must be a multiple of model_options.pack ({self.pack})")
            x = x.reshape(x.shape[0] // self.pack, self.pack * x.shape[1], *x.shape[2:])  # (B/m, m*C, H, W)
        return self.net(x).flatten()  # (B / pack,) logits
