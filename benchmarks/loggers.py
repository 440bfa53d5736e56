"""What the loggers cost: the same entry trained with no logger, with TensorBoard, with
MLflow, and with both, in alternating order, each in a fresh process.

The figure is the training throughput the run itself records (``history.jsonl``'s
``images_per_s``, median over the log intervals after the first) and the run's training
time (``run.json``), as ratios to the runs without a logger in the same invocation.

    python benchmarks/loggers.py                        # dcgan-mnist-5k, 400 steps, 2 rounds
    python benchmarks/loggers.py --entry dcgan-emoji --steps 300 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SETS = {"none": [], "tensorboard": ["tensorboard"], "mlflow": ["mlflow"], "both": ["tensorboard", "mlflow"]}


def train(entry: str, steps: int, loggers: list[str], where: Path) -> tuple[float, float]:
    run_dir = where / "run"
    command = [sys.executable, "-m", "ganzoo", "run", entry, "--run-dir", str(run_dir), "--set", f"train.steps={steps}",
               "--set", "train.sample_every=100", *(arg for name in loggers for arg in ("--logger", name))]
    done = subprocess.run(command, cwd=where, capture_output=True, text=True, env={k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")})
    if done.returncode:
        sys.exit(done.stderr[-2000:])
    records = [json.loads(line) for line in (run_dir / "history.jsonl").read_text().splitlines()]
    seconds = json.loads((run_dir / "run.json").read_text())["train_seconds"]
    return statistics.median(r["images_per_s"] for r in records[1:]), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entry", default="dcgan-mnist-5k")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in SETS}
    for _ in range(args.rounds):
        for name, loggers in SETS.items():
            with tempfile.TemporaryDirectory() as tmp:
                results[name].append(train(args.entry, args.steps, loggers, Path(tmp)))
    base_speed = statistics.median(s for s, _ in results["none"])
    base_time = statistics.median(t for _, t in results["none"])
    print(f"{args.entry}, {args.steps} steps, {args.rounds} rounds (medians)")
    print(f"{'loggers':<12} {'images/s':>9} {'ratio':>6} {'train s':>8} {'ratio':>6}")
    for name, rows in results.items():
        speed, seconds = statistics.median(s for s, _ in rows), statistics.median(t for _, t in rows)
        print(f"{name:<12} {speed:>9.0f} {speed / base_speed:>6.3f} {seconds:>8.1f} {seconds / base_time:>6.3f}")


if __name__ == "__main__":
    main()
