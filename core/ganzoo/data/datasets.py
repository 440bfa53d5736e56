"""The three kinds of dataset a plugin's loader may return.

- :class:`ImageData`: tensors held in memory (MNIST-sized sets), moved to the training
  device once; every tensor shares the first dimension, so the items are aligned (an
  image with its label, an input with its target).
- :class:`UnpairedData`: several in-memory *domains* drawn independently of each other
  (CycleGAN's unpaired A and B): each domain has its own length and its own order.
- :class:`ItemData`: read and augmented item by item in loader worker processes (folders
  of photographs too large to hold in memory).

Batch keys: ``"image"`` (N, C, H, W) uint8 is the image a model generates; ``"input"``
(N, C', H', W') uint8 the image a translating model reads; ``"label"`` (N,) int64;
``"caption"`` token ids (N, K, L) or ``"embedding"`` (N, K, D) floats. Every uint8 tensor
becomes float in [-1, 1] in a batch; other tensors are passed as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from ganzoo.errors import DataError
from ganzoo.specs import DataInfo


def _info(tensors: dict[str, Tensor], num_classes: int = 0, vocabulary: tuple[str, ...] = ()) -> DataInfo:
    _, c, h, w = tensors["image"].shape if "image" in tensors else (0, 0, 0, 0)
    _, ic, ih, iw = tensors["input"].shape if "input" in tensors else (0, 0, 0, 0)
    text_dim = tensors["embedding"].shape[-1] if "embedding" in tensors else 0
    return DataInfo(c, h, w, num_classes, input_channels=ic, input_height=ih, input_width=iw, vocabulary=vocabulary,
                    text_dim=text_dim)


Augment = Callable[[dict[str, Tensor], "list[torch.Generator] | None"], dict[str, Tensor]]


@dataclass
class ImageData:
    """A dataset held in memory as tensors with a common first dimension (aligned items).

    ``augment(batch, rngs)``, when given, turns a gathered batch of uint8 tensors into what
    the model sees: with one generator per item (training: item ``i`` draws its random
    crop or flip from ``rngs[i]``, the generator an :class:`ItemData` item at the same
    position gets) or ``None`` (evaluation and previews: the plain, deterministic view).
    The stored images may be larger than the augmented ones; :attr:`info` describes the
    latter.
    """

    tensors: dict[str, Tensor]
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    vocabulary: tuple[str, ...] = ()  # captioned data: token id i + 2 is vocabulary[i] (0 pads, 1 is unknown)
    augment: Augment | None = None

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

    def plain(self, n: int | None = None) -> dict[str, Tensor]:
        """The first ``n`` items (all by default) as the model sees them without augmentation."""
        tensors = {k: t[:n] for k, t in self.tensors.items()}
        return tensors if self.augment is None else self.augment(tensors, None)

    @property
    def info(self) -> DataInfo:
        return _info(self.plain(1), self.num_classes, self.vocabulary)


@dataclass
class UnpairedData:
    """Domains held in memory and drawn independently: ``domains`` is a list of tensor
    dicts, each with its own length, the batch keys unique across them; e.g.
    ``[{"input": outlines}, {"image": digits, "label": labels}]``.

    Each domain is reshuffled on its own whenever it has been gone through, in an order
    drawn from the seed, the domain's position in the list and how many times it was gone
    through: the batch at any position is fixed, so a resumed run draws the same batches.
    An epoch is a pass over the largest domain.
    """

    domains: list[dict[str, Tensor]]
    num_classes: int = 0

    def __post_init__(self) -> None:
        keys = [k for domain in self.domains for k in domain]
        if len(keys) != len(set(keys)) or "image" not in keys:
            raise DataError(f"unpaired domains need unique batch keys, one of them 'image' (got {keys})")
        for domain in self.domains:
            sizes = {key: t.shape[0] for key, t in domain.items()}
            if len(set(sizes.values())) != 1 or 0 in sizes.values():
                raise DataError(f"the tensors of one domain must share a non-zero length, got {sizes}")

    def __len__(self) -> int:
        return max(self.lengths)

    @property
    def lengths(self) -> list[int]:
        return [next(iter(domain.values())).shape[0] for domain in self.domains]

    @property
    def tensors(self) -> dict[str, Tensor]:
        """Every domain's tensors in one dict (their lengths differ)."""
        return {k: t for domain in self.domains for k, t in domain.items()}

    @property
    def info(self) -> DataInfo:
        return _info(self.tensors, self.num_classes)


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


Dataset = ImageData | UnpairedData | ItemData
DATASET_TYPES = (ImageData, UnpairedData, ItemData)
