"""The cache of real-image features: the images a model is scored against, and the
real-vs-real baseline, do not depend on the model, so they are computed once."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import torch
from torch import Tensor

from ganzoo.data import Dataset, gather
from ganzoo.errors import GanzooError
from ganzoo.evaluation.samples import extract, sample_scores
from ganzoo.paths import cache_dir
from ganzoo.rundir import atomic_file
from ganzoo.seeding import seeded
from ganzoo.specs import ZooEntry
from ganzoo.weights import load_tensors

CACHE_VERSION = 2  # 2: the baseline's KID subsets drawn under the evaluation's seed (version 1's depended on the caller's RNG)


def real_features(extractor: Any, entry: ZooEntry, key: str, scored: tuple[Dataset, str, Tensor],
                  others: tuple[Dataset, str, Tensor], device: torch.device, seed: int) -> dict[str, Any]:
    """Features of the real images (batch key ``key``) a model is scored against, and the
    real-vs-real baseline, cached under ``$GANZOO_CACHE/features``, keyed by the dataset,
    the images picked and the extractor's protocol (its weights' SHA-256 included). An
    unreadable cache is recomputed."""
    (data, split, picked), (other_data, other_split, other_idx) = scored, others
    ident = json.dumps({"dataset": entry.dataset, "options": entry.dataset_options, "split": split, "other_split": other_split,
                        "items": [len(data), len(other_data)], "seed": seed, "picked": [len(picked), len(other_idx)],
                        "protocol": extractor.protocol, "key": key, "version": CACHE_VERSION}, sort_keys=True, default=str)
    path = cache_dir() / "features" / f"real-{entry.dataset}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}.pt"
    if path.is_file():
        try:
            cached = load_tensors(path, what="cached features")
            return {**cached, "source": f"cached ({path})"}
        except GanzooError:  # a damaged cache file is rebuilt below
            pass
    with torch.no_grad():
        real = torch.cat([extract(extractor, gather(data, idx, device)[key])[0] for idx in picked.split(250)])
        other_f, other_logits = [], []
        for idx in other_idx.split(250):
            f, lg = extract(extractor, gather(other_data, idx, device)[key])
            other_f.append(f)
            if lg is not None:
                other_logits.append(lg)
    result: dict[str, Any] = {"real": real.cpu()}
    if sum(len(f) for f in other_f) >= 10:
        result["other_count"] = sum(len(f) for f in other_f)
        with seeded(seed, device):  # KID's random subsets: the same figures whoever calls
            result["baseline"] = sample_scores(real, torch.cat(other_f), torch.cat(other_logits) if other_logits else None)
    with atomic_file(path, "wb") as f:
        torch.save(result, f)
    return {**result, "source": f"computed (cached in {path})"}
