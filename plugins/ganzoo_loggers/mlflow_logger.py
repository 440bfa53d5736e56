"""MLflow: one MLflow run per training run.

The resolved config as params (``train.lr_g``, ``model_options.latent_dim``, ...), every
logged metric by step, the preview grids as step-keyed images, ``ganzoo evaluate``'s
figures, and the run's files (``metrics.json``, ``report.html``, ``samples.png``, ...) as
artifacts; with ``log_model: true`` also the exported model (``ganzoo export``).

Where: ``tracking_uri`` if given, else MLflow's own choice (``$MLFLOW_TRACKING_URI``, else
a local store in the working directory: ``mlflow.db`` with artifacts under ``mlruns/``);
the experiment is ``experiment``, else ``$MLFLOW_EXPERIMENT_NAME``, else the entry's name.
The MLflow run's id is kept in the run directory (``mlflow.json``): a resumed run, and a
later ``ganzoo evaluate``, continue the same MLflow run, and steps the interrupted
process logged after its checkpoint are not logged twice. Metrics are sent from MLflow's
asynchronous logging thread.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from torch import Tensor

from ganzoo.plugin import Logger, atomic_file

STATE = "mlflow.json"
STATUS = {"finished": "FINISHED", "interrupted": "KILLED"}  # anything else: FAILED


class MLflowLogger(Logger):
    def __init__(self, tracking_uri: str | None = None, experiment: str | None = None, log_model: bool = False) -> None:
        import mlflow  # ImportError without the mlflow package
        from mlflow.tracking import MlflowClient

        self.mlflow, self.client_type = mlflow, MlflowClient
        self.tracking_uri, self.experiment, self.log_model = tracking_uri, experiment, bool(log_model)
        self.run_id = ""
        self.run_dir: Path | None = None
        self.logged_up_to = 0  # steps up to this one were logged by an earlier process of the run
        self.pending: list[Any] = []

    # ------------------------------------------------------------ opening

    def start(self, run_dir: Path, config: dict[str, Any], step: int) -> None:
        self._connect(run_dir)
        if step and self._continue(run_dir):
            self.logged_up_to = self._last_step()
            self.client.update_run(self.run_id, status="RUNNING")
            return
        experiment = self.experiment or os.environ.get("MLFLOW_EXPERIMENT_NAME") or config["name"]
        found = self.client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found is not None else self.client.create_experiment(experiment)
        tags = {"ganzoo.entry": config["name"], "ganzoo.run_dir": str(Path(run_dir).resolve())}
        self.run_id = self.client.create_run(experiment_id, run_name=f"{config['name']}/{Path(run_dir).name}", tags=tags).info.run_id
        with atomic_file(Path(run_dir) / STATE) as f:
            json.dump({"tracking_uri": self.client.tracking_uri, "experiment_id": experiment_id, "run_id": self.run_id}, f)
        params = [self.mlflow.entities.Param(k, v) for k, v in flatten(config).items()]
        for i in range(0, len(params), 100):  # MLflow takes at most 100 params a call
            self.client.log_batch(self.run_id, params=params[i : i + 100])

    def reopen(self, run_dir: Path, config: dict[str, Any]) -> None:
        self._connect(run_dir)
        if not self._continue(run_dir):
            raise RuntimeError(f"{run_dir / STATE} names no MLflow run in {self.client.tracking_uri}")

    def _connect(self, run_dir: Path) -> None:
        self.run_dir = Path(run_dir)
        saved = self._saved()
        uri = self.tracking_uri or (saved.get("tracking_uri") if saved else None)  # the store the run began in
        self.client = self.client_type(uri)

    def _saved(self) -> dict[str, Any]:
        try:
            return json.loads((self.run_dir / STATE).read_text())
        except (OSError, ValueError):
            return {}

    def _continue(self, run_dir: Path) -> bool:
        """Reattach to the MLflow run this run directory began, if its store still has it."""
        saved = self._saved()
        if not saved.get("run_id") or saved.get("tracking_uri") != self.client.tracking_uri:
            return False
        try:
            self.client.get_run(saved["run_id"])
        except self.mlflow.exceptions.MlflowException:
            return False
        self.run_id = saved["run_id"]
        return True

    def _last_step(self) -> int:
        keys = self.client.get_run(self.run_id).data.metrics
        return max((m.step for key in keys for m in self.client.get_metric_history(self.run_id, key)), default=0)

    # ------------------------------------------------------------ recording

    def log_metrics(self, step: int, metrics: dict[str, float]) -> None:
        if step <= self.logged_up_to:
            return
        now = int(time.time() * 1000)
        batch = [self.mlflow.entities.Metric(key, value, now, step) for key, value in metrics.items()]
        self.pending.append(self.client.log_batch(self.run_id, metrics=batch, synchronous=False))

    def log_images(self, step: int, tag: str, grid: Tensor) -> None:
        if step > self.logged_up_to:
            self.pending.append(self.client.log_image(self.run_id, grid.permute(1, 2, 0).numpy(), key=tag, step=step, synchronous=False))

    def log_artifacts(self, paths: list[Path]) -> None:
        for path in paths:
            self.client.log_artifact(self.run_id, str(path))

    def finish(self, status: str | None) -> None:
        for operation in self.pending:
            if operation is not None:
                operation.wait()
        self.pending = []
        if not self.run_id:
            return
        if self.log_model and status == "finished":
            import ganzoo

            with tempfile.TemporaryDirectory() as tmp:
                ganzoo.export(self.run_dir, Path(tmp) / "model")
                self.client.log_artifacts(self.run_id, str(Path(tmp) / "model"), "model")
        if status is not None:
            self.client.set_terminated(self.run_id, STATUS.get(status, "FAILED"))


def flatten(config: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """``{"train": {"lr_g": 2e-4}}`` -> ``{"train.lr_g": "0.0002"}``, values cut to MLflow's limit."""
    flat: dict[str, str] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)[:6000]
    return flat
