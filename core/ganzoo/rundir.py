"""The run directory and its small files: created atomically, written whole or appended
recoverably, read back tolerantly.

- A new run directory is created with ``mkdir`` (atomic): two processes started in the
  same second never share one.
- ``run.json`` and other whole files are written to a unique temporary file and renamed
  over the old one (:func:`write_text_atomic`).
- ``history.jsonl`` is appended a line at a time; a line torn by a crash or a full disk
  is skipped with a warning by every reader (:func:`read_jsonl`).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ganzoo.errors import CheckpointError, ConfigError, GanzooWarning
from ganzoo.paths import checkpoint_path, runs_root


def create_run_dir(entry_name: str, runs_dir: str | Path | None = None) -> Path:
    """Create and return a new ``runs/ENTRY/YYYYmmdd-HHMMSS[-N]`` directory, inside the runs root."""
    root = runs_root(runs_dir)
    parent = root / entry_name
    if parent.resolve().parent != root.resolve():  # names are checked where entries are built; this is the last guard
        raise ConfigError(f"entry name '{entry_name}' would write outside {root}")
    parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for i in range(10_000):
        path = parent / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise ConfigError(f"cannot create a new run directory under {parent}")


def check_new_run_dir(path: Path) -> None:
    """Refuse to train a new run into a folder that already holds something."""
    if checkpoint_path(path).exists():
        raise CheckpointError(f"{path} already holds a checkpoint; resume it with --resume {path} or choose another run directory")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--run-dir {path} is a file, not a folder")
    if path.is_dir() and any(path.iterdir()):
        raise ConfigError(f"--run-dir {path} is not empty; choose an empty or new folder (or --resume a run)")


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "w", *, durable: bool = False) -> Iterator[IO[Any]]:
    """A file to write ``path`` through: a unique temporary file beside it, renamed over
    ``path`` when the block ends (flushed to disk first when ``durable``), removed when it
    fails. ``path`` holds either its old content or the new, whatever happens meanwhile;
    the temporaries a killed process leaves are what :func:`remove_partial_writes` deletes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    """``path`` holds either its old text or ``text``, whatever happens during the write."""
    with atomic_file(path) as f:
        f.write(text)


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` as one line; a torn earlier line (no newline at the end) is ended first."""
    line = json.dumps(record) + "\n"
    with path.open("a+b") as f:
        if f.tell():
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                line = "\n" + line
        f.write(line.encode())


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines file; unreadable lines (torn by a crash) are skipped with a warning."""
    if not path.is_file():
        return []
    records, torn = [], 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            torn += 1
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            torn += 1
    if torn:
        warnings.warn(GanzooWarning(f"{path}: skipped {torn} unreadable line(s) (a write cut short by a crash or a full disk)"),
                      stacklevel=2)
    return records


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file; missing is ``{}``, unreadable is ``{}`` with a warning."""
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        warnings.warn(GanzooWarning(f"{path} is unreadable (empty or cut short); it is written anew"), stacklevel=2)
        return {}
    return data


def remove_partial_writes(run_dir: Path) -> list[Path]:
    """Delete the temporary files that writes killed midway left in ``run_dir`` and its checkpoints."""
    orphans = [p for folder in (run_dir, run_dir / "checkpoints") if folder.is_dir() for p in folder.glob(".*.tmp") if p.is_file()]
    for p in orphans:
        p.unlink(missing_ok=True)
    return orphans


def checkpointed_runs(entry_name: str, runs_dir: str | Path | None = None) -> list[Path]:
    """The ``checkpoints/last.pt`` of every run of ``entry_name``, newest first."""
    return sorted(runs_root(runs_dir).glob(f"{entry_name}/*/checkpoints/last.pt"), key=lambda p: p.stat().st_mtime, reverse=True)


def newest_unfinished(entry_name: str, runs_dir: str | Path | None = None) -> Path | None:
    """The newest run directory of ``entry_name`` that holds a checkpoint but did not finish
    (interrupted, preempted, killed): what ``--resume auto`` continues."""
    for last in checkpointed_runs(entry_name, runs_dir):
        run_dir = last.parent.parent
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GanzooWarning)
            status = read_json(run_dir / "run.json").get("status")
        if status != "finished":
            return run_dir
    return None
