"""Shared dataset helpers: the in-memory dataset type, an IDX reader, device-resident batches.

Small image datasets (MNIST-sized) are held as uint8 tensors and moved to the training
device once; batches are then index gathers on the device, with no per-batch Python
collation and no host round trip.
"""

from __future__ import annotations

import gzip
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
    ``"label"`` (N,) int64 is optional. Every uint8 tensor becomes float in [-1, 1] in a
    batch; other tensors are passed as they are.
    """

    tensors: dict[str, Tensor]
    num_classes: int = 0
    class_names: tuple[str, ...] = ()

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
        return DataInfo(channels=c, height=h, width=w, num_classes=self.num_classes)


def to_model_range(t: Tensor) -> Tensor:
    """uint8 0..255 -> float -1..1; other dtypes unchanged."""
    if t.dtype == torch.uint8:
        return t.float().mul_(2.0 / 255.0).sub_(1.0)
    return t


def to_uint8(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> uint8 0..255 on the CPU (for PNGs and metrics)."""
    return ((images.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).cpu()


class DeviceBatches:
    """Batches drawn without replacement from tensors living on the training device.

    The order of epoch ``e`` is a permutation drawn from a generator seeded with
    ``(seed, e)``, so the position ``(epoch, index)`` alone fixes every later batch: a
    resumed run sees exactly the batches an uninterrupted one would. The last partial
    batch of an epoch is dropped (batch norm and a fixed step cost like full batches).
    """

    def __init__(self, data: ImageData, batch_size: int, device: torch.device, seed: int) -> None:
        if batch_size > len(data):
            raise DataError(f"batch_size {batch_size} is larger than the dataset ({len(data)} items)")
        self.tensors = {k: t.to(device) for k, t in data.tensors.items()}
        self.n = len(data)
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.batches_per_epoch = self.n // batch_size
        self.epoch = 0  # epochs completed
        self.index = 0  # batches drawn in the current epoch
        self._order: Tensor | None = None

    def _permutation(self) -> Tensor:
        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(self.n, generator=g).to(self.device)

    def next(self) -> tuple[dict[str, Tensor], bool]:
        """The next batch, and whether it was the last of its epoch."""
        if self._order is None:
            self._order = self._permutation()
        start = self.index * self.batch_size
        idx = self._order[start : start + self.batch_size]
        batch = {k: to_model_range(t.index_select(0, idx)) for k, t in self.tensors.items()}
        self.index += 1
        end_of_epoch = self.index == self.batches_per_epoch
        if end_of_epoch:
            self.epoch += 1
            self.index = 0
            self._order = None
        return batch, end_of_epoch

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.index = int(state["epoch"]), int(state["index"])
        self._order = None


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
