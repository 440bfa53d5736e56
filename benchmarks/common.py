"""What the benchmark scripts share: the results' header, timing, and training entries or taking checkpoints."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch

import ganzoo
from ganzoo.training.device import cpu_has_fast_bf16


def header() -> dict[str, Any]:
    """Date, machine, threads, torch version and whether the CPU has bf16 units (AMX or
    AVX512-BF16: without them bf16 runs slower than fp32, and ``auto`` means fp32): what every
    recorded figure needs next to it."""
    return {"date": time.strftime("%Y-%m-%d"), "machine": platform.processor() or platform.machine(),
            "threads": torch.get_num_threads(), "torch": torch.__version__, "cpu_bf16_units": cpu_has_fast_bf16(),
            "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"}


def machine_line(head: dict[str, Any], device: str) -> str:
    """``2026-11-24, cpu (2 threads, bf16 units: no), torch 2.15.0``: the first words of a recorded
    table; ``device`` is where the figures were measured (``cpu`` or a GPU's name)."""
    units = f", bf16 units: {'yes' if head['cpu_bf16_units'] else 'no'}" if device == "cpu" else ""
    return f"{head['date']}, {device} ({head['threads']} threads{units}), torch {head['torch']}"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def rate(fn, items: int, device: torch.device) -> float:
    """Items per second of one call of ``fn()``."""
    sync(device)
    t0 = time.perf_counter()
    fn()
    sync(device)
    return items / (time.perf_counter() - t0)


def median_rate(fn, items: int, repeats: int, device: torch.device) -> float:
    """Items per second of ``fn()``, median over ``repeats`` (after one warm-up call)."""
    fn()
    return statistics.median(rate(fn, items, device) for _ in range(repeats))


def runs(entries: Sequence[str], checkpoints: Sequence[str], workdir: Path, registry: Any, device: str,
         data_dir: Path | None = None, overrides: Sequence[str] = ()) -> Iterator[tuple[str, float | None]]:
    """``(checkpoint source, training seconds)``: the given checkpoints (no time), then each
    entry trained with its default configuration (and ``overrides``) into ``workdir`` (timed)."""
    for source in checkpoints:
        yield source, None
    for name in entries:
        t0 = time.perf_counter()
        run = ganzoo.train(name, overrides=list(overrides), registry=registry, run_dir=workdir / name, device=device,
                           data_dir=data_dir)
        yield str(run.run_dir), round(time.perf_counter() - t0, 1)
