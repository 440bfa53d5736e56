"""Pix2Pix networks (Isola, Zhu, Zhou & Efros 2017, arXiv:1611.07004).

The generator is a U-Net: an encoder of strided 4x4 convolutions (LeakyReLU 0.2) halves
the image ``depth`` times down to a bottleneck, a decoder of transposed convolutions
(ReLU) doubles it back, and each decoder stage also sees the encoder's feature map of
the same size (skip connections), so low-level structure passes straight through.
Widths double from ``width`` up to ``8 * width``. Dropout on the first three decoder
layers is the generator's only noise source, as in the paper. The depth follows the
image: 256x256 gives the paper's 8 stages (1x1 bottleneck), 32x32 gives 5.

The stages on maps of 2x2 and 1x1 (either side of the bottleneck) compute in fp32 even
under bf16/fp16 autocast: there each weight takes part in only a few products per batch,
so a stage's time goes to reading its weights, and casting them every step costs more
than the reduced precision saves (1.4-2x their fp32 time on a CPU, docs/benchmarks.md).

Where the U-Net halves the image down to 1x1 (a square side of 2^depth: the 32x32 digits,
the paper's 256x256), the 4x4 convolutions either side of the bottleneck (2x2 -> 1x1 and
1x1 -> 2x2) reach the data with only their 4 central taps: the other 12 multiply padding.
:class:`CentreConv2d` and :class:`CentreConvTranspose2d` compute those 4 taps as one
matrix product: the same function and the same weights (checkpoints unchanged), a
quarter of the products.

The discriminator is a PatchGAN: a fully convolutional net whose every output logit
judges one patch of the (input, output) pair; with ``layers = 3`` a patch is 70x70.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def norm_layer(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    raise ValueError(f"norm must be 'batch' or 'instance', not '{kind}'")


def unet_depth(height: int, width: int, depth: int = 0) -> int:
    """The number of 2x stages: ``depth`` if set, else as many as the image allows (at most 8)."""
    if depth <= 0:
        side = min(height, width)
        while side % 2 ** (depth + 1) == 0 and side // 2 ** (depth + 1) >= 1 and depth < 8:
            depth += 1
    if depth < 2 or height % 2**depth or width % 2**depth:
        raise ValueError(f"a U-Net of depth {depth} needs an image side divisible by {2**depth}, got {height}x{width}")
    return depth


def in_fp32(stage: nn.Module, x: Tensor) -> Tensor:
    """``stage(x)`` in its weights' own precision (fp32) under autocast; as usual without it."""
    with torch.autocast(x.device.type, enabled=False):
        return stage(x.to(next(stage.parameters()).dtype))


class CentreConv2d(nn.Conv2d):
    """A 4x4, stride-2, padding-1 convolution; on a 2x2 map (a 1x1 output) only its 4
    central taps meet the input, so it computes them alone, as one matrix product."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 4, 2, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-2:] != (2, 2):
            return super().forward(x)
        weight = self.weight[:, :, 1:3, 1:3].reshape(self.out_channels, -1)  # (C_out, C_in * 2 * 2)
        return F.linear(x.flatten(1), weight, self.bias)[..., None, None]  # (B, C_out, 1, 1)


class CentreConvTranspose2d(nn.ConvTranspose2d):
    """A 4x4, stride-2, padding-1 transposed convolution; from a 1x1 map each pixel of its
    2x2 output takes one of the 4 central taps, so it computes them alone, as one matrix product."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, 4, 2, 1, bias=bias)

    def forward(self, x: Tensor, output_size: list[int] | None = None) -> Tensor:
        if x.shape[-2:] != (1, 1) or output_size is not None:
            return super().forward(x, output_size)
        weight = self.weight[:, :, 1:3, 1:3].reshape(self.in_channels, -1)  # (C_in, C_out * 2 * 2)
        x = (x.flatten(1) @ weight).unflatten(1, (self.out_channels, 2, 2))  # (B, C_out, 2, 2)
        return x if self.bias is None else x + self.bias[:, None, None]


class UNetGenerator(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, size: tuple[int, int], width: int = 64, depth: int = 0,
                 norm: str = "batch", dropout: float = 0.5) -> None:
        super().__init__()
        depth = unet_depth(*size, depth)
        bias = norm == "instance"  # batch norm's shift makes a bias redundant
        chans = [width * min(2**i, 8) for i in range(depth)]  # encoder outputs, outermost first

        self.down = nn.ModuleList([nn.Conv2d(in_channels, chans[0], 4, 2, 1)])
        for i in range(1, depth):
            innermost = i == depth - 1  # no norm after it: it keeps its bias
            c_in, c_out = chans[i - 1], chans[i]
            self.down.append(nn.Sequential(
                nn.LeakyReLU(0.2),
                CentreConv2d(c_in, c_out) if innermost else nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias),
                nn.Identity() if innermost else norm_layer(norm, c_out),
            ))

        self.up = nn.ModuleList()
        for k in range(depth):  # k = 0 is the bottleneck
            level = depth - 1 - k  # the encoder level this stage mirrors
            c_in = chans[level] if k == 0 else 2 * chans[level]
            if level == 0:
                self.up.append(nn.Sequential(nn.ReLU(), nn.ConvTranspose2d(c_in, out_channels, 4, 2, 1), nn.Tanh()))
            else:
                c_out = chans[level - 1]
                self.up.append(nn.Sequential(
                    nn.ReLU(),
                    CentreConvTranspose2d(c_in, c_out, bias) if k == 0 else nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=bias),
                    norm_layer(norm, c_out),
                    nn.Dropout(dropout) if k < 3 and dropout > 0 else nn.Identity(),
                ))

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for down in self.down:  # (B, C, H, W) -> ... -> (B, 8w, H/2^d, W/2^d)
            x = in_fp32(down, x) if min(x.shape[-2:]) <= 4 else down(x)  # an output of 2x2 or less: weight-bound
            skips.append(x)
        x = skips.pop()
        for k, up in enumerate(self.up):
            if k:
                x = torch.cat([x, skips.pop()], dim=1)  # the skip doubles the channels
            x = in_fp32(up, x) if min(x.shape[-2:]) <= 2 else up(x)
        return x  # (B, out_channels, H, W)


class PatchDiscriminator(nn.Module):
    """Logits per patch (B, 1, h, w) for an (input, output) pair concatenated on channels."""

    def __init__(self, in_channels: int, width: int = 64, layers: int = 3, norm: str = "batch") -> None:
        super().__init__()
        bias = norm == "instance"
        blocks: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for n in range(1, layers + 1):  # the last of these keeps the size (stride 1)
            c_out = width * min(2**n, 8)
            blocks += [nn.Conv2d(c, c_out, 4, 2 if n < layers else 1, 1, bias=bias), norm_layer(norm, c_out), nn.LeakyReLU(0.2, inplace=True)]
            c = c_out
        blocks.append(nn.Conv2d(c, 1, 4, 1, 1))
        self.net = nn.Sequential(*blocks)

    def forward(self, pair: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(pair)
