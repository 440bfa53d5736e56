"""Loggers: TensorBoard and MLflow read back through their own readers, a resumed run
continuing both without a step twice, evaluation figures added later, a logger that
raises detached while the run goes on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import ganzoo
from ganzoo.errors import ConfigError, GanzooWarning
from ganzoo.plugin import Logger, LoggerSpec, hookimpl
from conftest import TINY_ENTRY, MeanPoolPlugin, make_tiny_plugin, needs

ENTRY = {**TINY_ENTRY, "dataset_options": {"n": 80}, "train": {**TINY_ENTRY["train"], "keep_checkpoints": 2}}


def registry_with(zoo: Path, *plugins):
    return ganzoo.load_registry([zoo], extra_plugins=[("tiny", make_tiny_plugin()), ("meanpool", MeanPoolPlugin()), *plugins])


def read_history(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]


def train_interrupted_and_resumed(registry, run_dir: Path, loggers: list[str]) -> list[dict]:
    """6 steps (checkpoints at 3 and 6, logs at 2, 4, 6), then a resume from the step-3
    checkpoint, as after a process killed before it could save step 6: steps 4 and 6 were
    logged by the first process and are trained (and logged) again, on to step 8. Returns
    the first process's history."""
    ganzoo.train("tiny", registry=registry, run_dir=run_dir, device="cpu", loggers=loggers)
    first = read_history(run_dir)
    ganzoo.train("tiny", registry=registry, resume=run_dir / "checkpoints" / "step_0000003.pt", overrides=["train.steps=8"],
                 device="cpu")
    assert [r["step"] for r in read_history(run_dir)] == [2, 4, 6, 8]
    return first


# ---------------------------------------------------------------- TensorBoard


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory):
    needs("tensorboard")
    root = tmp_path_factory.mktemp("tb")
    zoo = root / "zoo.yaml"
    zoo.write_text(json.dumps({"entries": {"tiny": ENTRY}}))
    registry = registry_with(zoo)
    run_dir = root / "runs" / "tiny" / "first"
    train_interrupted_and_resumed(registry, run_dir, ["tensorboard"])
    ganzoo.evaluate(run_dir, samples=40, features="meanpool", registry=registry, device="cpu")
    return run_dir


