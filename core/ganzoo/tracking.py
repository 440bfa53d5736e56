"""The logger contract: what a place that records training runs (TensorBoard, MLflow,
Weights & Biases, ...) implements.

A plugin registers a :class:`ganzoo.plugin.LoggerSpec` whose ``build(options)`` returns
a :class:`Logger`; a run uses it when its entry lists it in ``train.loggers`` (or
``ganzoo run --logger NAME``). The built-in ``callbacks`` plugin calls the methods below
from the training hooks, on the main process only, always with plain Python numbers and
CPU tensors: a logger never waits for the training device. A method that raises is
reported in one line and its logger detached; the run goes on.

Every method is optional. The calls of one run, in order::

    start(run_dir, config, step)       # step 0: a new run; > 0: resumed from that checkpoint step
    log_metrics(step, {...})           # every train.log_every steps: losses, images_per_s, lr/GROUP
    log_images(step, "samples", grid)  # every train.sample_every steps and at the end
    log_metrics(step, {"heldout/psnr": ...})  # figures of the end-of-run evaluation
    log_artifacts([paths])             # config.yaml, metrics.json, report.html, samples.png, ...
    finish(status)                     # "finished", "interrupted", "diverged" or "failed"

``ganzoo evaluate RUN`` adds its figures to the run's record later: ``reopen(run_dir,
config)``, ``log_metrics`` at the checkpoint's step, ``log_artifacts``, ``finish(None)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import Tensor


class Logger:
    """Base class of a logger; each method is a no-op here."""

    def start(self, run_dir: Path, config: dict[str, Any], step: int) -> None:
        """Open the run's record. ``config`` is the resolved entry (``config.yaml``'s
        content). On a resumed run (``step > 0``) continue the record the run started and
        drop (or skip) anything it holds after ``step``: those steps are trained again."""

    def reopen(self, run_dir: Path, config: dict[str, Any]) -> None:
        """Open the record of a run that has stopped, to add evaluation figures to it."""

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        """Scalars at ``step`` (the generator updates done)."""

    def log_images(self, step: int, tag: str, grid: Tensor) -> None:
        """A grid of images at ``step``: a ``(C, H, W)`` uint8 CPU tensor, C 1 or 3."""

    def log_artifacts(self, paths: list[Path]) -> None:
        """Files of the run directory worth keeping with the record."""

    def finish(self, status: str | None) -> None:
        """Close the record; ``status`` is how the run stopped (None after ``reopen``)."""
