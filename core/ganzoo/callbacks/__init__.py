"""Built-in training features, each an ordinary hook implementation.

This module is the ``callbacks`` plugin (see the entry points in ``pyproject.toml``): for
every run it hands the loop a progress display, sample grids, a loss history,
periodic checkpoints, held-out scores and the run's report. A plugin replaces one by blocking this plugin and returning its own
objects from ``ganzoo_callbacks``, or extends them by implementing the same hooks.
"""

from __future__ import annotations

from typing import Any

from ganzoo.callbacks.checkpoints import Checkpoints
from ganzoo.callbacks.evaluation import Evaluation
from ganzoo.callbacks.history import History
from ganzoo.callbacks.progress import Progress
from ganzoo.callbacks.report import RunReport
from ganzoo.callbacks.samples import SampleGrids
from ganzoo.hookspecs import hookimpl

__all__ = ["Checkpoints", "Evaluation", "History", "Progress", "RunReport", "SampleGrids"]


@hookimpl
def ganzoo_callbacks(run: Any) -> list[Any]:
    return [History(), Progress(), SampleGrids(), Checkpoints(), Evaluation(), RunReport()]
