"""``metrics.json`` of a run directory: one section per kind of measurement, merged in place."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def read_metrics(run_dir: Path) -> dict[str, Any]:
    path = Path(run_dir) / "metrics.json"
    return json.loads(path.read_text()) if path.exists() else {}


def update_metrics(run_dir: Path, section: str, record: dict[str, Any]) -> Path:
    """Set ``section`` of ``run_dir/metrics.json`` to ``record``, keeping the other sections.

    Written to a temporary file and renamed, so the file is never left half written.
    """
    path = Path(run_dir) / "metrics.json"
    data = read_metrics(run_dir)
    data[section] = record
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)
    return path
