"""Model cards: the ``README.md`` of an exported model, in the Hugging Face Hub's format.

YAML front matter (``library_name``, ``tags``, ``license``, ``datasets``,
``pipeline_tag``) for the Hub's search and widgets, then for people: what the model is,
how it was trained (entry, steps, time), the figures of the run's ``metrics.json`` with
their protocol, the sample grid, how to load it, and the data's licence and citation.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ganzoo.checkpoints import LoadedModel
from ganzoo.evaluation.records import read_metrics
from ganzoo.plugins import Registry
from ganzoo.rundir import read_json


def _pipeline_tag(loaded: LoadedModel) -> str:
    caps = loaded.model.capabilities
    if not caps.generates:
        return "image-to-image"
    return "text-to-image" if caps.condition == "text" else "unconditional-image-generation"


def figure_lines(run_metrics: dict[str, Any]) -> list[str]:
    """Markdown lines: each measured section's figures and the protocol they were measured with."""
    lines: list[str] = []
    for section, record in run_metrics.items():
        scores = record.get("scores") if isinstance(record, dict) else None
        if not scores:
            continue
        shown = ", ".join(f"{k} {v:.4g}" for k, v in scores.items() if isinstance(v, (int, float)) and not k.endswith("_std"))
        features = (record.get("features") or {}).get("features")
        protocol = [f"split `{record.get('split')}`"] if record.get("split") else []
        if record.get("fake_images"):
            protocol.append(f"{record['fake_images']} samples vs {record.get('real_images')} real images")
        if features:
            protocol.append(f"`{features}` features")
        baseline = (record.get("baseline") or {}).get("scores")
        if baseline:
            protocol.append("real-vs-real baseline " + ", ".join(f"{k} {v:.4g}" for k, v in baseline.items() if not k.endswith("_std")))
        lines.append(f"- **{section}** (step {record.get('step')}): {shown}" + (f" — {'; '.join(protocol)}" if protocol else ""))
    return lines


def _onnx_lines(config: dict[str, Any]) -> list[str]:
    if not config.get("onnx"):
        return []
    lines = ["## ONNX", ""]
    for name, about in config["onnx"].items():
        inputs = ", ".join(f"`{k}` {tuple(v)}" for k, v in about["inputs"].items())
        lines.append(f"- `{name}`: inputs {inputs}; output `output`, {about['output']}; matches PyTorch within "
                     f"{about['max_abs_difference']:.1e} (checked with onnxruntime, tolerance {about['tolerance']:g})")
    first, about = next(iter(config["onnx"].items()))
    feeds = ", ".join(f'"{k}": np.random.randn(16, {", ".join(str(d) for d in v[1:])}).astype(np.float32)'
                      if k != "label" else f'"{k}": np.arange(16) % {config["data_info"]["num_classes"]}' for k, v in about["inputs"].items())
    return [*lines, "", "```python", "import numpy as np, onnxruntime",
            f'session = onnxruntime.InferenceSession("{first}")', f"images = session.run(None, {{{feeds}}})[0]   # in [-1, 1]",
            "```", ""]


def model_card(loaded: LoadedModel, config: dict[str, Any], registry: Registry, *, license: str = "other",
               has_samples: bool = True) -> str:
    entry = loaded.entry
    dataset = registry.datasets.get(entry.dataset)
    model_spec = registry.models.get(entry.model)
    front = {
        "library_name": "ganzoo",
        "license": license,
        "tags": ["ganzoo", "gan", "generative-adversarial-network", entry.model, _pipeline_tag(loaded)],
        "datasets": [entry.dataset],
        "pipeline_tag": _pipeline_tag(loaded),
    }
    run_dir = loaded.run_dir
    run = read_json(run_dir / "run.json") if run_dir is not None else {}
    metrics = read_metrics(run_dir) if run_dir is not None else {}
    trained = f"{config['step']:,} steps" + (f" in {run['train_seconds']:,.0f} s" if run.get("train_seconds") else "")
    if run.get("device"):
        trained += f" on {run['device']} ({run.get('precision', '')}, torch {run.get('torch', '?')})"
    made = config.get("provenance", {}).get("model", {})
    lines = [
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        f"# {entry.name}", "",
        entry.description or f"{entry.model} trained on {entry.dataset}.", "",
        f"- **Model:** `{entry.model}` — {model_spec.description if model_spec else ''} (plugin `{made.get('plugin', '?')}` of "
        f"`{made.get('distribution', '?')}` {made.get('version', '')})",
        f"- **Data:** `{entry.dataset}` — {dataset.description if dataset else ''}",
        f"- **Loss:** `{entry.loss}`; **trained:** {trained}",
        f"- **Exported with:** ganzoo {config['ganzoo_version']}; weights `model.safetensors` "
        f"(SHA-256 `{config['weights_sha256']}`), networks: {', '.join(config['networks'])}", "",
        "## Figures", "",
        *(figure_lines(metrics) or ["Not measured: run `ganzoo evaluate RUN_DIR` before exporting to include figures."]), "",
    ]
    if has_samples:
        lines += ["## Samples", "", "![samples](samples.png)", ""]
    sample = "ganzoo.sample(model, n=16)" if loaded.model.capabilities.generates else "ganzoo.translate(model, images)"
    lines += [
        "## Use", "",
        "```bash",
        "pip install ganzoo" + (f" {made['distribution']}" if made.get("distribution") not in (None, "ganzoo") else ""),
        "ganzoo sample hf://OWNER/NAME --n 64 --out grid.png        # or the folder itself" if loaded.model.capabilities.generates
        else "ganzoo translate hf://OWNER/NAME input.png --out output.png   # or the folder itself",
        "```", "",
        "```python",
        "import ganzoo",
        "model = ganzoo.load_pretrained(\"hf://OWNER/NAME\")    # or a local folder; weights only, no code runs",
        f"images = {sample}",
        "```", "",
        *_onnx_lines(config),
        "## Configuration", "",
        "The complete training configuration (`config.json` holds it, with the data's shape):", "",
        "```json", json.dumps(config["entry"], indent=2), "```", "",
        "## Data licence and citation", "",
        f"- Licence of `{entry.dataset}`: {dataset.license if dataset and dataset.license else 'see its source'}",
        f"- Cite: {dataset.citation if dataset and dataset.citation else 'see the dataset source'}", "",
    ]
    return "\n".join(lines)
