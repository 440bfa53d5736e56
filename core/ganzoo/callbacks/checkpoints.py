"""Periodic and final checkpoints (``checkpoints/last.pt``), written atomically."""

from __future__ import annotations

from ganzoo.hookspecs import hookimpl


class Checkpoints:
    """Saves every ``train.checkpoint_every`` steps and when the run stops cleanly.

    A failed run (e.g. a non-finite loss) saves nothing: the last good checkpoint stays.
    """

    def __init__(self) -> None:
        self.saved_at = -1

    @hookimpl
    def ganzoo_step_end(self, run, step: int) -> None:
        every = run.entry.train.checkpoint_every
        if every and step % every == 0 and step < run.total_steps:
            run.save_checkpoint()
            self.saved_at = step

    @hookimpl(tryfirst=True)
    def ganzoo_train_end(self, run, status: str) -> None:
        if status in ("finished", "interrupted") and run.step != self.saved_at:
            run.save_checkpoint()