def test_tensorboard_event_files_hold_every_metric_grid_config_and_evaluation_once_per_step(tensorboard_run):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tensorboard_run), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
    events.Reload()
    tags = events.Tags()
    history = read_history(tensorboard_run)
    for key in ("d_loss", "g_loss", "images_per_s", "lr/g", "lr/d"):
        assert key in tags["scalars"], key
    # the resumed run purged what the first process logged after its step-3 checkpoint: every step once
    assert [e.step for e in events.Scalars("g_loss")] == [2, 4, 6, 8]
    assert [round(e.value, 4) for e in events.Scalars("g_loss")] == [round(r["g_loss"], 4) for r in history]
    assert [e.value for e in events.Scalars("lr/g")] == pytest.approx([2e-4] * 4)
    assert [e.step for e in events.Images("samples")] == [3, 6, 8]  # the interrupted run's 6 was purged too
    assert events.Images("samples")[0].width == 2 + 2 * (8 + 2)  # a 2 x 2 grid of 8 px images, 2 px padding
    config = events.Tensors("config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "lr_g: 0.0002" in config and "model: tiny" in config
    # `ganzoo evaluate` added its figures at the checkpoint's step
    fid = events.Scalars("samples-meanpool/fid")
    metrics = json.loads((tensorboard_run / "metrics.json").read_text())
    assert [(e.step, round(e.value, 4)) for e in fid] == [(8, round(metrics["samples-meanpool"]["scores"]["fid"], 4))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_tensorboard_server_serves_the_runs_scalars(tensorboard_run):
    runs_root = tensorboard_run.parent.parent  # runs/: every run of every entry side by side
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(runs_root), "--host", "127.0.0.1",
                               "--port", str(port), "--load_fast", "false"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, runs = time.monotonic() + 60, []
        while time.monotonic() < deadline and "tiny/first" not in runs:
            try:
                with urllib.request.urlopen(f"{base}/data/runs", timeout=5) as response:
                    runs = json.load(response)
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-2000:]
                time.sleep(0.5)
        assert runs == ["tiny/first"], runs  # the run is named ENTRY/RUN
        query = urllib.parse.urlencode({"run": "tiny/first", "tag": "g_loss"})
        with urllib.request.urlopen(f"{base}/data/plugin/scalars/scalars?{query}", timeout=10) as response:
            points = json.load(response)  # [[wall_time, step, value], ...]
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert [p[1] for p in points] == [2, 4, 6, 8]


# ---------------------------------------------------------------- MLflow


def test_mlflow_records_params_metrics_images_and_artifacts_and_a_resume_continues_its_run(write_zoo, tmp_path, monkeypatch):
    needs("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # MLflow's default store: ./mlflow.db, artifacts under ./mlruns
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    entry = {**ENTRY, "train": {**ENTRY["train"], "loggers": ["mlflow"]}}
    registry = registry_with(write_zoo({"tiny": entry}))
    run_dir = tmp_path / "run"
    first = train_interrupted_and_resumed(registry, run_dir, [])
    ganzoo.evaluate(run_dir, samples=40, features="meanpool", registry=registry, device="cpu")

    assert (tmp_path / "mlflow.db").is_file() and (tmp_path / "mlruns").is_dir()
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tiny")  # one experiment per entry by default
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1  # the resume and the evaluation continued the run the first process began
    run = runs[0]
    assert run.info.run_id == json.loads((run_dir / "mlflow.json").read_text())["run_id"]
    assert run.info.status == "FINISHED" and run.info.run_name == "tiny/run"
    assert run.data.params["train.batch_size"] == "8" and run.data.params["model"] == "tiny"
    assert run.data.params["dataset_options.n"] == "80"
    g_loss = sorted((m.step, m.value) for m in client.get_metric_history(run.info.run_id, "g_loss"))
    assert [step for step, _ in g_loss] == [2, 4, 6, 8]  # no step twice, although 4 and 6 were trained twice
    # steps the first process logged keep its figures (means over whole intervals); the resumed process adds step 8
    expected = [r["g_loss"] for r in first] + [read_history(run_dir)[-1]["g_loss"]]
    assert [round(v, 4) for _, v in g_loss] == [round(v, 4) for v in expected]
    assert {"d_loss", "images_per_s", "lr/g", "lr/d"} <= set(run.data.metrics)
    fid = client.get_metric_history(run.info.run_id, "samples-meanpool/fid")
    assert [m.step for m in fid] == [8]
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "history.jsonl", "metrics.json", "report.html", "samples.png"} <= artifacts
    images = [a.path for a in client.list_artifacts(run.info.run_id, "images") if a.path.endswith(".png")]
    assert sorted(int(p.split("+step+")[1].split("+")[0]) for p in images) == [3, 6, 8]


def test_an_interrupted_run_is_killed_in_mlflow_and_a_tracking_uri_can_be_chosen(write_zoo, tmp_path, monkeypatch):
    needs("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.chdir(tmp_path)  # a sqlite store's artifacts go to ./mlruns

    uri = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    entry = {**ENTRY, "train": {**ENTRY["train"], "logger_options": {"mlflow": {"tracking_uri": uri, "experiment": "mine"}}}}
    registry = registry_with(write_zoo({"tiny": entry}))

    class StopAtFour:
        @hookimpl
        def ganzoo_step_end(self, run, step):
            if step == 4:
                run.stop_requested = 15  # as SIGTERM would

    registry.pm.register(StopAtFour())
    run = ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "run", device="cpu", loggers=["mlflow"])
    assert run.status == "interrupted"
    client = MlflowClient(uri)
    (found,) = client.search_runs([client.get_experiment_by_name("mine").experiment_id])
    assert found.info.status == "KILLED"
    assert [m.step for m in client.get_metric_history(found.info.run_id, "g_loss")] == [2, 4]


def test_the_command_line_logs_to_both_and_mlflow_can_keep_the_exported_model(tmp_path, cli, monkeypatch):
    needs("tensorboard")
    needs("mlflow")
    from mlflow.tracking import MlflowClient

    small = ["model_options.g_channels=4", "model_options.d_channels=4", "dataset_options.limit=64", "train.batch_size=8",
             "train.steps=2", "train.log_every=1", "train.grid_size=4", "train.logger_options={mlflow: {log_model: true}}"]
    for key in [k for k in os.environ if k.startswith("MLFLOW_")]:
        monkeypatch.delenv(key)
    done = cli("run", "dcgan-mnist-5k", "--logger", "tensorboard", "--logger", "mlflow", "--run-dir", "r", "--device", "cpu",
               *(arg for item in small for arg in ("--set", item)), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list((tmp_path / "r").glob("events.out.tfevents.*"))) == 1
    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    run_id = json.loads((tmp_path / "r" / "mlflow.json").read_text())["run_id"]
    assert [m.step for m in client.get_metric_history(run_id, "g_loss")] == [1, 2]
    model = {a.path for a in client.list_artifacts(run_id, "model")}
    assert {"model/model.safetensors", "model/config.json", "model/README.md"} <= model


# ---------------------------------------------------------------- any logger


class Recorder(Logger):
    def __init__(self, calls: list, fail_on: str = "") -> None:
        self.calls, self.fail_on = calls, fail_on

    def _note(self, *call):
        self.calls.append(call)
        if call[0] == self.fail_on:
            raise RuntimeError("the tracking server went away")

    def start(self, run_dir, config, step):
        self._note("start", config["name"], step)

    def log_metrics(self, step, metrics):
        self._note("log_metrics", step, sorted(metrics))

    def log_images(self, step, tag, grid):
        self._note("log_images", step, tag, tuple(grid.shape), str(grid.dtype))

    def log_artifacts(self, paths):
        self._note("log_artifacts", sorted(p.name for p in paths))

    def finish(self, status):
        self._note("finish", status)


class RecorderPlugin:
    def __init__(self) -> None:
        self.good, self.bad = [], []

    @hookimpl
    def ganzoo_register_loggers(self):
        return [LoggerSpec("recorder", lambda options: Recorder(self.good)),
                LoggerSpec("flaky", lambda options: Recorder(self.bad, fail_on="log_metrics"))]


def test_a_plugin_logger_gets_every_call_in_order_and_one_that_raises_is_detached(write_zoo, tmp_path):
    plugin = RecorderPlugin()
    registry = registry_with(write_zoo({"tiny": ENTRY}), ("recorder", plugin))
    with pytest.warns(GanzooWarning, match=r"logger 'flaky' failed in log_metrics \(RuntimeError: the tracking server went "
                                           r"away\) and was detached; the run goes on"):
        run = ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "run", device="cpu", loggers=["flaky", "recorder"])
    assert run.status == "finished" and run.step == 6
    losses = ["d_fake", "d_loss", "d_real", "epoch", "g_loss", "images_per_s", "lr/d", "lr/g", "time_s"]
    grid = ("log_images", 3, "samples", (3, 2 + 2 * 10, 2 + 2 * 10), "torch.uint8")
    assert plugin.good == [
        ("start", "tiny", 0), ("log_metrics", 2, losses), grid, ("log_metrics", 4, losses), ("log_metrics", 6, losses),
        ("log_images", 6, "samples", *grid[3:]),
        ("log_artifacts", ["config.yaml", "history.jsonl", "loss_curve.png", "report.html", "run.json", "samples.png"]),
        ("finish", "finished"),
    ]
    assert plugin.bad == [("start", "tiny", 0), ("log_metrics", 2, losses), ("finish", "failed")]  # detached after it raised


