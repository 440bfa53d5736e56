"""Where ganzoo keeps things: datasets, runs and its cache (the path conventions, in one place)."""

from __future__ import annotations

import os
from pathlib import Path


def data_root(data_dir: str | Path | None = None) -> Path:
    """Where datasets live: ``data_dir``, else ``$GANZOO_DATA``, else ``~/.cache/ganzoo/data``."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("GANZOO_DATA"):
        return Path(os.environ["GANZOO_DATA"]).expanduser()
    return Path.home() / ".cache" / "ganzoo" / "data"


def runs_root(runs_dir: str | Path | None = None) -> Path:
    """Where runs are written: ``runs_dir``, else ``$GANZOO_RUNS``, else ``./runs``."""
    return Path(runs_dir or os.environ.get("GANZOO_RUNS") or "runs")


def cache_dir() -> Path:
    """ganzoo's cache (feature networks, real-image features): ``$GANZOO_CACHE``, else ``~/.cache/ganzoo``."""
    return Path(os.environ.get("GANZOO_CACHE") or Path.home() / ".cache" / "ganzoo").expanduser()


def run_dir_of(checkpoint: Path) -> Path:
    """The run directory of a checkpoint file (``RUN/checkpoints/last.pt`` -> ``RUN``)."""
    return checkpoint.parent.parent


def checkpoint_path(run_dir: Path, name: str = "last.pt") -> Path:
    """Where a run directory keeps its checkpoint ``name``."""
    return Path(run_dir) / "checkpoints" / name
