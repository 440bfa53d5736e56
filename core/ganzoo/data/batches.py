"""Batch streams over datasets, positioned so that resume is exact.

Both streams draw the order of epoch ``e`` from a generator seeded with ``(seed, e)`` and
an item's augmentation from one seeded with ``(seed, e, position)``, so the position
``(epoch, index)`` alone fixes every later batch: a resumed run sees exactly the batches
an uninterrupted one would, whatever the number of workers. In-memory sets are batched
by index gathers on the device (no per-batch Python collation, no host round trip);
item sets are read by a ``DataLoader`` and moved to the device in pinned memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import torch
from torch import Tensor

from ganzoo.data.datasets import Dataset, ImageData, ItemData, UnpairedData
from ganzoo.errors import DataError
from ganzoo.images import to_model_range


def _order(n: int, seed: int, epoch: int) -> Tensor:
    g = torch.Generator().manual_seed(seed * 100_003 + epoch)
    return torch.randperm(n, generator=g)


def item_rng(seed: int, epoch: int, position: int) -> torch.Generator:
    """The generator of the item at ``position`` of epoch ``epoch``'s order (its augmentation)."""
    return torch.Generator().manual_seed(((seed * 1_000_003 + epoch) * 10_000_019 + position) % 2**63)


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
    full batches). With several processes (``world``), each takes slice ``rank`` of every
    global batch.
    """

    def __init__(self, data: ImageData, batch_size: int, device: torch.device, seed: int, rank: int = 0, world: int = 1) -> None:
        _check_batch_size(batch_size * world, len(data))
        self.tensors = {k: t.to(device) for k, t in data.tensors.items()}
        self.augment = data.augment
        self.n, self.batch_size, self.device, self.seed = len(data), batch_size, device, seed
        self.rank, self.world = rank, world
        self.batches_per_epoch = self.n // (batch_size * world)
        self.epoch, self.index = 0, 0
        self._order: Tensor | None = None

    def _draw(self) -> dict[str, Tensor]:
        if self._order is None:
            self._order = _order(self.n, self.seed, self.epoch).to(self.device)
        start = (self.index * self.world + self.rank) * self.batch_size  # this process's share of the global batch
        idx = self._order[start : start + self.batch_size]
        batch = {k: t.index_select(0, idx) for k, t in self.tensors.items()}
        if self.augment is not None:
            batch = self.augment(batch, [item_rng(self.seed, self.epoch, start + j) for j in range(self.batch_size)])
        return {k: to_model_range(t) for k, t in batch.items()}

    def _reset(self) -> None:
        self._order = None


class UnpairedBatches(_Batches):
    """Batches of an :class:`UnpairedData`: each domain contributes ``batch_size`` items
    from its own order. Item ``q`` of the run (counted over all batches drawn so far) is
    item ``q mod n`` of the domain's ``q div n``-th order."""

    def __init__(self, data: UnpairedData, batch_size: int, device: torch.device, seed: int, rank: int = 0, world: int = 1) -> None:
        _check_batch_size(batch_size * world, min(data.lengths))
        self.domains = [{k: t.to(device) for k, t in domain.items()} for domain in data.domains]
        self.lengths = data.lengths
        self.batch_size, self.device, self.seed = batch_size, device, seed
        self.rank, self.world = rank, world
        self.batches_per_epoch = len(data) // (batch_size * world)
        self.epoch, self.index = 0, 0
        self._orders: dict[tuple[int, int], Tensor] = {}

    def _domain_order(self, domain: int, cycle: int) -> Tensor:
        key = (domain, cycle)
        if key not in self._orders:
            self._orders = {k: v for k, v in self._orders.items() if k[0] != domain}  # one cached order per domain
            self._orders[key] = _order(self.lengths[domain], self.seed * 31 + domain + 1, cycle)
        return self._orders[key]

    def _draw(self) -> dict[str, Tensor]:
        per_epoch = self.batches_per_epoch * self.batch_size * self.world
        start = self.epoch * per_epoch + (self.index * self.world + self.rank) * self.batch_size
        q = torch.arange(start, start + self.batch_size)
        batch = {}
        for d, (domain, n) in enumerate(zip(self.domains, self.lengths)):
            cycles = q // n
            idx = torch.empty_like(q)
            for c in cycles.unique().tolist():
                mask = cycles == c
                idx[mask] = self._domain_order(d, c)[q[mask] % n]
            idx = idx.to(self.device)
            batch.update({k: to_model_range(t.index_select(0, idx)) for k, t in domain.items()})
        return batch


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
        return self.data.item(int(self._order[1][pos]), item_rng(self.seed, epoch, pos))


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
        self.epoch, self.index = 0, 0
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


Batches = DeviceBatches | UnpairedBatches | StreamBatches


def make_batches(data: Dataset, batch_size: int, device: torch.device, seed: int, workers: int = -1, rank: int = 0,
                 world: int = 1) -> Batches:
    """The training batch stream of a dataset of any kind. With ``world`` processes, every
    process draws the same order and takes slice ``rank`` of each global batch of
    ``batch_size * world`` items (a distributed sampler)."""
    if isinstance(data, ImageData):
        return DeviceBatches(data, batch_size, device, seed, rank, world)
    if isinstance(data, UnpairedData):
        return UnpairedBatches(data, batch_size, device, seed, rank, world)
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
    """Items ``idx`` without augmentation, as one batch on ``device`` in model range (of an
    :class:`UnpairedData`, item ``i mod n`` of each domain)."""
    if isinstance(data, ImageData):
        batch = {k: t[idx] for k, t in data.tensors.items()}
        if data.augment is not None:
            batch = data.augment(batch, None)
    elif isinstance(data, UnpairedData):
        batch = {k: t[idx % n] for domain, n in zip(data.domains, data.lengths) for k, t in domain.items()}
    else:
        items = [data.item(int(i), None) for i in idx]
        batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    return {k: to_model_range(t.to(device)) for k, t in batch.items()}
