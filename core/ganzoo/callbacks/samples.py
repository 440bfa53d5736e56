"""Preview grids from the run's fixed inputs: ``samples/step_NNNNNN.png`` and ``samples.png``,
handed to ``ganzoo_preview`` (the loggers) as they are drawn."""

from __future__ import annotations

import shutil
from pathlib import Path

from ganzoo.hookspecs import hookimpl
from ganzoo.images import grid, write_png


class SampleGrids:
    @hookimpl
    def ganzoo_step_end(self, run, step: int) -> None:
        every = run.entry.train.sample_every
        if every and step % every == 0 and step < run.total_steps:
            self._draw(run, step)

    @hookimpl(tryfirst=True)  # right after the checkpoint, before the (long, interruptible) evaluation
    def ganzoo_train_end(self, run, status: str) -> None:
        if status != "failed" and run.step > 0:
            shutil.copyfile(self._draw(run, run.step), run.run_dir / "samples.png")

    def _draw(self, run, step: int) -> Path:
        pixels = grid(run.sample_fixed(), self._nrow(run))
        path = run.run_dir / "samples" / f"step_{step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_png(pixels, path)
        run.pm.hook.ganzoo_preview(run=run, step=step, grid=pixels, path=path)
        return path

    @staticmethod
    def _nrow(run) -> int:
        # the model's choice (one class per column for a conditional one), else a square
        return run.model.preview_columns() or max(1, round(len(next(iter(run.preview_inputs.values()))) ** 0.5))
