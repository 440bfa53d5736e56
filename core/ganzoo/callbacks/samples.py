"""Preview grids from the run's fixed inputs: ``samples/step_NNNNNN.png`` and ``samples.png``."""

from __future__ import annotations

from ganzoo.images import save_images
from ganzoo.hookspecs import hookimpl


class SampleGrids:
    @hookimpl
    def ganzoo_step_end(self, run, step: int) -> None:
        every = run.entry.train.sample_every
        if every and step % every == 0 and step < run.total_steps:
            save_images(run.sample_fixed(), run.run_dir / "samples" / f"step_{step:06d}.png", nrow=self._nrow(run))

    @hookimpl(tryfirst=True)  # right after the checkpoint, before the (long, interruptible) evaluation
    def ganzoo_train_end(self, run, status: str) -> None:
        if status != "failed" and run.step > 0:
            images = run.sample_fixed()
            save_images(images, run.run_dir / "samples" / f"step_{run.step:06d}.png", nrow=self._nrow(run))
            save_images(images, run.run_dir / "samples.png", nrow=self._nrow(run))

    @staticmethod
    def _nrow(run) -> int:
        # the model's choice (one class per column for a conditional one), else a square
        return run.model.preview_columns() or max(1, round(len(next(iter(run.preview_inputs.values()))) ** 0.5))
