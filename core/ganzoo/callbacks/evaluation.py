"""Scores at the end of a run, into ``metrics.json``: held-out L1, PSNR, SSIM, ... of
translators whose held-out split has targets; with ``train.eval_samples``, FID / KID /
precision / recall of a generator's samples (or a translator's outputs without targets)."""

from __future__ import annotations

from rich.console import Console

from ganzoo.checkpoints import LoadedModel
from ganzoo.evaluation.evaluate import evaluate_heldout, evaluate_samples
from ganzoo.evaluation.paired import has_targets
from ganzoo.evaluation.records import update_metrics
from ganzoo.hookspecs import hookimpl
from ganzoo.paths import checkpoint_path


class Evaluation:
    """When a run finishes, scores the model as ``ganzoo evaluate`` would, on what the run
    already holds (the held-out split it loaded, its moving averages)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)

    @hookimpl
    def ganzoo_train_end(self, run, status: str) -> None:
        if status != "finished":
            return
        try:
            if run.eval_data is not None and has_targets(run.model, run.eval_data):
                self.heldout(run)
            elif run.entry.train.eval_samples:
                self.sample_quality(run)
        except KeyboardInterrupt:  # the run is trained and saved: stopping the scoring must not mark it failed
            self.console.print(f"evaluation interrupted; the trained run is saved: score it with 'ganzoo evaluate {run.run_dir}'",
                               highlight=False)

    def heldout(self, run) -> None:
        with run.sampling() as model:
            record = evaluate_heldout(self._loaded(run, model), run.eval_data, run.eval_split, None, run.entry.train.eval_batches)
        scores = record["scores"]
        update_metrics(run.run_dir, "heldout", record)
        run.pm.hook.ganzoo_evaluated(run_dir=run.run_dir, step=run.step, section="heldout", record=record)
        run.extras["heldout"] = record
        shown = "  ".join(f"{k} {v:.4g}" for k, v in scores.items())
        self.console.print(f"held-out {run.eval_split} ({len(run.eval_data)} items): {shown}", highlight=False)

    def sample_quality(self, run) -> None:
        """``train.eval_samples`` samples scored as ``ganzoo evaluate`` does (default features)."""
        with run.sampling() as model:
            record = evaluate_samples(self._loaded(run, model), run.registry, samples=run.entry.train.eval_samples)
        section = f"samples-{record['features']['features']}"
        update_metrics(run.run_dir, section, record)
        run.pm.hook.ganzoo_evaluated(run_dir=run.run_dir, step=run.step, section=section, record=record)
        shown = "  ".join(f"{k} {v:.4g}" for k, v in record["scores"].items() if not k.endswith("_std"))
        self.console.print(f"samples ({record['fake_images']} vs {record['real_images']} real, {record['features']['features']} "
                           f"features): {shown}", highlight=False)

    @staticmethod
    def _loaded(run, model) -> LoadedModel:
        """The run's model as ``ganzoo evaluate`` sees a loaded one (averages in, eval mode)."""
        return LoadedModel(run.entry, model, run.step, checkpoint_path(run.run_dir), run.data.info)
