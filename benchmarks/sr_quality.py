"""Super-resolution quality against bicubic upsampling, on held-out photographs.

Trains each entry with its default configuration (timed), then scores its generator on
the dataset's held-out split and, with ``--photos DIR``, on the central ``eval_size``
crop of every photograph in DIR (e.g. a benchmark set you have): PSNR and SSIM on the
Y channel with ``scale`` border pixels cropped, the SR literature's convention, next to
the same scores of bicubic upsampling.

    python benchmarks/sr_quality.py srgan-photos --photos ../shared/data/photos-cbsd68
    python benchmarks/sr_quality.py srgan-photos --set 'train.phase_precision={"pretrain": "bf16"}' --photos DIR
    python benchmarks/sr_quality.py --checkpoint runs/srgan-photos/TIMESTAMP
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import ganzoo
from common import header, runs
from ganzoo.images import image_files
from ganzoo.evaluation.paired import heldout_scores
from ganzoo_srgan import HRImages, SRDataConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*", help="entries to train with their defaults and score")
    parser.add_argument("--checkpoint", action="append", default=[], help="score an existing checkpoint or run directory")
    parser.add_argument("--photos", type=Path, help="also score on the photographs of this folder")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override the entries' configuration, e.g. train.precision=bf16")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    registry = ganzoo.load_registry()
    results = {**header(), "entries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(args.entries, args.checkpoint, Path(tmp), registry, args.device, overrides=args.overrides):
            loaded = ganzoo.load_checkpoint(source, device=args.device, registry=registry)
            held = ganzoo.evaluate(loaded, registry=registry, write=False)
            row = {"steps": loaded.step, "train_seconds": seconds, "overrides": args.overrides if seconds is not None else [],
                   "held_out": {"items": held["items"], **_rounded(held["scores"])}}
            if args.photos:
                options = loaded.entry.dataset_options
                config = SRDataConfig(scale=loaded.model.scale, eval_size=options.get("eval_size", 192))
                photos = HRImages(image_files(args.photos), config, train=False)
                device = next(loaded.model.parameters()).device
                scores = heldout_scores(loaded.model, photos, 4, device)
                row["photos"] = {"folder": str(args.photos), "items": len(photos), "crop": config.eval_size, **_rounded(scores)}
            results["entries"][loaded.entry.name] = row
            print(loaded.entry.name, json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


def _rounded(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in scores.items()}


if __name__ == "__main__":
    main()