def test_an_unknown_or_unavailable_logger_is_refused_before_anything_is_written(write_zoo, tmp_path):
    class Missing:
        @hookimpl
        def ganzoo_register_loggers(self):
            def build(options):
                raise ImportError("No module named 'wandb'", name="wandb")

            return [LoggerSpec("wandb", build, extra="wandb")]

    registry = registry_with(write_zoo({"tiny": ENTRY}), ("missing", Missing()))
    with pytest.raises(ConfigError, match="unknown logger 'tensorbord'.*tensorboard"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "a", device="cpu", loggers=["tensorbord"])
    with pytest.raises(ConfigError, match=r"logger 'wandb' needs a package that is not installed .*: pip install wandb"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "b", device="cpu", loggers=["wandb"])
    with pytest.raises(ConfigError, match="train.logger_options.mlflow: .*unexpected keyword argument 'uri'"):
        ganzoo.train("tiny", registry=registry, run_dir=tmp_path / "c", device="cpu", loggers=["mlflow"],
                     overrides=["train.logger_options={mlflow: {uri: x}}"])
    with pytest.raises(ConfigError, match="loggers must be a list of logger names"):
        ganzoo.train("tiny", registry=registry, loggers="tensorboard")
    assert not any((tmp_path / name).exists() for name in "abc")

    # a later `ganzoo evaluate` of a run whose logger's plugin is gone warns and still scores
    with_recorder = registry_with(write_zoo({"tiny": ENTRY}), ("recorder", RecorderPlugin()))
    run = ganzoo.train("tiny", registry=with_recorder, run_dir=tmp_path / "d", device="cpu", loggers=["recorder"])
    without = registry_with(write_zoo({"tiny": ENTRY}))
    with pytest.warns(GanzooWarning, match="unknown logger 'recorder'"):
        record = ganzoo.evaluate(run.run_dir, samples=40, features="meanpool", registry=without, device="cpu")
    assert record["scores"]["fid"] >= 0
