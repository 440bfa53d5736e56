"""TensorBoard: event files in the run directory, written by ``torch.utils.tensorboard``.

``tensorboard --logdir runs/`` then shows every run of every entry side by side, each
named ``ENTRY/TIMESTAMP``. Scalars (each logged metric, ``lr/GROUP``, ``images_per_s``),
the preview grids as images, the resolved config as text, and ``ganzoo evaluate``'s
figures at the step they were measured. The writer queues events and writes them from
its own thread; a resumed run purges what the interrupted one logged after its
checkpoint (TensorBoard's ``purge_step``), so no step appears twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from torch import Tensor

from ganzoo.plugin import Logger, check_range


class TensorBoardLogger(Logger):
    def __init__(self, flush_secs: int = 30) -> None:
        from torch.utils.tensorboard import SummaryWriter  # ImportError without the tensorboard package

        check_range("train.logger_options.tensorboard.flush_secs", flush_secs, 1)
        self.writer_type = SummaryWriter
        self.flush_secs = flush_secs
        self.writer: Any = None

    def start(self, run_dir: Path, config: dict[str, Any], step: int) -> None:
        # a session start at 0 for a new run; at step + 1 for a resumed one, which hides what the interrupted process
        # logged after its checkpoint (both of TensorBoard's readers need the first start to honour the second)
        self.writer = self.writer_type(str(run_dir), purge_step=step + 1 if step else 0, flush_secs=self.flush_secs)
        if step == 0:
            text = yaml.safe_dump(config, sort_keys=False)
            self.writer.add_text("config", "".join(f"    {line}\n" for line in text.splitlines()), 0)  # a Markdown code block

    def reopen(self, run_dir: Path, config: dict[str, Any]) -> None:
        self.writer = self.writer_type(str(run_dir), flush_secs=self.flush_secs)

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        for key, value in metrics.items():
            self.writer.add_scalar(key, value, step)

    def log_images(self, step: int, tag: str, grid: Tensor) -> None:
        self.writer.add_image(tag, grid, step)  # (C, H, W) uint8

    def finish(self, status: str | None) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
