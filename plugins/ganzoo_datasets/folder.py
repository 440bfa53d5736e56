"""A folder of your own images: the ``image-folder`` dataset.

Layout, by torchvision's ``ImageFolder`` convention: ``ROOT/CLASS/any/depth/x.png`` gives
labelled images, the sorted subfolder names becoming labels 0, 1, ... (what the
class-conditional models train on); a folder with images at its top level, or any
folder with ``labels: none``, gives every image below it, unlabelled.

Every image is decoded on purpose, never by accident (``ganzoo.plugin.read_image``):
PNG, JPEG, WebP, BMP, TIFF; grey, RGB, palette and 16-bit images converted to
``channels``; transparency composed over ``background``. It is then resized so its
shorter side is ``load_size`` and centre-cropped to a ``load_size`` square: the *stored*
image. What the model sees is an ``image_size`` square of it, at the centre or at a
random position (``crop``), flipped at random when ``flip`` is on; both are drawn from
the item's own generator, so a stored set held in memory and one streamed from disk give
the same batches for the same seed.

Small decoded sets are held in memory (on the training device); large ones stream from
disk through loader workers. A decoded copy is cached under ganzoo's cache folder, keyed
by the files (names, sizes, modification times) and the options that shape it, and
rebuilt when any of them changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganzoo.plugin import (
    IMAGE_SUFFIXES, DataError, DataInfo, GanzooWarning, ImageData, ItemData, atomic_file, cache_dir, check_range, read_image,
)

CACHE_VERSION = 1
SHOWN = 3  # file names a warning or an error lists


@dataclass(frozen=True)
class FolderConfig:
    path: str = ""  # the folder of images
    labels: str = "auto"  # auto: class subfolders when the top level holds only folders | folders | none
    channels: int = 3  # 1: grey, 3: RGB
    image_size: int = 64  # side of the square images the model sees
    load_size: int = 0  # side of the stored square (0: image_size); larger leaves room for random crops
    crop: str = "center"  # center | random: where the image_size square is taken from the stored one
    flip: bool = False  # random horizontal flips
    background: str = "white"  # colour transparent pixels are composed over (a name or #rrggbb)
    small: str = "upsample"  # images whose shorter side is below load_size: upsample (with a warning) | refuse
    max_bad: float = 0.05  # share of unreadable files that is skipped (with a warning); more is refused
    storage: str = "auto"  # auto: memory up to memory_mb, else stream | memory | stream
    memory_mb: int = 1024  # the largest decoded set `auto` holds in memory
    cache: bool = True  # keep a decoded copy, so a second run does not decode again
    test_every: int = 0  # hold out every n-th image as the test split (0: no held-out split)
    limit: int = 0  # use only the first `limit` images (0: all)

    def __post_init__(self) -> None:
        for name, allowed in (("labels", ("auto", "folders", "none")), ("crop", ("center", "random")),
                              ("small", ("upsample", "refuse")), ("storage", ("auto", "memory", "stream"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"dataset_options.{name} must be one of {', '.join(allowed)}, not '{getattr(self, name)}'")
        if self.channels not in (1, 3):
            raise ValueError(f"dataset_options.channels must be 1 or 3, not {self.channels}")
        check_range("dataset_options.image_size", self.image_size, 4, 4096)
        check_range("dataset_options.load_size", self.load_size, 0, 8192)
        if self.load_size and self.load_size < self.image_size:
            raise ValueError(f"dataset_options.load_size ({self.load_size}) must be at least image_size ({self.image_size})")
        check_range("dataset_options.max_bad", self.max_bad, 0.0, 1.0)
        check_range("dataset_options.memory_mb", self.memory_mb, 0)
        check_range("dataset_options.test_every", self.test_every, 0)
        check_range("dataset_options.limit", self.limit, 0)
        background_rgb(self.background)

    @property
    def load(self) -> int:
        return self.load_size or self.image_size


def background_rgb(colour: str) -> tuple[int, int, int]:
    from PIL import ImageColor

    try:
        return ImageColor.getrgb(colour)[:3]
    except ValueError:
        raise ValueError(f"dataset_options.background: '{colour}' is not a colour (a name such as white, or #rrggbb)") from None


# ---------------------------------------------------------------- finding the images


def _visible(path: Path, root: Path) -> bool:
    return not any(part.startswith(".") for part in path.relative_to(root).parts)  # no .git, ._x.jpg, .ipynb_checkpoints


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(root: Path, labels: str) -> tuple[list[Path], list[int], tuple[str, ...]]:
    """The images below ``root`` (sorted), their labels and the class names (none when unlabelled)."""
    from torchvision.datasets.folder import make_dataset

    if not root.is_dir():
        raise DataError(f"no folder at {root}: set dataset_options.path=FOLDER (--set dataset_options.path=...)")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    top = [p for p in root.iterdir() if p.is_file() and _is_image(p)]
    if labels == "folders" or (labels == "auto" and classes and not top):
        if not classes:
            raise DataError(f"{root} has no class subfolders (dataset_options.labels=folders): put each class's images "
                            "in a subfolder named after it, or set dataset_options.labels=none")
        index = {name: i for i, name in enumerate(classes)}
        items = make_dataset(root, index, is_valid_file=lambda p: _is_image(Path(p)), allow_empty=True)  # torchvision's walk
        found = {label for _, label in items}
        empty = [name for name in classes if index[name] not in found]
        if empty:
            raise DataError(f"class folder {root / empty[0]} has no images ({len(empty)} of {len(classes)} classes are empty): "
                            "add images, remove it, or set dataset_options.labels=none")
        return [Path(p) for p, _ in items], [label for _, label in items], tuple(classes)
    files = sorted(p for p in root.rglob("*") if _is_image(p) and _visible(p, root) and p.is_file())
    if not files:
        what = "is empty" if not any(root.iterdir()) else f"holds no images ({', '.join(IMAGE_SUFFIXES)})"
        raise DataError(f"{root} {what}: point dataset_options.path at a folder of images")
    return files, [], ()


# ---------------------------------------------------------------- one image


class TooSmall(DataError):
    """An image below ``load_size`` when ``small: refuse``."""


def decode(path: Path, config: FolderConfig) -> tuple[Tensor, bool]:
    """The stored image of ``path``, (channels, load, load) uint8, and whether it was upsampled."""
    import torchvision.transforms.v2.functional as TF

    image = read_image(path, config.channels, background_rgb(config.background))
    side, load = min(image.shape[-2:]), config.load
    if side < load and config.small == "refuse":
        raise TooSmall(f"{path} is {image.shape[-1]}x{image.shape[-2]}, smaller than load_size {load}: remove it, or set "
                        "dataset_options.small=upsample")
    if side != load:
        image = TF.resize(image, [load], antialias=True)  # the shorter side becomes `load`
    return TF.center_crop(image, [load, load]), side < load


def view(image: Tensor, rng: torch.Generator | None, config: FolderConfig) -> Tensor:
    """The ``image_size`` square the model sees of a stored image: the centre one without
    ``rng`` (evaluation), else a random crop and flip as configured, drawn from ``rng``."""
    size, load = config.image_size, config.load
    flip = rng is not None and config.flip and bool(torch.rand((), generator=rng) < 0.5)
    if rng is not None and config.crop == "random" and load > size:
        top, left = torch.randint(0, load - size + 1, (2,), generator=rng).tolist()
    else:
        top = left = (load - size) // 2
    out = image[..., top : top + size, left : left + size]
    return out.flip(-1) if flip else out


class Views:
    """``ImageData.augment`` for stored images: :func:`view` of each item of a batch."""

    def __init__(self, config: FolderConfig) -> None:
        self.config = config

    def __call__(self, batch: dict[str, Tensor], rngs: list[torch.Generator] | None) -> dict[str, Tensor]:
        rngs = rngs or [None] * len(batch["image"])
        return {**batch, "image": torch.stack([view(image, rng, self.config) for image, rng in zip(batch["image"], rngs)])}


# ---------------------------------------------------------------- the decoded set


class _Decode(torch.utils.data.Dataset):
    def __init__(self, files: list[Path], config: FolderConfig) -> None:
        self.files, self.config = files, config

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[Tensor | None, bool, str, bool]:
        """(stored image or None, upsampled, why it failed, whether the failure refuses the set)."""
        try:
            return (*decode(self.files[i], self.config), "", False)
        except DataError as e:  # errors come back as values: a worker's exception would lose its one line
            return None, False, str(e), isinstance(e, TooSmall)


def _report(root: Path, files: list[Path], bad: list[tuple[Path, str]], small: list[Path], config: FolderConfig) -> None:
    if bad:
        names = "; ".join(f"{p.relative_to(root)} ({why.rsplit(': ', 1)[-1]})" for p, why in bad[:SHOWN])
        if len(bad) > config.max_bad * len(files):
            raise DataError(f"{len(bad)} of {len(files)} images in {root} are unreadable (first: {names}): fix or remove "
                            f"them, or raise dataset_options.max_bad (now {config.max_bad})")
        warnings.warn(f"skipped {len(bad)} unreadable image(s) of {len(files)} in {root}: {names}", GanzooWarning, stacklevel=2)
    if small:
        names = ", ".join(str(p.relative_to(root)) for p in small[:SHOWN])
        warnings.warn(f"upsampled {len(small)} image(s) smaller than {config.load}x{config.load} in {root} ({names}); "
                      "dataset_options.small=refuse refuses them", GanzooWarning, stacklevel=2)


def decode_all(root: Path, files: list[Path], config: FolderConfig, out: np.ndarray) -> list[int]:
    """Decode ``files`` into ``out`` (N, C, L, L) uint8, in parallel; the indices that were
    readable, in order (they fill ``out``'s first rows). Bad files are reported or refused."""
    workers = min(8, os.cpu_count() or 1) if len(files) >= 2000 else 0
    loader = torch.utils.data.DataLoader(_Decode(files, config), batch_size=None, num_workers=workers)
    kept, bad, small = [], [], []
    for i, (image, upsampled, why, refused) in enumerate(loader):
        if refused:
            raise DataError(why)
        if image is None:
            bad.append((files[i], why))
            continue
        out[len(kept)] = image.numpy()
        kept.append(i)
        if upsampled:
            small.append(files[i])
    _report(root, files, bad, small, config)
    return kept


def _cache_key(root: Path, files: list[Path], config: FolderConfig) -> str:
    stats = [(str(p.relative_to(root)), st.st_size, st.st_mtime_ns) for p in files for st in (p.stat(),)]
    shaping = {k: getattr(config, k) for k in ("labels", "channels", "background", "small", "max_bad", "limit")}
    blob = json.dumps({"version": CACHE_VERSION, "root": str(root.resolve()), "load": config.load, "options": shaping,
                       "files": stats}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def stored_images(root: Path, files: list[Path], config: FolderConfig, memory: bool) -> tuple[np.ndarray, list[int]]:
    """The decoded set (N, C, L, L) uint8 and the indices of ``files`` it holds: from the
    cache when it matches the files and options, else decoded now (and cached). Without
    ``memory`` the array is memory-mapped from the cache file, not read."""
    shape = (len(files), config.channels, config.load, config.load)
    if not config.cache:
        out = np.empty(shape, np.uint8)
        kept = decode_all(root, files, config, out)
        return out[: len(kept)], kept
    folder = cache_dir() / "datasets"
    key = _cache_key(root, files, config)
    array_path, meta_path = folder / f"image-folder-{key}.npy", folder / f"image-folder-{key}.json"
    try:
        kept = json.loads(meta_path.read_text())["kept"]
        array = np.load(array_path, mmap_mode=None if memory else "r", allow_pickle=False)
        if array.shape == (len(kept), *shape[1:]) and array.dtype == np.uint8:
            return array, kept
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or a damaged one: decode again
    with atomic_file(array_path, "w+b") as f:  # decoded straight into the cache file's temporary, renamed when done
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False, "shape": shape})
        f.flush()
        out = np.memmap(f, np.uint8, "r+", offset=f.tell(), shape=shape)  # the .npy file's data, written in place
        kept = decode_all(root, files, config, out)
        if len(kept) < len(files):  # unreadable files were skipped: the file holds the readable rows only
            trimmed = np.array(out[: len(kept)])
            del out
            f.truncate(0)
            f.seek(0)
            np.save(f, trimmed, allow_pickle=False)
        else:
            out.flush()
            del out
    with atomic_file(meta_path) as f:  # written last: a cache counts only with its index
        f.write(json.dumps({"kept": kept, "root": str(root), "files": len(files)}))
    return np.load(array_path, mmap_mode=None if memory else "r", allow_pickle=False), kept


