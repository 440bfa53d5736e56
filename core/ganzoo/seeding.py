"""Seeded randomness that leaves the caller's random state as it was."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | None = None) -> Iterator[None]:
    """Inside: torch's process RNG (and ``device``'s, for a GPU) seeded with ``seed``, so the
    randomness inside networks (dropout, conditioning augmentation) repeats from call to
    call; afterwards: those RNGs as they were, so a training run's random stream goes on
    as if nothing had been drawn."""
    with torch.random.fork_rng(devices=[device] if device is not None and device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield
