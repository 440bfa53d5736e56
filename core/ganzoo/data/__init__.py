"""Shared dataset helpers: the two dataset types, their batch streams, an IDX reader.

Small image datasets (MNIST-sized) are :class:`ImageData`: uint8 tensors moved to the
training device once; batches are index gathers on the device, with no per-batch Python
collation and no host round trip. Larger ones (folders of photographs) are
:class:`ItemData`: read and augmented item by item in loader worker processes, then
moved to the device in pinned memory.

Both streams draw the order of epoch ``e`` from a generator seeded with ``(seed, e)`` and
an item's augmentation from one seeded with ``(seed, e, position)``, so the position
``(epoch, index)`` alone fixes every later batch: a resumed run sees exactly the batches
an uninterrupted one would, whatever the number of workers.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganzoo.errors import DataError
from ganzoo.specs import DataInfo


@dataclass
class ImageData:
    """A dataset held in memory as tensors with a common first dimension.

    ``tensors`` maps batch keys to tensors: ``"image"`` is (N, C, H, W) uint8 (0-255);
    ``"label"`` (N,) int64, for paired data an ``"input"`` image (N, C', H', W') uint8,
    and for captioned data ``"caption"`` token ids (N, K, L) or ``"embedding"`` (N, K, D)
    floats (K captions per image) are optional. Every uint8 tensor becomes float in [-1, 1] in a batch; other
    tensors are passed as they are.
    """

    tensors: dict[str, Tensor]
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()  # captioned data: token id i + 2 is vocabulary[i] (0 pads, 1 is unknown)

    def __post_init__(self) -> None:
        if "image" not in self.tensors:
            raise DataError("a dataset must provide an 'image' tensor")
        sizes = {key: t.shape[0] for key, t in self.tensors.items()}
        if len(set(sizes.values())) != 1:
            raise DataError(f"dataset tensors differ in length: {sizes}")
        if len(self) == 0:
            raise DataError("the dataset is empty")

    def __len__(self) -> int:
        return self.tensors["image"].shape[0]

    @property
    def info(self) -> DataInfo:
        _, c, h, w = self.tensors["image"].shape
        _, ic, ih, iw = self.tensors["input"].shape if "input" in self.tensors else (0, 0, 0, 0)
        text_dim = self.tensors["embedding"].shape[-1] if "embedding" in self.tensors else 0
        return DataInfo(c, h, w, self.num_classes, input_channels=ic, input_height=ih, input_width=iw,
                        vocabulary=self.vocabulary, text_dim=text_dim)


def to_model_range(t: Tensor) -> Tensor:
    """uint8 0..255 -> float -1..1; other dtypes unchanged."""
    if t.dtype == torch.uint8:
        return t.float().mul_(2.0 / 255.0).sub_(1.0)
    return t


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 0..255 on the CPU (for PNGs and metrics)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


class ItemData(torch.utils.data.Dataset):
    """A dataset read one item at a time (by loader workers when there are any).

    Subclasses implement ``__len__``, :meth:`item` and :attr:`info`. ``item`` returns the
    item's tensors under batch keys, images as (C, H, W) uint8 of a fixed size; with an
    ``rng`` it applies the random augmentation of training (crops, flips), drawing every
    random number from ``rng``; with ``rng=None`` it returns the plain item (evaluation).
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def item(self, index: int, rng: torch.Generator | None) -> dict[str, Tensor]:
        raise NotImplementedError

    @property
    def info(self) -> DataInfo:
        raise NotImplementedError

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        return self.item(index, None)


Dataset = ImageData | ItemData


def _order(n: int, seed: int, epoch: int) -> Tensor:
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=g)


def _check_batch_size(batch_size: int, n: int) -> None:
    if batch_size > n:
        raise DataError(f"batch_size {batch_size} is larger than the dataset ({n} items)")


