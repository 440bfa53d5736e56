"""A rich progress bar with live losses and throughput (plain lines when not on a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from ganzoo.callbacks.history import loss_keys
from ganzoo.hookspecs import hookimpl


def _chosen(run) -> str:
    """" (auto)" when the device chose every phase's precision (``auto``), " (auto: NAME, ...)"
    when it chose some phases' only, else nothing."""
    phases = [phase.name for phase, _ in run.schedule]
    auto = [name for name in phases if run.entry.train.precision_setting(name) == "auto"]
    if not auto:
        return ""
    return " (auto)" if len(auto) == len(phases) else f" (auto: {', '.join(auto)})"


def _describe(record: dict) -> str:
    losses = "  ".join(f"{k} {v:.3f}" for k, v in record.items() if k in loss_keys(record))
    return f"{losses}  {record['images_per_s']:.0f} img/s"


class Progress:
    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.bar: RichProgress | None = None

    @hookimpl
    def ganzoo_train_start(self, run) -> None:
        self.console.print(
            f"[bold]{run.entry.name}[/]: model {run.entry.model}, dataset {run.entry.dataset} "
            f"({len(run.data)} images), loss {run.entry.loss}, device {run.device}, precision {run.precisions}{_chosen(run)}, "
            f"steps {run.step}->{run.total_steps}, run dir {run.run_dir}"
        )
        if self.console.is_terminal:
            self.bar = RichProgress(
                TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[stats]}"),
                console=self.console,
            )
            self.task = self.bar.add_task("training", total=run.total_steps, completed=run.step, stats="")
            self.bar.start()

    @hookimpl
    def ganzoo_step_end(self, run, step: int) -> None:
        record = run.extras.get("last_log")
        fresh = record is not None and record["step"] == step
        if self.bar is not None:
            self.bar.update(self.task, completed=step, **({"stats": _describe(record)} if fresh else {}))
        elif fresh and (step % (10 * run.entry.train.log_every) == 0 or step == run.total_steps):
            self.console.print(f"step {step}/{run.total_steps}  epoch {record['epoch']}  {_describe(record)}", highlight=False)

    @hookimpl
    def ganzoo_phase_start(self, run, phase: str) -> None:
        if len(run.schedule) > 1:
            end = next(end for p, end in run.schedule if p.name == phase)
            (self.bar.console if self.bar is not None else self.console).print(
                f"phase {phase}: steps {run.step}->{end}", highlight=False)

    @hookimpl
    def ganzoo_checkpoint_saved(self, run, path) -> None:
        if self.bar is None:
            self.console.print(f"checkpoint: {path} (step {run.step})", highlight=False)

    @hookimpl(trylast=True)
    def ganzoo_train_end(self, run, status: str) -> None:
        if self.bar is not None:
            self.bar.stop()
        self.console.print(f"{status} at step {run.step}/{run.total_steps}: {run.run_dir}", highlight=False)
