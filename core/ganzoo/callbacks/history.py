"""Loss history: ``history.jsonl`` (one line per log interval) and ``loss_curve.png``.

Metrics are summed on the training device and read once per ``train.log_every`` steps,
so recording them costs no host synchronisation on the other steps. Each line holds the
interval's means, the throughput and the wall time; the last record is on ``run.extras``
for other callbacks (the progress display reads it), and each record goes to
``ganzoo_log`` (the loggers).
"""

from __future__ import annotations

import json
import time

import torch

from ganzoo.hookspecs import hookimpl
from ganzoo.rundir import append_jsonl, read_jsonl, write_text_atomic


class History:
    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}  # per metric: a phase may not report every metric
        self.started = 0.0
        self.last_time = 0.0
        self.last_step = 0

    @hookimpl(tryfirst=True)
    def ganzoo_train_start(self, run) -> None:
        self.started = self.last_time = time.perf_counter()
        self.last_step = run.step
        self.path = run.run_dir / "history.jsonl"
        if run.step == 0:
            self.path.unlink(missing_ok=True)
        else:
            self._truncate_after(run.step)

    def _truncate_after(self, step: int) -> None:
        """On resume, forget lines written after the checkpoint (they will be redone)."""
        if not self.path.exists():
            return
        kept = [r for r in read_jsonl(self.path) if isinstance(r.get("step"), int) and r["step"] <= step]
        write_text_atomic(self.path, "".join(json.dumps(r) + "\n" for r in kept))

    @hookimpl(tryfirst=True)
    def ganzoo_step_end(self, run, step: int, metrics: dict[str, torch.Tensor]) -> None:
        for key, value in metrics.items():
            value = value.detach().float()
            self.sums[key] = self.sums[key] + value if key in self.sums else value.clone()
            self.counts[key] = self.counts.get(key, 0) + 1
        if step % run.entry.train.log_every and step != run.total_steps:
            return
        now = time.perf_counter()
        record = {
            "step": step,
            "epoch": run.epoch,
            "phase": run.phase,
            "time_s": round(now - self.started, 3),
            "images_per_s": round((step - self.last_step) * run.entry.train.batch_size / max(now - self.last_time, 1e-9), 1),
        }
        values = torch.stack(list(self.sums.values())).cpu().tolist() if self.sums else []  # the one sync
        record.update({k: v / self.counts[k] for k, v in zip(self.sums, values)})
        diagnostics = sorted(run.diagnostics & self.sums.keys())
        if diagnostics:
            record["diagnostics"] = diagnostics  # the logged values that are not losses
        append_jsonl(self.path, record)
        run.extras["last_log"] = record
        run.pm.hook.ganzoo_log(run=run, step=step, record=record)
        self.sums, self.counts = {}, {}
        self.last_time, self.last_step = now, step

    @hookimpl
    def ganzoo_train_end(self, run, status: str) -> None:
        if run.step > 0 and self.path.exists():
            plot_history(self.path, run.run_dir / "loss_curve.png", title=run.entry.name)


BOOKKEEPING = {"step", "epoch", "phase", "time_s", "images_per_s", "diagnostics"}


def loss_keys(record: dict) -> list[str]:
    """The losses of a history record: every logged value but the bookkeeping and what the
    model's ``StepOutput.diagnostics`` reported (listed in the record's ``diagnostics``)."""
    skip = BOOKKEEPING | set(record.get("diagnostics", ()))
    return [k for k in record if k not in skip]


def plot_history(history_path, out_path, title: str = "") -> None:
    """Draw every loss series of a history file against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_jsonl(history_path)
    if not records:
        return
    keys = sorted({k for r in records for k in loss_keys(r)})
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    for key in keys:
        points = [(r["step"], r[key]) for r in records if key in r]
        ax.plot([p[0] for p in points], [p[1] for p in points], label=key)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path)
    plt.close(fig)