class _Batches:
    """The position ``(epoch, index)`` of a batch stream; subclasses draw the batch there."""

    batches_per_epoch: int
    epoch = 0  # epochs completed
    index = 0  # batches drawn in the current epoch

    def _draw(self) -> dict[str, Tensor]:
        raise NotImplementedError

    def _reset(self) -> None:
        """Forget the current epoch's order (it is redrawn from the position)."""

    def next(self) -> tuple[dict[str, Tensor], bool]:
        """The next batch (on the device, images in [-1, 1]), and whether it ended its epoch."""
        batch = self._draw()
        self.index += 1
        end_of_epoch = self.index == self.batches_per_epoch
        if end_of_epoch:
            self.epoch += 1
            self.index = 0
            self._reset()
        return batch, end_of_epoch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self._reset()


class DeviceBatches(_Batches):
    """Batches drawn without replacement from tensors living on the training device.

    The last partial batch of an epoch is dropped (batch norm and a fixed step cost like
    full batches).
    """

    def __init__(self, data: ImageData, batch_size: int, device: torch.device, seed: int, rank: int = 0, world: int = 1) -> None:
        _check_batch_size(batch_size * world, len(data))
        self.tensors = {k: t.to(device) for k, t in data.tensors.items()}
        self.n = len(data)
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.rank, self.world = rank, world
        self.batches_per_epoch = self.n // (batch_size * world)
        self.epoch = 0  # epochs completed
        self.index = 0  # batches drawn in the current epoch
        self._order: Tensor | None = None

    def _draw(self) -> dict[str, Tensor]:
        if self._order is None:
            self._order = _order(self.n, self.seed, self.epoch).to(self.device)
        start = (self.index * self.world + self.rank) * self.batch_size  # this process's share of the global batch
        idx = self._order[start : start + self.batch_size]
        return {k: to_model_range(t.index_select(0, idx)) for k, t in self.tensors.items()}

    def _reset(self) -> None:
        self._order = None


class _Positions(torch.utils.data.Dataset):
    """An :class:`ItemData` seen by ``(epoch, position)``: item ``order[position]`` of that
    epoch's order, augmented with a generator seeded by ``(seed, epoch, position)``."""

    def __init__(self, data: ItemData, seed: int) -> None:
        self.data, self.seed = data, seed
        self._order: tuple[int, Tensor] | None = None  # the current epoch's order (one per worker)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key: tuple[int, int]) -> dict[str, Tensor]:
        epoch, pos = key
        if self._order is None or self._order[0] != epoch:
            self._order = (epoch, _order(len(self.data), self.seed, epoch))
        rng = torch.Generator().manual_seed(((self.seed * 1_000_003 + epoch) * 10_000_019 + pos) % 2**63)
        return self.data.item(int(self._order[1][pos]), rng)


class _Schedule:
    """The batches of ``(epoch, position)`` keys one process draws, from a given position on,
    epoch after epoch (a batch sampler without end: one loader serves the whole run)."""

    def __init__(self, stream: StreamBatches) -> None:
        self.epoch, self.index = stream.epoch, stream.index
        self.batches_per_epoch, self.batch_size = stream.batches_per_epoch, stream.batch_size
        self.rank, self.world = stream.rank, stream.world

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        epoch, index, bs = self.epoch, self.index, self.batch_size
        while True:
            for i in range(index, self.batches_per_epoch):
                start = (i * self.world + self.rank) * bs  # this process's share of the global batch
                yield [(epoch, start + j) for j in range(bs)]
            epoch, index = epoch + 1, 0


def default_workers(device: torch.device) -> int:
    """Loader processes when ``train.workers`` is -1: none on the CPU (the model needs the
    cores), otherwise one per spare core, up to 8."""
    if device.type == "cpu":
        return 0
    return max(0, min(8, (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) - 1))


