"""``digit-outlines``: outlines (domain A) and digits (domain B) that never pair up in training.

The bundled MNIST digits are split three ways: every tenth digit is held out, and of
the others, the outlines are drawn from one half and the digits from the other, so no
training digit appears in both domains. Held out (``val``), each digit comes with its
own outline: the true pairs that ``ganzoo evaluate`` scores both directions against.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.plugin import ImageData, UnpairedData, bundled_mnist, resize_images


@dataclass(frozen=True)
class DigitOutlinesConfig:
    image_size: int = 32  # the digits are resized from 28 to this
    edge_width: int = 1  # thickness of the outline, in pixels of the resized image
    limit: int = 0  # use only the first `limit` images of each domain (0: all)


def outline(images: Tensor, width: int = 1) -> Tensor:
    """Morphological gradient (dilation - erosion) of (N, 1, H, W) uint8 images: their outlines."""
    k = 2 * width + 1
    x = images.float()
    return (F.max_pool2d(x, k, 1, width) + F.max_pool2d(-x, k, 1, width)).round().clamp(0, 255).to(torch.uint8)


def load_digit_outlines(config: DigitOutlinesConfig, root: Path, split: str = "train") -> UnpairedData | ImageData:
    images, labels = bundled_mnist()
    images, labels = resize_images(images.unsqueeze(1), config.image_size).contiguous(), labels.long()
    position = torch.arange(len(images))
    if split == "val":
        keep = position % 10 == 9
        digits = images[keep][: config.limit or None]
        return ImageData({"input": outline(digits, config.edge_width), "image": digits, "label": labels[keep][: len(digits)]},
                         num_classes=10)
    trained = position % 10 != 9
    a = trained & (position % 2 == 0)  # outlines of these digits ...
    b = trained & (position % 2 == 1)  # ... and these digits: disjoint
    outlines, digits = outline(images[a], config.edge_width), images[b]
    n = config.limit or None
    return UnpairedData([{"input": outlines[:n]}, {"image": digits[:n], "label": labels[b][:n]}], num_classes=10)
