"""Run reports: one self-contained HTML page per run directory, and runs side by side.

``report.html`` embeds its PNGs (base64 data URIs), so it opens offline in any browser
and survives being mailed around. It shows the run (entry, device, time, throughput),
the final metrics with their baselines and protocol, the loss curves, the sample grids
through training, and the resolved configuration. Everything is read from the files the
run directory already holds (``run.json``, ``config.yaml``, ``history.jsonl``,
``metrics.json``, ``loss_curve.png``, ``samples/``), so ``ganzoo report RUN_DIR``
rebuilds it at any time.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

from ganzoo.errors import DataError
from ganzoo.evaluation.records import read_metrics
from ganzoo.rundir import read_json, read_jsonl, write_text_atomic

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; }
th { background: #f4f4f4; }
figure { display: inline-block; margin: 0.5em; text-align: center; }
img { image-rendering: pixelated; border: 1px solid #ccc; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; }
.note { color: #666; font-size: 0.9em; }
"""


def _img(path: Path, alt: str, width: int | None = None) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"{size}>'


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items())
    return html.escape(str(value))


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def run_summary(run_dir: Path) -> dict[str, Any]:
    """Entry, status, device, steps, time and throughput of a run, from its files."""
    info = read_json(run_dir / "run.json")
    history = read_jsonl(run_dir / "history.jsonl")
    summary: dict[str, Any] = {"entry": info.get("entry", run_dir.parent.name), "status": info.get("status", "unknown"),
                               "device": info.get("device", "?"), "precision": info.get("precision", "?")}
    if history:
        last = history[-1]
        rates = [r["images_per_s"] for r in history if r.get("images_per_s")]
        summary.update(steps=last["step"], train_seconds=info.get("train_seconds", last.get("time_s")),
                       images_per_s=round(sorted(rates)[len(rates) // 2], 1) if rates else None)
    for key in ("started", "finished", "torch", "ganzoo", "threads"):
        if key in info:
            summary[key] = info[key]
    return summary


def headline_scores(metrics: dict[str, Any]) -> dict[str, float]:
    """The figures of ``metrics.json`` as flat ``section/score`` keys (for comparing runs)."""
    flat: dict[str, float] = {}
    for section, record in metrics.items():
        for key, value in (record.get("scores") or {}).items():
            if isinstance(value, (int, float)) and not key.endswith("_std"):
                flat[f"{section}/{key}"] = float(value)
    return flat


def _metrics_html(metrics: dict[str, Any]) -> str:
    if not metrics:
        return '<p class="note">No metrics yet: <code>ganzoo evaluate RUN_DIR</code> measures them.</p>'
    parts = []
    for section, record in metrics.items():
        scores = record.get("scores") or {}
        baseline = (record.get("baseline") or {}).get("scores") or {}
        rows = []
        for key, value in scores.items():
            if key.endswith("_std"):
                continue
            std = scores.get(f"{key}_std")
            shown = f"{value:.4g} ± {std:.2g}" if isinstance(std, float) else value
            rows.append([key, shown, baseline.get(key, "")])
        parts.append(f"<h3>{html.escape(section)}</h3>")
        parts.append(_table(["figure", "value", "baseline"], rows))
        protocol = {k: v for k, v in record.items() if k not in ("scores", "baseline")}
        if record.get("baseline"):
            protocol["baseline"] = record["baseline"].get("what", "")
        parts.append(_table(["protocol", ""], [[k, v] for k, v in protocol.items()]))
    return "\n".join(parts)


def build_report(run_dir: str | Path) -> str:
    """The HTML of ``run_dir``'s report."""
    run_dir = Path(run_dir)
    if not (run_dir / "config.yaml").exists():
        raise DataError(f"{run_dir} is not a run directory (no config.yaml): pass the folder `ganzoo run` trained into")
    summary = run_summary(run_dir)
    metrics = read_metrics(run_dir)
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ganzoo run {html.escape(summary['entry'])}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(summary['entry'])}</h1><p class='note'>{html.escape(str(run_dir.resolve()))}</p>",
             "<h2>Run</h2>", _table(["", ""], [[k, v] for k, v in summary.items()]),
             "<h2>Metrics</h2>", _metrics_html(metrics)]
    if (run_dir / "loss_curve.png").exists():
        parts += ["<h2>Losses</h2>", _img(run_dir / "loss_curve.png", "loss curves")]
    grids = sorted((run_dir / "samples").glob("*.png")) if (run_dir / "samples").is_dir() else []
    if grids:
        parts.append("<h2>Samples through training</h2>")
        for grid in grids:
            parts.append(f"<figure>{_img(grid, grid.stem, 256)}<figcaption>{html.escape(grid.stem)}</figcaption></figure>")
    parts += ["<h2>Configuration</h2>", f"<pre>{html.escape((run_dir / 'config.yaml').read_text(errors='replace'))}</pre>", "</body></html>"]
    return "\n".join(parts)


def write_report(run_dir: str | Path) -> Path:
    """Write ``run_dir/report.html`` (atomically) and return its path."""
    run_dir = Path(run_dir)
    path = run_dir / "report.html"
    write_text_atomic(path, build_report(run_dir))
    return path


def compare_runs(run_dirs: list[str | Path]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of several runs' summaries and figures side by side (one column a run)."""
    columns = []
    for run_dir in run_dirs:
        run_dir = Path(run_dir)
        if not (run_dir / "config.yaml").exists():
            raise DataError(f"{run_dir} is not a run directory (no config.yaml)")
        summary = run_summary(run_dir)
        columns.append((run_dir, {"steps": summary.get("steps"), "train_seconds": summary.get("train_seconds"),
                                  "images_per_s": summary.get("images_per_s"), "device": summary.get("device"),
                                  **headline_scores(read_metrics(run_dir))}))
    keys: list[str] = []
    for _, values in columns:
        keys += [k for k in values if k not in keys]
    header = ["", *[f"{d.parent.name}/{d.name}" for d, _ in columns]]
    rows = [[key, *[values.get(key, "") for _, values in columns]] for key in keys]
    return header, rows


__all__ = ["build_report", "compare_runs", "headline_scores", "run_summary", "write_report"]