class StreamBatches(_Batches):
    """Batches of an :class:`ItemData` read by a ``DataLoader``, with the interface of
    :class:`DeviceBatches` (``next``, ``epoch``, ``state_dict``)."""

    def __init__(self, data: ItemData, batch_size: int, device: torch.device, seed: int, workers: int = 0,
                 rank: int = 0, world: int = 1) -> None:
        _check_batch_size(batch_size * world, len(data))
        self.data, self.batch_size, self.device, self.seed = data, batch_size, device, seed
        self.rank, self.world = rank, world
        self.workers = default_workers(device) if workers < 0 else workers
        self.n = len(data)
        self.batches_per_epoch = self.n // (batch_size * world)
        self.epoch = 0
        self.index = 0
        self._it: Iterator[dict[str, Tensor]] | None = None

    def _loader(self) -> Iterator[dict[str, Tensor]]:
        """One ``DataLoader`` for the rest of the run: its workers live across epochs."""
        return iter(torch.utils.data.DataLoader(
            _Positions(self.data, self.seed), batch_sampler=_Schedule(self), num_workers=self.workers,
            pin_memory=self.device.type == "cuda", persistent_workers=self.workers > 0,
            generator=torch.Generator().manual_seed(self.seed),  # its own: the global RNG (dropout, noise) stays untouched
        ))

    def _draw(self) -> dict[str, Tensor]:
        if self._it is None:
            self._it = self._loader()
        return {k: to_model_range(t.to(self.device, non_blocking=True)) for k, t in next(self._it).items()}

    def load_state_dict(self, state: dict[str, int]) -> None:
        super().load_state_dict(state)
        self._it = None  # a new loader from the restored position


def make_batches(data: Dataset, batch_size: int, device: torch.device, seed: int, workers: int = -1, rank: int = 0,
                 world: int = 1) -> DeviceBatches | StreamBatches:
    """The training batch stream of a dataset of either kind. With ``world`` processes, every
    process draws the same order and takes slice ``rank`` of each global batch of
    ``batch_size * world`` items (a distributed sampler)."""
    if isinstance(data, ImageData):
        return DeviceBatches(data, batch_size, device, seed, rank, world)
    return StreamBatches(data, batch_size, device, seed, workers, rank, world)


def eval_batches(data: Dataset, batch_size: int, device: torch.device, limit: int = 0) -> Iterator[dict[str, Tensor]]:
    """Every item of ``data`` once, in order, without augmentation (the last batch may be
    short); at most ``limit`` batches when it is positive."""
    n = len(data)
    starts = range(0, n, batch_size)
    if limit > 0:
        starts = starts[:limit]
    for start in starts:
        yield gather(data, torch.arange(start, min(start + batch_size, n)), device)


def spread_items(data: Dataset, n: int, device: torch.device) -> dict[str, Tensor]:
    """``n`` items spread evenly over ``data`` (all of it if smaller), plain, as one batch:
    previews then show every part of a dataset stored in class order."""
    return gather(data, torch.linspace(0, len(data) - 1, min(n, len(data))).round().long(), device)


def gather(data: Dataset, idx: Tensor, device: torch.device) -> dict[str, Tensor]:
    """Items ``idx`` without augmentation, as one batch on ``device`` in model range."""
    if isinstance(data, ImageData):
        batch = {k: t[idx] for k, t in data.tensors.items()}
    else:
        items = [data.item(int(i), None) for i in idx]
        batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    return {k: to_model_range(t.to(device)) for k, t in batch.items()}


def download_archive(url: str, root: Path, what: str, hint: str) -> None:
    """Download and unpack the archive at ``url`` into ``root`` (torchvision's downloader).

    Offline or on a broken archive it raises one actionable :class:`DataError`: ``hint`` says
    where the user should unpack ``what`` by hand.
    """
    import urllib.error
    import zipfile

    from torchvision.datasets.utils import download_and_extract_archive

    try:
        download_and_extract_archive(url, str(root), remove_finished=True)
    except (urllib.error.URLError, OSError, RuntimeError, zipfile.BadZipFile) as e:
        raise DataError(f"could not download {what} from {url} ({type(e).__name__}; no internet?): fetch it elsewhere and "
                        f"{hint}, or pass --data-dir") from None


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


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


_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> Tensor:
    """Read an IDX file (MNIST's format), gzip-compressed or not.

    torchvision's reader takes only uncompressed files and reports damage with a bare
    ``assert``; this one reads ``.gz`` directly and raises :class:`DataError` saying which
    file is broken.
    """
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"missing data file {path}") from None
    except (OSError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_TYPES:
        raise DataError(f"{path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[raw[2]])
    if len(raw) - header != int(np.prod(shape)) * dtype.itemsize:
        raise DataError(f"{path} is truncated or corrupt: header says {shape}, size does not match")
    array = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True))
