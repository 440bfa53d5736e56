"""Paired image scores: how close generated images are to their targets.

L1, PSNR and SSIM per image, on images in [-1, 1] measured on the [0, 1] scale (the
convention of image-to-image and super-resolution papers). PSNR and SSIM come from
torchmetrics (Gaussian 11x11 window, sigma 1.5, as Wang et al. 2004), not hand-written.
``y_channel`` and ``border`` give the super-resolution convention: the luma channel of
BT.601 YCbCr, with ``border`` pixels cropped on each side.
"""

from __future__ import annotations

from torch import Tensor
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure


def to_unit(images: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1], float32, clamped (what a saved PNG would hold)."""
    return ((images.float() + 1) / 2).clamp(0, 1)


def luma(images: Tensor) -> Tensor:
    """Y of BT.601 YCbCr (the MATLAB ``rgb2ycbcr`` convention) for [0, 1] RGB, scaled to [0, 1]."""
    if images.shape[1] == 1:
        return images
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def paired_scores(output: Tensor, target: Tensor, *, prefix: str = "", y_channel: bool = False, border: int = 0) -> dict[str, Tensor]:
    """Per-image ``l1``, ``psnr`` (dB) and ``ssim`` of ``output`` against ``target``, each (B,).

    Both are (B, C, H, W) in [-1, 1]. A 1-channel ``output`` is compared with a 3-channel
    ``target`` by repeating it (and vice versa).
    """
    x, y = to_unit(output), to_unit(target)
    if x.shape[1] != y.shape[1]:
        channels = max(x.shape[1], y.shape[1])
        x, y = x.expand(-1, channels, -1, -1), y.expand(-1, channels, -1, -1)
    if y_channel:
        x, y = luma(x), luma(y)
    if border:
        x, y = x[..., border:-border, border:-border], y[..., border:-border, border:-border]
    dims = (1, 2, 3)
    l1 = (x - y).abs().mean(dim=dims)
    psnr = peak_signal_noise_ratio(x, y, data_range=1.0, reduction="none", dim=dims)
    ssim = structural_similarity_index_measure(x, y, data_range=1.0, reduction="none")
    return {f"{prefix}l1": l1, f"{prefix}psnr": psnr, f"{prefix}ssim": ssim}


def mean_image_baseline(target: Tensor) -> Tensor:
    """Every item replaced by the mean target of its batch: the best constant guess."""
    return target.float().mean(dim=0, keepdim=True).expand_as(target)


__all__ = ["luma", "mean_image_baseline", "paired_scores", "to_unit"]
