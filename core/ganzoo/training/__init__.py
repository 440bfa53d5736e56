"""The one training loop, its run state and its checkpoints."""

from ganzoo.training.trainer import Run, Trainer, resolve_precision, select_device

__all__ = ["Run", "Trainer", "resolve_precision", "select_device"]
