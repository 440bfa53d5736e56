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


MAX_PIXELS = 89_478_485  # Pillow's own warning threshold (a 9459 x 9459 image); above it, refused


def read_image(path: str | Path, channels: int = 3, background: tuple[int, int, int] = (255, 255, 255)) -> Tensor:
    """(channels, H, W) uint8 from a PNG, JPEG, ... file (1: grayscale, 3: RGB).

    16-bit images are scaled to 8 bits (not clipped), palette images expanded to their
    colours, transparent pixels composed over ``background``. A damaged, unreadable or oversized
    (decompression bomb) file is a one-line :class:`DataError` that names it.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            if img.width * img.height > MAX_PIXELS:
                raise DataError(f"{path} is {img.width}x{img.height} pixels, more than the {MAX_PIXELS:,} ganzoo reads: "
                                "downscale it first")
            pixels = np.asarray(_to_8bit(img, "L" if channels == 1 else "RGB", background))
    except FileNotFoundError:
        raise DataError(f"missing image {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"cannot read image {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    t = torch.from_numpy(pixels.copy())
    return t[None] if t.ndim == 2 else t.permute(2, 0, 1).contiguous()


def _to_8bit(img, mode: str, background: tuple[int, int, int] = (255, 255, 255)):  # type: ignore[no-untyped-def]
    """A PIL image in ``mode`` ("L" or "RGB"), 8 bits a channel, whatever it was stored as;
    transparency is composed over ``background``."""
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):  # 16-bit (or 32-bit) grey: scale, do not clip at 255
        array = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        img = Image.fromarray(np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA"):
        img = Image.alpha_composite(Image.new("RGBA", img.size, (*background, 255)), img.convert("RGBA"))
    return img.convert(mode)


def output_kind(out: Path) -> str:
    """``"grid"`` for an image file name, ``"folder"`` for a name without a suffix; another
    suffix (``.gif``, ``.txt``) or an existing thing of the other kind is a :class:`ConfigError`."""
    suffix = out.suffix.lower()
    if suffix and suffix not in GRID_SUFFIXES:
        raise ConfigError(f"--out {out}: write a {' / '.join(GRID_SUFFIXES)} image, or a folder (a name without a suffix)")
    kind = "grid" if suffix else "folder"
    if kind == "grid" and out.is_dir():
        raise ConfigError(f"--out {out} is a folder; name an image file")
    if kind == "folder" and out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    return kind


def grid(images: Tensor, nrow: int | None = None) -> Tensor:
    """Images in [-1, 1] as one ``(3, H, W)`` uint8 CPU grid, ``nrow`` to a row (default: square)."""
    from torchvision.utils import make_grid

    pixels = to_uint8(images)
    return make_grid(pixels, nrow=nrow or max(1, round(len(pixels) ** 0.5)), padding=2, pad_value=0)


def to_array(pixels: Tensor):
    """One (C, H, W) uint8 CPU image (C 1 or 3) as the (H, W) or (H, W, 3) array PIL and Gradio take."""
    array = pixels.permute(1, 2, 0).numpy()
    return array[:, :, 0] if array.shape[2] == 1 else array


def write_png(pixels: Tensor, path: str | Path) -> Path:
    """One (C, H, W) uint8 CPU image (C 1 or 3) as a PNG (or the format ``path`` names)."""
    from PIL import Image

    Image.fromarray(to_array(pixels)).save(path)
    return Path(path)


def save_images(images: Tensor, out: str | Path, nrow: int | None = None) -> list[Path]:
    """A grid PNG when ``out`` ends in an image suffix, else a folder of single PNGs."""
    out = Path(out)
    if output_kind(out) == "grid":
        out.parent.mkdir(parents=True, exist_ok=True)
        write_png(grid(images, nrow), out)
        return [out]
    pixels = to_uint8(images)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{i:05d}.png" for i in range(len(pixels))]
    for img, path in zip(pixels, paths):
        write_png(img, path)
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
    output_kind(out)
    targets = [out] if one else [out / f"{path.stem}.png" for path in files]
    _check_targets(files, targets, inputs, out)
    written = []
    for path, target in zip(files, targets):
        save_images(fn(path, read_image(path, channels)), target)
        written.append(target)
    return written


def _check_targets(files: list[Path], targets: list[Path], inputs: Path, out: Path) -> None:
    """Outputs never overwrite inputs, and no two inputs write the same output."""
    sources = {p.resolve() for p in files}
    if not inputs.is_file() and out.resolve() == inputs.resolve():
        raise ConfigError(f"--out {out} is the input folder: the outputs would replace the inputs; choose another folder")
    seen: dict[str, Path] = {}
    for path, target in zip(files, targets):
        if target.resolve() in sources:
            raise ConfigError(f"--out would overwrite the input {target}; choose another name or folder")
        key = str(target.resolve()).lower()  # p0.PNG and p0.png: one file on case-insensitive disks, one name here
        if key in seen:
            raise ConfigError(f"{seen[key].name} and {path.name} would both be written to {target.name}; rename one")
        seen[key] = path

