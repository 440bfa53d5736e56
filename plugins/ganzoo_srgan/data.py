"""High-resolution image folders for super-resolution.

Training items are random ``hr_size`` crops of the photographs with random flips and
90-degree rotations; the low-resolution input is the crop downsampled by ``scale`` with
antialiased bicubic interpolation (the usual way SR training pairs are made). Held-out
items are the central ``eval_size`` crop of each held-out photograph, made the same way.
Several crops per photograph (``crops_per_image``) make an epoch of a small folder long
enough for a batch.

- ``hr-folder``: any folder of photographs (DIV2K, Flickr2K, yours); ``val_path`` names a
  held-out folder, else every tenth photograph is held out.
- ``div2k``: DIV2K's 800 training and 100 validation photographs, downloaded when online.
- ``skimage-photos``: the colour photographs scikit-image installs (offline); ``chelsea``
  and ``coffee`` are held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.plugin import DataError, DataInfo, ItemData, check_range, download_archive, image_files, read_image

DIV2K_URL = "http://data.vision.ee.ethz.ch/cvl/DIV2K/DIV2K_{split}_HR.zip"
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "ihc.png",
                  "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg")
SKIMAGE_HELD_OUT = ("chelsea.png", "coffee.png")


@dataclass(frozen=True)
class SRDataConfig:
    path: str = ""  # hr-folder: the folder of high-resolution photographs
    val_path: str = ""  # hr-folder: a held-out folder (default: every tenth photograph of `path`)
    scale: int = 4  # downsampling factor; must match the model's
    hr_size: int = 96  # side of the high-resolution training crops
    eval_size: int = 192  # side of the central crop of held-out photographs
    crops_per_image: int = 1  # random crops of each photograph per epoch
    cache: bool = True  # keep decoded photographs in memory (folders of up to 256 photographs)
    limit: int = 0  # use only the first `limit` photographs (0: all)
    download: bool = True  # div2k: fetch it when missing (needs internet)

    def __post_init__(self) -> None:
        check_range("dataset_options.scale", self.scale, 1, 16)
        check_range("dataset_options.hr_size", self.hr_size, 1, 4096)
        check_range("dataset_options.eval_size", self.eval_size, 1, 8192)
        check_range("dataset_options.limit", self.limit, 0)
        for name in ("hr_size", "eval_size"):
            if getattr(self, name) % self.scale:
                raise ValueError(f"dataset_options.{name} must be a multiple of scale ({self.scale})")
        if self.crops_per_image < 1:
            raise ValueError("dataset_options.crops_per_image must be at least 1")


def downsample(hr: Tensor, scale: int) -> Tensor:
    """(C, H, W) uint8 -> (C, H/scale, W/scale) uint8 by antialiased bicubic interpolation."""
    lr = F.interpolate(hr[None].float(), scale_factor=1 / scale, mode="bicubic", antialias=True, align_corners=False)
    return lr[0].round().clamp(0, 255).to(torch.uint8)


class HRImages(ItemData):
    def __init__(self, files: list[Path], config: SRDataConfig, train: bool) -> None:
        if not files:
            raise DataError("no photographs to train on")
        self.files = files[: config.limit] if config.limit else files
        self.config = config
        self.repeat = config.crops_per_image if train else 1
        self._cache: dict[int, Tensor] | None = {} if config.cache and len(self.files) <= 256 else None

    def __len__(self) -> int:
        return len(self.files) * self.repeat

    @property
    def info(self) -> DataInfo:
        c = self.config
        return DataInfo(channels=3, height=c.hr_size, width=c.hr_size, input_channels=3,
                        input_height=c.hr_size // c.scale, input_width=c.hr_size // c.scale)

    def photo(self, index: int) -> Tensor:
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        image = read_image(self.files[index])
        if self._cache is not None:
            self._cache[index] = image
        return image

    def item(self, index: int, rng: torch.Generator | None) -> dict[str, Tensor]:
        c = self.config
        image = self.photo(index // self.repeat)
        size = c.hr_size if rng is not None else c.eval_size
        _, h, w = image.shape
        if h < size or w < size:
            raise DataError(f"{self.files[index // self.repeat]} is {w}x{h}, smaller than the {size}x{size} crops: "
                            "remove it or lower dataset_options.hr_size / eval_size")
        if rng is None:
            top, left = (h - size) // 2, (w - size) // 2
        else:
            top = int(torch.randint(0, h - size + 1, (), generator=rng))
            left = int(torch.randint(0, w - size + 1, (), generator=rng))
        hr = image[:, top : top + size, left : left + size]
        if rng is not None:
            flip_h, flip_v, rotate = (bool(b) for b in torch.rand(3, generator=rng) < 0.5)
            if flip_h:
                hr = hr.flip(2)
            if flip_v:
                hr = hr.flip(1)
            if rotate:
                hr = hr.transpose(1, 2)  # with the flips: all eight orientations
        hr = hr.contiguous()
        return {"input": downsample(hr, c.scale), "image": hr}


def _split(files: list[Path], split: str) -> list[Path]:
    """Every tenth photograph (at least one) is held out."""
    held = set(files[9::10] or files[-1:])
    return [f for f in files if (f in held) == (split != "train")]


def load_hr_folder(config: SRDataConfig, root: Path, split: str = "train") -> HRImages:
    if not config.path:
        raise DataError("dataset 'hr-folder' needs a folder of photographs: --set dataset_options.path=DIR")
    if split != "train" and config.val_path:
        return HRImages(image_files(Path(config.val_path).expanduser()), config, train=False)
    files = image_files(Path(config.path).expanduser())
    if len(files) < 2 and not config.val_path:
        raise DataError(f"{config.path} holds {len(files)} photograph(s): at least 2 are needed (one is held out), or set val_path")
    return HRImages(files if config.val_path else _split(files, split), config, train=split == "train")


def load_div2k(config: SRDataConfig, root: Path, split: str = "train") -> HRImages:
    name = "train" if split == "train" else "valid"
    folder = root / "DIV2K" / f"DIV2K_{name}_HR"
    if not folder.is_dir():
        url = DIV2K_URL.format(split=name)
        if not config.download:
            raise DataError(f"DIV2K is not in {folder} and download is off: unzip {url.rsplit('/', 1)[-1]} into {folder.parent}")
        download_archive(url, folder.parent, "DIV2K", f"unzip it into {folder.parent}")
    return HRImages(image_files(folder), config, train=split == "train")


def load_skimage_photos(config: SRDataConfig, root: Path, split: str = "train") -> HRImages:
    import importlib.util

    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise DataError("the offline photographs come with scikit-image: pip install scikit-image")
    folder = Path(spec.origin).parent / "data"
    names = [n for n in SKIMAGE_PHOTOS if (n in SKIMAGE_HELD_OUT) == (split != "train")]
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise DataError(f"scikit-image at {folder} lacks {', '.join(missing)}; reinstall scikit-image")
    return HRImages([folder / n for n in names], config, train=split == "train")
