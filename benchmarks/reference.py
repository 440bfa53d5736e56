"""Re-measure the reference figures the zoo entries carry (``ganzoo list --reference``).

For each entry (default: every entry with a ``reference`` block whose data is offline):
train it with its default configuration (timed), score it with ``ganzoo evaluate`` (its
default protocol: paired scores for paired models, else FID / KID / precision / recall /
Inception Score with the default feature network, 2,000 samples), and print each figure
next to the zoo's reference. The run directories (with their report.html) are kept under
``--runs-dir``.

    python benchmarks/reference.py                       # every offline entry with a reference
    python benchmarks/reference.py dcgan-mnist-5k --json ref.json
    python benchmarks/reference.py --checkpoint runs/dcgan-mnist-5k/TIMESTAMP
    python benchmarks/reference.py srgan-photos --set train.precision=bf16   # does a faster default hold?
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
    parser.add_argument("entries", nargs="*", help="entries to train and score (default: those with a reference)")
    parser.add_argument("--checkpoint", action="append", default=[], help="score an existing checkpoint or run directory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE",
                        help="train with this override, e.g. train.precision=bf16 (checking a faster default's quality)")
    parser.add_argument("--runs-dir", type=Path, help="keep the runs here (default: a temporary folder)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    registry = ganzoo.load_registry()
    entries = args.entries
    if not entries and not args.checkpoint:
        entries = [s.name for s in registry.entries.values() if s.entry is not None and s.entry.reference]
    results = {**header(), "entries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(entries, args.checkpoint, args.runs_dir or Path(tmp), registry, args.device,
                                    overrides=args.overrides):
            loaded = ganzoo.load_checkpoint(source, device=args.device, registry=registry)
            record = ganzoo.evaluate(loaded, registry=registry)
            name = loaded.entry.name
            status = registry.entries.get(name)
            reference = status.entry.reference if status is not None and status.entry is not None else {}
            measured = {k: v for k, v in record["scores"].items() if not k.endswith("_std")}
            if seconds is not None:
                measured["train_seconds"] = seconds
            rows = {k: {"reference": reference.get(k), "measured": round(v, 4)} for k, v in measured.items()}
            results["entries"][name] = {"steps": record["step"], "protocol": {k: v for k, v in record.items() if k != "scores"},
                                        "figures": rows}
            print(f"\n{name} (step {record['step']}; reference measured {reference.get('measured', '-')})")
            for key, row in rows.items():
                ref = row["reference"]
                change = f"{(row['measured'] - ref) / abs(ref) * 100:+.1f} %" if isinstance(ref, (int, float)) and ref else ""
                print(f"  {key:24s} reference {ref if ref is not None else '-':>10}  measured {row['measured']:>10}  {change}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
