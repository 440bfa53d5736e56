"""The one training loop (:mod:`~ganzoo.training.loop`), its run state, setup and phases."""

from ganzoo.training.device import resolve_precision, select_device
from ganzoo.training.loop import Trainer
from ganzoo.training.run import Run

__all__ = ["Run", "Trainer", "resolve_precision", "select_device"]
