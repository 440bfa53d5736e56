"""The run's loggers (``train.loggers``: TensorBoard, MLflow, a plugin's), fed from the
training hooks.

:class:`Tracking` builds each logger named by the entry (refusing, before anything is
trained, a name no plugin registers or a logger whose package is missing), and hands
them what the other callbacks produce: the history's records, the preview grids, the
evaluation's figures, the run's files when it stops. A logger that raises is reported
in one line and detached; the run goes on. See :mod:`ganzoo.tracking` for the calls.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganzoo.errors import ConfigError, GanzooWarning
from ganzoo.hookspecs import hookimpl
from ganzoo.report import headline_scores
from ganzoo.specs import ZooEntry, short
from ganzoo.tracking import Logger

NOT_METRICS = {"step", "phase", "diagnostics"}
ARTIFACTS = ("config.yaml", "history.jsonl", "metrics.json", "run.json", "report.html", "samples.png", "loss_curve.png")


class Tracking:
    """The loggers of one run, each called through :meth:`call` so that one failing
    never stops the run or the others."""

    def __init__(self, loggers: dict[str, Logger]) -> None:
        self.loggers = loggers

    @classmethod
    def build(cls, registry: Any, entry: ZooEntry, strict: bool = True) -> Tracking:
        """The loggers ``entry.train.loggers`` names. With ``strict`` (a run about to
        train) an unknown or unavailable one is a :class:`ConfigError`; otherwise (a later
        ``ganzoo evaluate``) a warning, and the others are kept."""
        loggers = {}
        for name in dict.fromkeys(entry.train.loggers):
            try:
                spec = registry.spec("logger", name)
                try:
                    loggers[name] = spec.build(dict(entry.train.logger_options.get(name) or {}))
                except ImportError as e:
                    install = f"pip install {spec.extra}" if spec.extra else f"install {e.name or 'what it needs'}"
                    raise ConfigError(f"logger '{name}' needs a package that is not installed ({short(e, 120)}): {install}") from None
                except (TypeError, ValueError) as e:  # an option it does not take, or out of its range
                    raise ConfigError(f"train.logger_options.{name}: {short(e, 200)}") from None
            except ConfigError as e:
                if strict:
                    raise
                warnings.warn(f"{e}; the run's figures are not sent to it", GanzooWarning, stacklevel=2)
        return cls(loggers)

    def call(self, method: str, *args: Any) -> None:
        """``logger.method(*args)`` on every logger; one that raises is detached."""
        for name, logger in list(self.loggers.items()):
            try:
                getattr(logger, method)(*args)
            except Exception as e:
                del self.loggers[name]
                warnings.warn(f"logger '{name}' failed in {method} ({type(e).__name__}: {short(e, 200)}) and was detached; "
                              "the run goes on", GanzooWarning, stacklevel=2)
                _quietly(lambda: logger.finish("failed"))

    # ------------------------------------------------------------ the training hooks

    @hookimpl
    def ganzoo_train_start(self, run) -> None:
        self.call("start", run.run_dir, run.entry.to_dict(), run.step)

    @hookimpl
    def ganzoo_log(self, run, step: int, record: dict[str, Any]) -> None:
        metrics = {k: float(v) for k, v in record.items() if k not in NOT_METRICS and isinstance(v, (int, float))}
        for group, optimizer in run.optimizers.items():
            metrics[f"lr/{group}"] = float(optimizer.param_groups[0]["lr"])
        self.call("log_metrics", step, metrics)

    @hookimpl
    def ganzoo_preview(self, step: int, grid) -> None:
        self.call("log_images", step, "samples", grid)

    @hookimpl
    def ganzoo_evaluated(self, step: int, section: str, record: dict[str, Any]) -> None:
        self.call("log_metrics", step, headline_scores({section: record}))

    @hookimpl(trylast=True)  # after the checkpoint, the evaluation and the report (registered before this)
    def ganzoo_train_end(self, run, status: str) -> None:
        self.call("log_artifacts", [run.run_dir / name for name in ARTIFACTS if (run.run_dir / name).is_file()])
        self.call("finish", status)


def record_evaluation(registry: Any, run_dir: Path, entry: ZooEntry, step: int, section: str, record: dict[str, Any]) -> None:
    """``ganzoo evaluate``'s figures, stored in ``run_dir``: to every plugin's
    ``ganzoo_evaluated`` and to the run's loggers, reopened for the purpose."""
    tracking = Tracking.build(registry, entry, strict=False)
    tracking.call("reopen", run_dir, entry.to_dict())
    registry.pm.register(tracking)
    try:
        registry.pm.hook.ganzoo_evaluated(run_dir=run_dir, step=step, section=section, record=record)
    finally:
        registry.pm.unregister(tracking)
    tracking.call("log_artifacts", [run_dir / name for name in ("metrics.json", "report.html") if (run_dir / name).is_file()])
    tracking.call("finish", None)


def _quietly(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:
        pass
