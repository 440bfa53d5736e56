"""Paired image datasets for image-to-image translation.

- ``pix2pix``: the public sets of the paper (facades, maps, edges2shoes, cityscapes,
  night2day, ...) in their "aligned" layout: every file holds A and B side by side,
  in ``train/``, ``val/`` and ``test/`` folders. Downloaded on first use when online.
  ``layout: folders`` reads a user's own pairs instead: ``A/`` and ``B/`` folders with
  files matched by name (under ``train/``, ``val/``, ``test/``, or directly in ``path``
  for the training split).
- ``digit-edges``: the outline of each bundled MNIST digit (A) and the digit (B); runs
  offline, with every tenth digit held out.

Training items get the paper's random jitter (resize to ``load_size``, random crop to
``crop_size``) and mirroring, the same for A and B; held-out items are resized to
``crop_size``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.plugin import (
    DataError, DataInfo, ImageData, ItemData, bundled_mnist, check_range, download_archive, image_files, read_image, resize_images,
)

PUBLIC_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"
PUBLIC_SETS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags", "night2day")


@dataclass(frozen=True)
class PairsConfig:
    name: str = "facades"  # a public set (downloaded into DATA_DIR/pix2pix/NAME)
    path: str = ""  # your own folder instead of a public set
    layout: str = "aligned"  # aligned: A|B side by side in one file; folders: A/ and B/ matched by name
    direction: str = "AtoB"  # AtoB: translate A into B; BtoA: the reverse
    load_size: int = 286  # training: resize to load_size x load_size ...
    crop_size: int = 256  # ... then crop a random crop_size x crop_size patch
    flip: bool = True  # training: mirror left-right at random
    limit: int = 0  # use only the first `limit` pairs (0: all)
    download: bool = True  # fetch a missing public set (needs internet)

    def __post_init__(self) -> None:
        check_range("dataset_options.crop_size", self.crop_size, 1, 4096)
        check_range("dataset_options.load_size", self.load_size, 1, 4096)
        check_range("dataset_options.limit", self.limit, 0)
        if self.layout not in ("aligned", "folders"):
            raise ValueError(f"dataset_options.layout must be 'aligned' or 'folders', not '{self.layout}'")
        if self.direction not in ("AtoB", "BtoA"):
            raise ValueError(f"dataset_options.direction must be 'AtoB' or 'BtoA', not '{self.direction}'")
        if self.load_size < self.crop_size:
            raise ValueError("dataset_options.load_size must be at least crop_size")


def download_public(name: str, root: Path) -> None:
    """Fetch and unpack a public pix2pix set into ``root`` (``root/NAME/train/...``)."""
    download_archive(PUBLIC_URL.format(name=name), root, f"the pix2pix set '{name}'",
                     f"unpack it so that {root / name}/train/ holds its images")


class PairedImages(ItemData):
    """Pairs of images as (input, target), with the paper's jitter when an ``rng`` is given."""

    def __init__(self, pairs: list[tuple[Path, Path | None]], config: PairsConfig) -> None:
        if not pairs:
            raise DataError("no image pairs found")
        self.pairs = pairs[: config.limit] if config.limit else pairs
        self.config = config

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def info(self) -> DataInfo:
        size = self.config.crop_size
        return DataInfo(channels=3, height=size, width=size, input_channels=3, input_height=size, input_width=size)

    def _load(self, index: int) -> tuple[Tensor, Tensor]:
        first, second = self.pairs[index]
        if second is None:  # aligned: A | B in one file
            both = read_image(first)
            half = both.shape[-1] // 2
            a, b = both[..., :half], both[..., half : 2 * half]
        else:
            a, b = read_image(first), read_image(second)
        return (a, b) if self.config.direction == "AtoB" else (b, a)

    def item(self, index: int, rng: torch.Generator | None) -> dict[str, Tensor]:
        from torchvision.transforms.v2 import functional as TF  # imported on use: torchvision takes seconds to import

        a, b = self._load(index)
        c = self.config
        if rng is None:
            size = [c.crop_size, c.crop_size]
            return {"input": TF.resize(a, size, antialias=True), "image": TF.resize(b, size, antialias=True)}
        size = [c.load_size, c.load_size]
        a, b = TF.resize(a, size, antialias=True), TF.resize(b, size, antialias=True)
        top, left = (int(v) for v in torch.randint(0, c.load_size - c.crop_size + 1, (2,), generator=rng))
        a, b = TF.crop(a, top, left, c.crop_size, c.crop_size), TF.crop(b, top, left, c.crop_size, c.crop_size)
        if c.flip and bool(torch.rand((), generator=rng) < 0.5):
            a, b = TF.horizontal_flip(a), TF.horizontal_flip(b)
        return {"input": a.contiguous(), "image": b.contiguous()}


