"""``metrics.json`` of a run directory: one section per kind of measurement, merged in place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganzoo.rundir import read_json, write_text_atomic


def read_metrics(run_dir: Path) -> dict[str, Any]:
    return read_json(Path(run_dir) / "metrics.json")


def update_metrics(run_dir: Path, section: str, record: dict[str, Any]) -> Path:
    """Set ``section`` of ``run_dir/metrics.json`` to ``record``, keeping the other sections.

    Written to a temporary file and renamed, so the file is never left half written.
    """
    path = Path(run_dir) / "metrics.json"
    data = read_metrics(run_dir)
    data[section] = record
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")
    return path
