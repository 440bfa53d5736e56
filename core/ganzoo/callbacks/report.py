"""``run.json`` (device, versions, times, status) and ``report.html`` of every run."""

from __future__ import annotations

import json
import time

import torch

from ganzoo._version import __version__
from ganzoo.hookspecs import hookimpl
from ganzoo.report import write_report
from ganzoo.rundir import read_json, write_text_atomic


class RunReport:
    """Records how and where a run trained, and writes its report when it stops (finished
    or interrupted), after the other callbacks have written their files."""

    def __init__(self) -> None:
        self.started = 0.0
        self.info: dict = {}

    @hookimpl
    def ganzoo_train_start(self, run) -> None:
        self.started = time.perf_counter()
        device = torch.cuda.get_device_name(run.device) if run.device.type == "cuda" else run.device.type
        previous = self._read(run)
        self.info = {"entry": run.entry.name, "device": device, "precision": run.precisions, "threads": torch.get_num_threads(),
                     "torch": torch.__version__, "ganzoo": __version__,
                     "started": previous.get("started", time.strftime("%Y-%m-%d %H:%M:%S")), "status": "running",
                     "train_seconds": previous.get("train_seconds", 0.0) if run.step else 0.0}
        self._write(run)

    @hookimpl(trylast=True)
    def ganzoo_train_end(self, run, status: str) -> None:
        self.info.update(status=status, finished=time.strftime("%Y-%m-%d %H:%M:%S"), steps=run.step,
                         train_seconds=round(self.info.get("train_seconds", 0.0) + time.perf_counter() - self.started, 1))
        self._write(run)
        write_report(run.run_dir)

    @staticmethod
    def _read(run) -> dict:
        return read_json(run.run_dir / "run.json")

    def _write(self, run) -> None:
        write_text_atomic(run.run_dir / "run.json", json.dumps(self.info, indent=2) + "\n")
