"""Scoring a trained model, dispatched on its capabilities and its data:

- a translator whose held-out split pairs inputs with true outputs: L1 / PSNR / SSIM
  (and LPIPS) of each direction against the targets, beside the baselines (``heldout``);
- a generator: FID, KID, precision/recall and the Inception Score of its samples against
  real images (``samples-FEATURES``);
- a translator without targets: the same sample figures, of its outputs for held-out
  inputs against real images of the output domain (``samples-FEATURES``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from ganzoo.build import load_data
from ganzoo.checkpoints import LoadedModel
from ganzoo.data import gather
from ganzoo.errors import ConfigError, DataError
from ganzoo.evaluation.cache import real_features
from ganzoo.evaluation.features import FeatureContext, build_features, default_features
from ganzoo.evaluation.paired import has_targets, heldout_scores, lpips_metric
from ganzoo.evaluation.samples import PR_NEIGHBOURS, extract, kid_subset_size, sample_scores
from ganzoo.plugins import Registry
from ganzoo.seeding import seeded


def evaluate_model(loaded: LoadedModel, registry: Registry, *, split: str | None = None, batch_size: int | None = None,
                   limit: int = 0, samples: int = 2000, features: str = "auto", weights: str | Path | None = None,
                   seed: int = 0, data_dir: str | Path | None = None, direction: str | None = None) -> tuple[str, dict[str, Any]]:
    """The ``metrics.json`` section and record of ``loaded``'s figures (see the module)."""
    entry, model = loaded.entry, loaded.model
    if model.capabilities.translates:
        held_split = split or registry.spec("dataset", entry.dataset).eval_split
        if held_split is None:
            raise DataError(f"dataset '{entry.dataset}' has no held-out split to evaluate on; pass --split train to score "
                            "the training data")
        data = load_data(registry, entry, data_dir, held_split)
        if has_targets(model, data):
            return "heldout", evaluate_heldout(loaded, data, held_split, batch_size, limit)
    record = evaluate_samples(loaded, registry, split=split, samples=samples, features=features, weights=weights, seed=seed,
                              data_dir=data_dir, direction=direction)
    return f"samples-{record['features']['features']}", record


def evaluate_heldout(loaded: LoadedModel, data: Any, split: str, batch_size: int | None, limit: int) -> dict[str, Any]:
    """Held-out scores of a translator against its true targets, LPIPS included when its weights are at hand."""
    device = next(loaded.model.parameters()).device
    batch_size = batch_size or loaded.entry.train.batch_size
    lpips, why_not = lpips_metric(device)
    scores = heldout_scores(loaded.model, data, batch_size, device, limit, lpips)
    return {"kind": "paired", "split": split, "items": len(data) if not limit else min(len(data), limit * batch_size),
            "step": loaded.step, "checkpoint": str(loaded.path), "scores": scores,
            "lpips": "AlexNet LPIPS (torchmetrics), lower is better" if lpips is not None else f"skipped: {why_not}"}


def evaluate_samples(loaded: LoadedModel, registry: Registry, *, split: str | None = None, samples: int = 2000,
                     features: str = "auto", weights: str | Path | None = None, seed: int = 0,
                     data_dir: str | Path | None = None, direction: str | None = None) -> dict[str, Any]:
    """Sample-quality figures of a generator's samples (or a translator's outputs in
    ``direction``) against real images of ``split`` (default: the held-out one, else train)."""
    if samples < 10:
        raise ConfigError("--samples must be at least 10")
    entry, model = loaded.entry, loaded.model
    translator = model.capabilities.direction(direction) if model.capabilities.translates else None
    key = translator.target if translator else "image"
    dataset = registry.spec("dataset", entry.dataset)
    split = split or dataset.eval_split or "train"
    data = load_data(registry, entry, data_dir, split)
    dev = next(model.parameters()).device
    name = (dataset.features or default_features(data.info, data)) if features == "auto" else features
    extractor = build_features(name, FeatureContext(entry, registry, Path(data_dir) if data_dir else None,
                                                    Path(weights) if weights else None, dev))
    t0 = time.perf_counter()
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    picked, others = order[:samples], order[samples : 2 * samples]  # the baseline's real set is disjoint
    other_data, other_split = data, split
    if len(others) < len(picked) and split != "train":  # a small held-out split: the baseline's images from training
        other_data, other_split = load_data(registry, entry, data_dir, "train"), "train"
        others = torch.randperm(len(other_data), generator=torch.Generator().manual_seed(seed))[: len(picked)]
    reals = real_features(extractor, entry, key, (data, split, picked), (other_data, other_split, others), dev, seed)
    fake_f, fake_logits = [], []
    conditioned = False
    with torch.no_grad(), seeded(seed, dev):  # caption picks, the networks' own randomness and KID's subsets repeat
        for i, idx in enumerate(picked.split(250)):
            batch = gather(data, idx, dev)
            if translator is not None:
                made = model.translate(batch[translator.source], translator.name)
            else:
                condition = model.evaluation_condition(batch)
                conditioned = condition is not None
                rng = torch.Generator(device=dev).manual_seed(seed * 100003 + i)
                made = model.sample(len(idx), condition, rng=rng)
            f, lg = extract(extractor, made)
            fake_f.append(f)
            if lg is not None:
                fake_logits.append(lg)
        real, fake = reals["real"], torch.cat(fake_f)
        scores = sample_scores(real, fake, torch.cat(fake_logits) if fake_logits else None)
    made_how = (f"one output per real held-out input ({translator.name})" if translator is not None
                else "one sample per real image, with its condition" if conditioned else "noise only")
    record: dict[str, Any] = {
        "kind": "samples", "split": split, "real_images": len(real), "fake_images": len(fake), "step": loaded.step,
        "checkpoint": str(loaded.path), "seed": seed, "features": extractor.protocol,
        "protocol": {"kid_subset_size": kid_subset_size(len(real), len(fake)), "precision_recall_k": PR_NEIGHBOURS,
                     "conditions": made_how, "libraries": "FID/KID/IS: torchmetrics; precision/recall: torch-fidelity"},
        "scores": scores,
    }
    if "baseline" in reals:  # what real data scores: the floor (or ceiling) of each figure
        record["baseline"] = {"what": f"{reals['other_count']} other real images (of the {other_split} split) in place of the samples",
                              "scores": reals["baseline"]}
    record["protocol"]["real_features"] = reals["source"]
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record
