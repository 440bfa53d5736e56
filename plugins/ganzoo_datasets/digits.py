"""MNIST, Fashion-MNIST and the bundled 5,000-digit MNIST.

``mnist`` and ``fashion-mnist`` are the full training sets through torchvision's loaders,
kept in ``DATA_DIR/MNIST/raw`` and ``DATA_DIR/FashionMNIST/raw`` (downloaded there when
online). ``mnist-5k`` is the 5,000 real digits (500 of each class) shipped with ganzoo
(``ganzoo.plugin.bundled_mnist``), so the quick start and the tests run offline.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import torch

from ganzoo.plugin import DataError, ImageData, bundled_mnist, check_range, resize_images
MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


@dataclass(frozen=True)
class DigitsConfig:
    image_size: int = 0  # resize to image_size x image_size (0: keep 28 x 28)
    limit: int = 0  # use only the first `limit` images (0: all), e.g. for smoke tests
    download: bool = True  # download the full sets when missing (needs internet)

    def __post_init__(self) -> None:
        check_range("dataset_options.image_size", self.image_size, 0, 1024)
        check_range("dataset_options.limit", self.limit, 0)


def _finish(images: torch.Tensor, labels: torch.Tensor, config: DigitsConfig, classes: tuple[str, ...]) -> ImageData:
    """(N, 28, 28) uint8 + labels -> ImageData, limited and resized as configured."""
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    images = images.unsqueeze(1)  # (N, 1, 28, 28)
    if config.image_size:
        images = resize_images(images, config.image_size)
    return ImageData({"image": images.contiguous(), "label": labels.long()}, num_classes=len(classes), class_names=classes)


def load_mnist_5k(config: DigitsConfig, root: Path, split: str = "train") -> ImageData:
    return _finish(*bundled_mnist(), config, MNIST_CLASSES)


def torchvision_digits(cls_name: str, classes: tuple[str, ...]):
    def load(config: DigitsConfig, root: Path, split: str = "train") -> ImageData:
        import torchvision

        cls = getattr(torchvision.datasets, cls_name)
        raw = root / cls_name / "raw"
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                dataset = cls(str(root), train=split == "train", download=config.download)
        except RuntimeError as e:
            tried = "the download failed (no internet?)" if config.download else "download is off"
            part = "train" if split == "train" else "t10k"
            files = ", ".join(url.rsplit("/", 1)[-1] for url, _ in cls.resources if part in url)
            raise DataError(
                f"{cls_name} is not in {raw} and {tried}: put {files} there "
                f"(or pass --data-dir), or train on the bundled subset with 'ganzoo run dcgan-mnist-5k'"
            ) from (None if "not found" in str(e) or "download" in str(e).lower() else e)
        return _finish(dataset.data, dataset.targets, config, classes)

    return load