# ---------------------------------------------------------------- the dataset


class StreamedFolder(ItemData):
    """Images read one at a time by loader workers: from the decoded cache (memory-mapped
    in each worker, never copied) or decoded from the files. A file that fails to decode
    mid-run is replaced by the next readable one, with a warning."""

    def __init__(self, root: Path, files: list[Path], labels: list[int], classes: tuple[str, ...], config: FolderConfig,
                 stored: np.ndarray | None) -> None:
        self.root, self.files, self.labels, self.classes, self.config = root, files, labels, classes, config
        self.stored_path = Path(stored.filename) if isinstance(stored, np.memmap) else None
        self._stored = stored

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_stored": None}  # workers map the cache file themselves

    def __len__(self) -> int:
        return len(self.files)

    @property
    def info(self) -> DataInfo:
        return DataInfo(self.config.channels, self.config.image_size, self.config.image_size, len(self.classes))

    def _image(self, index: int) -> Tensor:
        if self.stored_path is not None:
            if self._stored is None:
                self._stored = np.load(self.stored_path, mmap_mode="r", allow_pickle=False)
            return torch.from_numpy(np.array(self._stored[index]))
        for step in range(len(self.files)):
            path = self.files[(index + step) % len(self.files)]
            try:
                image, upsampled = decode(path, self.config)
            except TooSmall:
                raise
            except DataError as e:
                warnings.warn(f"skipped an unreadable image: {e}", GanzooWarning, stacklevel=2)
                continue
            if upsampled:
                warnings.warn(f"images smaller than {self.config.load}x{self.config.load} are upsampled; "
                              "dataset_options.small=refuse refuses them", GanzooWarning, stacklevel=2)
            return image
        raise DataError(f"no image in {self.root} can be read")

    def item(self, index: int, rng: torch.Generator | None) -> dict[str, Tensor]:
        out = {"image": view(self._image(index), rng, self.config)}
        if self.classes:
            out["label"] = torch.tensor(self.labels[index], dtype=torch.long)
        return out


