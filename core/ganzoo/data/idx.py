"""The IDX file format of MNIST (and Fashion-MNIST), gzip-compressed or not."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganzoo.errors import DataError

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path: str | Path) -> Tensor:
    """Read an IDX file, gzip-compressed or not.

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


BUNDLED = Path(__file__).resolve().parent.parent / "bundled"


def bundled_mnist() -> tuple[Tensor, Tensor]:
    """The 5,000 real MNIST digits shipped with ganzoo (500 per class; LeCun, Cortes and
    Burges, CC BY-SA 3.0): images (5000, 28, 28) uint8 and labels (5000,) uint8. Offline."""
    return read_idx(BUNDLED / "train-5k-images-idx3-ubyte.gz"), read_idx(BUNDLED / "train-5k-labels-idx1-ubyte.gz")
