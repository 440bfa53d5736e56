"""Datasets and their batch streams (see :mod:`ganzoo.data.datasets` and :mod:`ganzoo.data.batches`)."""

from ganzoo.data.batches import (
    Batches, DeviceBatches, StreamBatches, UnpairedBatches, default_workers, eval_batches, gather, make_batches, spread_items,
)
from ganzoo.data.datasets import DATASET_TYPES, Dataset, ImageData, ItemData, UnpairedData
from ganzoo.data.download import download_archive
from ganzoo.data.idx import bundled_mnist, read_idx

__all__ = ["Batches", "DATASET_TYPES", "Dataset", "DeviceBatches", "ImageData", "ItemData", "StreamBatches", "UnpairedBatches",
           "UnpairedData", "bundled_mnist", "default_workers", "download_archive", "eval_batches", "gather", "make_batches",
           "read_idx", "spread_items"]
