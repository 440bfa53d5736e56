"""Image files and pixel ranges: reading, writing, and the [-1, 1] range models work in.

Models see images as float tensors in [-1, 1]; datasets store them as uint8 0..255;
files are PNG, JPEG, ... This module converts between the three, and applies a function
to an image file or a folder of them (what ``ganzoo translate`` / ``upscale`` do).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganzoo.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
GRID_SUFFIXES = (".png", ".jpg", ".jpeg")


def to_model_range(t: Tensor) -> Tensor:
    """uint8 0..255 -> float -1..1; other dtypes unchanged."""
    if t.dtype == torch.uint8:
        return t.float().mul_(2.0 / 255.0).sub_(1.0)
    return t


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 0..255 on the CPU (for PNGs and metrics)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


def resize_images(images: Tensor, size: int) -> Tensor:
    """(N, C, H, W) uint8 images resized to ``size`` x ``size`` (bilinear, antialiased), uint8."""
    if images.shape[-2:] == (size, size):
        return images
    import torch.nn.functional as F

    resized = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized.round().clamp(0, 255).to(torch.uint8)


def image_files(path: str | Path) -> list[Path]:
    """The image files directly in folder ``path``, sorted by name; ``[path]`` for a file."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"no image or folder at {path}")
    return sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def read_image(path: str | Path, channels: int = 3) -> Tensor:
    """(channels, H, W) uint8 from a PNG, JPEG, ... file (1: grayscale, 3: RGB).

    A damaged or unreadable file is a one-line :class:`DataError` that names it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("L" if channels == 1 else "RGB"))
    except FileNotFoundError:
        raise DataError(f"missing image {path}") from None
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise DataError(f"cannot read image {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    t = torch.from_numpy(pixels.copy())
    return t[None] if t.ndim == 2 else t.permute(2, 0, 1).contiguous()


def save_images(images: Tensor, out: str | Path, nrow: int | None = None) -> list[Path]:
    """A grid PNG when ``out`` ends in an image suffix, else a folder of single PNGs."""
    from PIL import Image
    from torchvision.utils import make_grid

    def write(pixels: Tensor, path: Path) -> None:  # (C, H, W) uint8
        array = pixels.permute(1, 2, 0).numpy()
        Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(path)

    out = Path(out)
    pixels = to_uint8(images)
    if out.suffix.lower() in GRID_SUFFIXES:
        out.parent.mkdir(parents=True, exist_ok=True)
        nrow = nrow or max(1, round(len(pixels) ** 0.5))
        write(make_grid(pixels, nrow=nrow, padding=2, pad_value=0), out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{i:05d}.png" for i in range(len(pixels))]
    for img, path in zip(pixels, paths):
        write(img, path)
    return paths


def process_image_files(inputs: str | Path, out: str | Path, fn: Callable[[Path, Tensor], Tensor], channels: int = 3) -> list[Path]:
    """Apply ``fn(path, pixels)`` to an image file or every image of a folder, writing PNGs.

    ``pixels`` is the (channels, H, W) uint8 image; ``fn`` returns (1, C, H', W') in
    [-1, 1]. One input goes to the file ``out`` (.png / .jpg); a folder goes to the folder
    ``out``, one ``NAME.png`` per input. Returns the files written.
    """
    inputs, out = Path(inputs), Path(out)
    files = image_files(inputs)
    if not files:
        raise ConfigError(f"no images in {inputs}")
    one = inputs.is_file()
    if one and out.suffix.lower() not in GRID_SUFFIXES:
        raise ConfigError("--out must be an image file (.png, .jpg) when the input is one image")
    written = []
    for path in files:
        target = out if one else out / f"{path.stem}.png"
        save_images(fn(path, read_image(path, channels)), target)
        written.append(target)
    return written

