"""The speed benchmark's harness runs (its figures are in docs/benchmarks.md, never asserted
here): a tiny entry gets its row, its reference loop's rate and the device's peaks, also with a
gradient penalty; an entry that fails is named in one line and the command exits 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SPEED = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"


def test_speed_times_an_entry_beside_its_reference_and_exits_1_when_another_fails(tmp_path):
    tiny = "dcgan-mnist-5k@model_options.g_channels=8,model_options.d_channels=8,train.batch_size=8"
    broken = "dcgan-mnist-5k@dataset_options.limit=10"  # a batch of 64 from 10 images
    penalised = tiny + ",loss_options.r1_gamma=1"  # autograd.grad, which torch's FLOP counter cannot follow (pytorch#131753)
    done = subprocess.run([sys.executable, str(SPEED), tiny, broken, penalised, "--steps", "1", "--repeats", "1", "--json", str(tmp_path / "speed.json")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr[-2000:]
    assert done.stderr.splitlines()[-1] == f"failed: {broken} (the errors are above)"
    assert "batch_size 64 is larger than the dataset (10 items)" in done.stderr
    measured = json.loads((tmp_path / "speed.json").read_text())
    assert measured["peak_tflops"]["fp32"] > 0 and measured["peak_tflops"]["bf16"] > 0
    assert isinstance(measured["cpu_bf16_units"], bool)
    row, with_r1 = measured["results"]
    assert with_r1["overrides"][-1] == "loss_options.r1_gamma=1" and with_r1["speedup_vs_reference"] > 0
    assert with_r1.get("step_gflop", 1) > 0  # counted, or left out (a "–" in the table), never a crash
    assert row["entry"] == "dcgan-mnist-5k" and row["batch_size"] == 8 and row["precision"] in ("fp32", "bf16")
    assert row["train_images_per_s"] > 0 and row["reference_images_per_s"] > 0 and row["speedup_vs_reference"] > 0
    assert row["step_gflop"] > 0
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("| dcgan-mnist-5k (model_options.g_channels=8"))
    assert f"| {row['speedup_vs_reference']}× |" in line
