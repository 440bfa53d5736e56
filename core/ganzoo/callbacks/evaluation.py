"""Held-out scores at the end of a run, into ``metrics.json`` (paired models: L1, PSNR, SSIM, …)."""

from __future__ import annotations

from rich.console import Console

from ganzoo.hookspecs import hookimpl
from ganzoo.metrics_file import update_metrics


class Evaluation:
    """When a run finishes, scores the model on the dataset's held-out split.

    Only models that compare outputs with targets score anything (``GANModel.paired``);
    the scores of each run are under ``"heldout"`` in ``metrics.json``, with the split, the
    item count and the step they were measured at.
    """

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    @hookimpl
    def ganzoo_train_end(self, run, status: str) -> None:
        if status != "finished" or run.eval_data is None:
            return
        scores = run.evaluate()
        if not scores:
            return
        record = {"split": run.eval_split, "items": len(run.eval_data), "step": run.step, "scores": scores}
        update_metrics(run.run_dir, "heldout", record)
        run.extras["heldout"] = record
        shown = "  ".join(f"{k} {v:.4g}" for k, v in scores.items())
        self.console.print(f"held-out {run.eval_split} ({len(run.eval_data)} items): {shown}", highlight=False)