def _split(files: list[Path], labels: list[int], config: FolderConfig, split: str) -> tuple[list[Path], list[int]]:
    if split == "train" and not config.test_every:
        return files, labels
    if not config.test_every:
        raise DataError("this image folder has no held-out split: set dataset_options.test_every=N to hold out every N-th "
                        "image, or evaluate with --split train")
    keep = [i for i in range(len(files)) if (i % config.test_every == config.test_every - 1) == (split == "test")]
    return [files[i] for i in keep], [labels[i] for i in keep] if labels else []


def load_folder(config: FolderConfig, data_root: Path, split: str = "train") -> ImageData | StreamedFolder:
    if not config.path:
        raise DataError("image-folder needs a folder: --set dataset_options.path=FOLDER")
    root = Path(config.path).expanduser()
    files, labels, classes = list_images(root, config.labels)
    files, labels = _split(files, labels, config, split)
    if config.limit:
        files, labels = files[: config.limit], labels[: config.limit]
    size = len(files) * config.channels * config.load**2
    memory = config.storage == "memory" or (config.storage == "auto" and size <= config.memory_mb * 2**20)
    if not memory and not config.cache:
        return StreamedFolder(root, files, labels, classes, config, None)
    stored, kept = stored_images(root, files, config, memory)
    labels = [labels[i] for i in kept] if labels else []
    if not kept:
        raise DataError(f"none of the {len(files)} images in {root} can be read")
    if not memory:
        return StreamedFolder(root, [files[i] for i in kept], labels, classes, config, stored)
    tensors = {"image": torch.from_numpy(np.ascontiguousarray(stored))}
    if classes:
        tensors["label"] = torch.tensor(labels, dtype=torch.long)
    return ImageData(tensors, num_classes=len(classes), class_names=classes, augment=Views(config))
