"""Periodic and final checkpoints (``checkpoints/last.pt``), written atomically."""

from __future__ import annotations

from ganzoo.hookspecs import hookimpl


class Checkpoints:
    """Saves every ``train.checkpoint_every`` steps and when the run stops cleanly.

    A failed run (e.g. a non-finite loss) saves nothing: the last good checkpoint stays.
    """

    @hookimpl
    def ganzoo_step_end(self, run, step: int) -> None:
        every = run.entry.train.checkpoint_every
        if every and step % every == 0 and step < run.total_steps:
            run.save_checkpoint()

    @hookimpl(tryfirst=True)
    def ganzoo_train_end(self, run, status: str) -> None:
        if status in ("finished", "interrupted"):
            run.save_checkpoint()
