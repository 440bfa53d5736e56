"""Held-out quality of translating entries against their baselines, each direction.

For each entry: train it with its default configuration (timed), then score it on its
dataset's held-out split with ``ganzoo.evaluate``: L1, PSNR and SSIM of the outputs
against the targets, next to the same scores of the identity baseline (the input as the
output) and the mean-image baseline (the mean target of each held-out batch).

    python benchmarks/paired_quality.py pix2pix-digit-edges
    python benchmarks/paired_quality.py cyclegan-digit-outlines   # after pip install -e examples/ganzoo-cyclegan
    python benchmarks/paired_quality.py --checkpoint runs/pix2pix-digit-edges/TIMESTAMP
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import ganzoo
from common import header, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*", help="entries to train with their defaults and score")
    parser.add_argument("--checkpoint", action="append", default=[], help="score an existing checkpoint or run directory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    registry = ganzoo.load_registry()
    results = {**header(), "entries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(args.entries, args.checkpoint, Path(tmp), registry, args.device, args.data_dir):
            record = ganzoo.evaluate(source, device=args.device, data_dir=args.data_dir, registry=registry, write=False)
            scores = record["scores"]
            row = {"split": record["split"], "items": record["items"], "steps": record["step"], "train_seconds": seconds}
            # one direction: keys l1, identity_l1, ...; several: a2b_l1, a2b_identity_l1, ...
            prefixes = sorted(k[:-2] for k in scores if k.endswith("l1") and "identity_" not in k and "mean_" not in k)
            for prefix in prefixes:
                for metric in ("l1", "psnr", "ssim"):
                    row[f"{prefix}{metric}"] = {"model": round(scores[f"{prefix}{metric}"], 4),
                                                "identity": round(scores[f"{prefix}identity_{metric}"], 4),
                                                "mean_image": round(scores[f"{prefix}mean_{metric}"], 4)}
            name = Path(record["checkpoint"]).parent.parent.name
            results["entries"][name] = row
            print(name, json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
