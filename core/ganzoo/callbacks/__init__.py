"""Built-in training features, each an ordinary hook implementation.

This module is the ``callbacks`` plugin (see the entry points in ``pyproject.toml``): for
every run it hands the loop a progress display, sample grids, a loss history,
periodic checkpoints, held-out scores, the run's report and the loggers its entry names
(``train.loggers``, see :mod:`ganzoo.callbacks.tracking`). A plugin replaces one by blocking this plugin and returning its own
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
from ganzoo.callbacks.tracking import Tracking
from ganzoo.hookspecs import hookimpl

__all__ = ["Checkpoints", "Evaluation", "History", "Progress", "RunReport", "SampleGrids", "Tracking"]


@hookimpl
def ganzoo_callbacks(run: Any) -> list[Any]:
    tracking = Tracking.build(run.registry, run.entry)  # an unknown or missing logger stops the run here, before it trains
    loggers = [tracking] if tracking.loggers else []
    # in this order: the trylast train_end of the report runs before the loggers' (pluggy calls trylast hooks first-registered first)
    return [History(), Progress(), SampleGrids(), Checkpoints(), Evaluation(), RunReport(), *loggers]
