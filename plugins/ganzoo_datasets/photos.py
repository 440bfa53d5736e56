"""The colour sets of the DCGAN paper and its successors, through torchvision's loaders.

- ``cifar10``: 50,000 training (10,000 test) 32 x 32 images of 10 classes, held in memory;
  downloaded by torchvision when online (``DATA_DIR/cifar-10-batches-py``).
- ``celeba``: 202,599 aligned faces (``DATA_DIR/celeba/img_align_celeba`` with its list
  files), streamed; each image's central ``crop_size`` square resized to ``image_size``.
  torchvision fetches it from Google Drive, which often refuses: the offline line says
  where to put the files.
- ``lsun``: one LSUN scene category (``bedroom``, ``church_outdoor``, ...) from its LMDB
  (``DATA_DIR/lsun/CATEGORY_train_lmdb``), streamed; the central square resized to
  ``image_size``. Needs the ``lmdb`` package (``pip install 'ganzoo[lsun]'``); downloading
  (tens of GB) happens only with ``download: true``. Read by :class:`LMDBImages`, not by
  torchvision's ``LSUN`` (which unpickles a key cache from the current directory).
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from ganzoo.plugin import DataError, DataInfo, ImageData, ItemData, check_range, download_archive, resize_images
from ganzoo_datasets.folder import FolderConfig, Views, view

CIFAR_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CELEBA_FILES = "img_align_celeba.zip (unpacked), list_eval_partition.txt, identity_CelebA.txt, list_attr_celeba.txt, " \
               "list_bbox_celeba.txt, list_landmarks_align_celeba.txt"
LSUN_URL = "http://dl.yf.io/lsun/scenes/{category}_train_lmdb.zip"


@dataclass(frozen=True)
class PhotoConfig:
    image_size: int = 64  # side of the square images the model sees
    crop_size: int = 0  # celeba / lsun: side of the central square taken first (0: the shorter side; celeba: 140 is usual)
    flip: bool = False  # random horizontal flips
    limit: int = 0  # use only the first `limit` images (0: all)
    download: bool = True  # fetch the set when missing (needs internet)

    def __post_init__(self) -> None:
        check_range("dataset_options.image_size", self.image_size, 4, 1024)
        check_range("dataset_options.crop_size", self.crop_size, 0, 4096)
        check_range("dataset_options.limit", self.limit, 0)

    @property
    def views(self) -> Views:
        return Views(FolderConfig(image_size=self.image_size, flip=self.flip))


@dataclass(frozen=True)
class LSUNConfig(PhotoConfig):
    category: str = "bedroom"  # the scene category (bedroom, church_outdoor, tower, ...)
    download: bool = False  # fetch the category when missing: tens of GB, so only when asked


def load_cifar10(config: PhotoConfig, root: Path, split: str = "train") -> ImageData:
    from torchvision.datasets import CIFAR10

    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            data = CIFAR10(str(root), train=split == "train", download=config.download)
    except (RuntimeError, OSError) as e:
        tried = "the download failed (no internet?)" if config.download else "download is off"
        raise DataError(f"CIFAR-10 is not in {root / 'cifar-10-batches-py'} and {tried}: fetch {CIFAR_URL} and unpack it in "
                        f"{root} (or pass --data-dir)") from (None if "not found" in str(e) or config.download else e)
    images = torch.from_numpy(np.ascontiguousarray(data.data)).permute(0, 3, 1, 2)  # (N, 3, 32, 32)
    labels = torch.tensor(data.targets, dtype=torch.long)
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    images = resize_images(images, config.image_size).contiguous()
    return ImageData({"image": images, "label": labels}, num_classes=10, class_names=CIFAR_CLASSES, augment=config.views)


class CentreCropped(ItemData):
    """A torchvision image dataset (PIL images) streamed as central squares of
    ``image_size``; the dataset is opened in each loader worker, never pickled."""

    def __init__(self, open_dataset: partial, config: PhotoConfig) -> None:
        self.open_dataset, self.config = open_dataset, config
        self.view_config = config.views.config  # built once: not per item
        self._data = open_dataset()
        self.n = min(len(self._data), config.limit) if config.limit else len(self._data)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_data": None}

    def __len__(self) -> int:
        return self.n

    @property
    def info(self) -> DataInfo:
        return DataInfo(3, self.config.image_size, self.config.image_size)

    def item(self, index: int, rng: torch.Generator | None) -> dict[str, Tensor]:
        import torchvision.transforms.v2.functional as TF

        if self._data is None:
            self._data = self.open_dataset()
        image = TF.pil_to_tensor(self._data[index][0].convert("RGB"))  # (3, H, W) uint8
        side = self.config.crop_size or min(image.shape[-2:])
        image = TF.resize(TF.center_crop(image, [side, side]), [self.config.image_size], antialias=True)
        return {"image": view(image, rng, self.view_config)}


def _open_celeba(root: str, split: str, download: bool):  # type: ignore[no-untyped-def]
    from torchvision.datasets import CelebA

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return CelebA(root, split={"val": "valid"}.get(split, split), target_type=[], download=download)


class LMDBImages:
    """The images of an LSUN LMDB (encoded WebP/JPEG values), as ``(PIL image, 0)`` pairs.

    torchvision's ``LSUN`` reader is not used: it caches the key list as a pickle in the
    current directory and unpickles one found there, i.e. runs whatever a planted file says.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        with self._env() as env, env.begin() as txn:
            self.keys = list(txn.cursor().iternext(values=False))

    def _env(self):  # type: ignore[no-untyped-def]
        import lmdb

        return lmdb.open(self.path, readonly=True, lock=False, readahead=False, meminit=False, max_readers=1)

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int):  # type: ignore[no-untyped-def]
        from PIL import Image

        if getattr(self, "_open", None) is None:
            self._open = self._env()
        with self._open.begin() as txn:
            return Image.open(io.BytesIO(txn.get(self.keys[index]))), 0

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_open": None}  # each loader worker opens the LMDB itself


def load_celeba(config: PhotoConfig, root: Path, split: str = "train") -> CentreCropped:
    try:
        return CentreCropped(partial(_open_celeba, str(root), split, config.download), config)
    except (RuntimeError, OSError, ImportError) as e:
        raise DataError(f"CelebA is not in {root / 'celeba'} (torchvision's download from Google Drive often fails): put "
                        f"{CELEBA_FILES} there (from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html), or pass --data-dir"
                        ) from (None if "not found" in str(e).lower() or "download" in str(e).lower() else e)


def load_lsun(config: LSUNConfig, root: Path, split: str = "train") -> CentreCropped:
    folder = root / "lsun"
    name = f"{config.category}_{'val' if split in ('val', 'test') else 'train'}"
    if not (folder / f"{name}_lmdb").is_dir():
        url = LSUN_URL.format(category=config.category)
        if not config.download:
            raise DataError(f"LSUN {config.category} is not in {folder / (name + '_lmdb')}: download {url} and unpack it in "
                            f"{folder}, or --set dataset_options.download=true (tens of GB)")
        download_archive(url, folder, f"LSUN {config.category}", f"unpack it in {folder}")
    try:
        import lmdb  # noqa: F401  (torchvision's LSUN reader needs it)
    except ImportError:
        raise DataError("reading LSUN needs the lmdb package: pip install 'ganzoo[lsun]'") from None
    return CentreCropped(partial(LMDBImages, str(folder / f"{name}_lmdb")), config)
