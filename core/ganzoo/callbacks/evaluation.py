"""Scores at the end of a run, into ``metrics.json``: held-out L1, PSNR, SSIM, … of paired
models; with ``train.eval_samples``, FID / KID / precision / recall of a generator's samples."""

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
        if status != "finished":
            return
        if run.entry.train.eval_samples and not run.model.paired:
            self.sample_quality(run)
        if run.eval_data is None:
            return
        scores = run.evaluate()
        if not scores:
            return
        record = {"split": run.eval_split, "items": len(run.eval_data), "step": run.step, "scores": scores}
        update_metrics(run.run_dir, "heldout", record)
        run.extras["heldout"] = record
        shown = "  ".join(f"{k} {v:.4g}" for k, v in scores.items())
        self.console.print(f"held-out {run.eval_split} ({len(run.eval_data)} items): {shown}", highlight=False)

    def sample_quality(self, run) -> None:
        """``train.eval_samples`` samples scored as ``ganzoo evaluate`` does (default features)."""
        from ganzoo.api import LoadedModel, evaluate_samples
        from ganzoo.training.trainer import _eval_mode

        with _eval_mode(run.sampling_generator) as net:
            loaded = LoadedModel(run.entry, run.model, net, run.step, run.checkpoint_dir / "last.pt", run.data.info)
            record = evaluate_samples(loaded, run.registry, samples=run.entry.train.eval_samples)
        update_metrics(run.run_dir, f"samples-{record['features']['features']}", record)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in record["scores"].items() if not k.endswith("_std"))
        self.console.print(f"samples ({record['fake_images']} vs {record['real_images']} real, {record['features']['features']} "
                           f"features): {shown}", highlight=False)