def aligned_files(folder: Path) -> list[tuple[Path, Path | None]]:
    return [(p, None) for p in image_files(folder)]


def matched_files(folder_a: Path, folder_b: Path) -> list[tuple[Path, Path | None]]:
    """Files of A/ and B/ paired by name (without suffix); any unmatched file is an error."""
    a = {p.stem: p for p in image_files(folder_a)}
    b = {p.stem: p for p in image_files(folder_b)}
    only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
    if only_a or only_b:
        parts = [f"{len(names)} only in {folder}/ (e.g. {', '.join(names[:3])})" for names, folder in ((only_a, folder_a), (only_b, folder_b)) if names]
        raise DataError(f"A/ and B/ images must pair up by file name: {'; '.join(parts)}")
    return [(a[k], b[k]) for k in sorted(a)]


def load_pairs(config: PairsConfig, root: Path, split: str = "train") -> PairedImages:
    if config.path:
        base = Path(config.path).expanduser()
        if not base.is_dir():
            raise DataError(f"dataset_options.path {base} is not a folder")
    else:
        base = root / "pix2pix" / config.name
        if not base.is_dir():
            if not config.download:
                raise DataError(f"the pix2pix set '{config.name}' is not in {base} and download is off: unpack it there or pass --data-dir")
            download_public(config.name, base.parent)
    if config.layout == "aligned":
        folder = base / split
        if not folder.is_dir():
            raise DataError(f"{base} has no {split}/ folder (an aligned pix2pix set has train/, val/ and test/ folders of A|B images)")
        pairs = aligned_files(folder)
    else:
        folder = base / split if (base / split).is_dir() else (base if split == "train" else None)
        if folder is None or not (folder / "A").is_dir() or not (folder / "B").is_dir():
            raise DataError(f"{base} has no {split}/A and {split}/B folders" + (" (nor A/ and B/)" if split == "train" else ""))
        pairs = matched_files(folder / "A", folder / "B")
    if not pairs:
        raise DataError(f"no images in {folder}")
    return PairedImages(pairs, config)


# ---------------------------------------------------------------- the offline set


@dataclass(frozen=True)
class DigitEdgesConfig:
    image_size: int = 32  # the digits are resized from 28 to this (a U-Net needs 2^k)
    edge_width: int = 1  # thickness of the outline, in pixels of the resized image
    limit: int = 0  # use only the first `limit` pairs of the split (0: all)

    def __post_init__(self) -> None:
        check_range("dataset_options.image_size", self.image_size, 8, 1024)
        check_range("dataset_options.edge_width", self.edge_width, 1, 16)
        check_range("dataset_options.limit", self.limit, 0)


def outline(images: Tensor, width: int = 1) -> Tensor:
    """Morphological gradient (dilation - erosion) of (N, 1, H, W) uint8 images: their outlines."""
    k = 2 * width + 1
    x = images.float()
    dilated = F.max_pool2d(x, k, 1, width)
    eroded = -F.max_pool2d(-x, k, 1, width)
    return (dilated - eroded).round().clamp(0, 255).to(torch.uint8)


def load_digit_edges(config: DigitEdgesConfig, root: Path, split: str = "train") -> ImageData:
    images, labels = bundled_mnist()
    images, labels = resize_images(images.unsqueeze(1), config.image_size), labels.long()  # (N, 1, size, size)
    held_out = torch.arange(len(images)) % 10 == 9  # every tenth digit: 50 of each class
    keep = held_out if split == "val" else ~held_out
    images, labels = images[keep], labels[keep]
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    return ImageData({"input": outline(images, config.edge_width), "image": images.contiguous(), "label": labels},
                     num_classes=10, class_names=tuple(str(i) for i in range(10)))
