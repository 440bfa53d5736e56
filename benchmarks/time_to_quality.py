"""Time to quality: the training time an entry needs to reach the zoo's reference figures.

Trains each entry with its default configuration (and ``--set`` overrides, e.g. the
precision it trained in before), keeping every checkpoint, scores each checkpoint with
``ganzoo evaluate``'s default protocol, and prints the trajectory: step, training
seconds (``history.jsonl``'s ``time_s`` at that step: the loop's own time, set-up and
the end-of-run evaluation excluded) and the figures. The entry's *primary* figure is the
first one its ``reference`` block names (FID for generators, L1 for Pix2Pix, PSNR for
super-resolution); the time to quality is the first checkpoint whose primary figure is
within ``--tolerance`` (relative) of the reference, in the figure's direction. PSNR is
compared through its mean squared error, so that a relative tolerance means the same
thing as for L1 (3 % of MSE is 0.13 dB).

    python benchmarks/time_to_quality.py dcgan-mnist-5k
    python benchmarks/time_to_quality.py pix2pix-digit-edges --set train.precision=fp32   # before bf16
    python benchmarks/time_to_quality.py --runs-dir /tmp/ttq --json ttq.json stackgan-digits
    python benchmarks/time_to_quality.py stackgan-digits --target fid=64.44   # a fixed target (an older reference)
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import ganzoo
from common import header, runs
from ganzoo.checkpoints import checkpoint_path, previous_checkpoints
from ganzoo.rundir import read_jsonl

LOWER_IS_BETTER = {"fid", "kid", "l1", "lpips", "mse"}
HIGHER_IS_BETTER = {"psnr", "ssim", "precision", "recall", "inception_score"}


def reached(key: str, measured: float, reference: float, tolerance: float) -> bool:
    """Whether ``measured`` is within ``tolerance`` (relative) of ``reference``, or better."""
    if key == "psnr":  # compare mean squared errors: 10 ** (-psnr / 10)
        return 10 ** (-measured / 10) <= 10 ** (-reference / 10) * (1 + tolerance)
    if key in LOWER_IS_BETTER:
        return measured <= reference * (1 + tolerance)
    return measured >= reference * (1 - tolerance)


def primary_figure(reference: dict) -> str | None:
    return next((k for k in reference if k in LOWER_IS_BETTER | HIGHER_IS_BETTER), None)


def checkpoints(run_dir: Path) -> list[Path]:
    """Every checkpoint the run kept, in step order (``last.pt`` is the final step)."""
    last = checkpoint_path(run_dir)
    return [*reversed(previous_checkpoints(last.parent)), last]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="+", help="entries to train with their defaults and score at each checkpoint")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--target", metavar="FIGURE=VALUE", help="the figure and value to reach (default: the reference's primary figure)")
    parser.add_argument("--tolerance", type=float, default=0.03, help="relative distance to the reference that counts as reached")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs-dir", type=Path, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    target = None
    if args.target:
        key, _, value = args.target.partition("=")
        try:
            target = (key, float(value))
        except ValueError:
            parser.error(f"--target takes FIGURE=NUMBER, e.g. fid=64.44, not '{args.target}'")

    registry = ganzoo.load_registry()
    results = {**header(), "overrides": args.overrides, "tolerance": args.tolerance, "entries": {}}
    overrides = [*args.overrides, "train.keep_checkpoints=1000"]
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(args.entries, [], args.runs_dir or Path(tmp), registry, args.device, overrides=overrides):
            run_dir = Path(source)
            times = {r["step"]: r["time_s"] for r in read_jsonl(run_dir / "history.jsonl") if "time_s" in r}
            trajectory, entry_name, reference = [], None, {}
            for path in checkpoints(run_dir):
                loaded = ganzoo.load_checkpoint(path, device=args.device, registry=registry)
                entry_name = loaded.entry.name
                reference = registry.entries[entry_name].entry.reference or {}
                record = ganzoo.evaluate(loaded, registry=registry, write=False)
                scores = {k: round(v, 4) for k, v in record["scores"].items() if not k.endswith("_std")}
                step = record["step"]
                trajectory.append({"step": step, "time_s": times.get(step), "scores": scores})
            key = target[0] if target else primary_figure(reference)
            goal = target[1] if target else reference.get(key)
            first = next((t for t in trajectory if key in t["scores"] and reached(key, t["scores"][key], goal, args.tolerance)), None)
            results["entries"][entry_name] = {"train_seconds": seconds, "primary": key, "target": goal, "reached_at": first,
                                              "trajectory": trajectory}
            print(f"\n{entry_name} {' '.join(args.overrides)} (whole run {seconds} s; target {key} {goal})")
            for t in trajectory:
                mark = "  <- reached" if t is first else ""
                print(f"  step {t['step']:>6}  {t['time_s']:>8} s  " + "  ".join(f"{k} {v}" for k, v in t["scores"].items()) + mark)
            if first is None:
                print(f"  {key} did not come within {args.tolerance:.0%} of the reference")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
