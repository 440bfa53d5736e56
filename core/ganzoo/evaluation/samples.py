"""Sample-quality metrics from feature vectors: FID, KID, Inception Score, precision/recall.

The arithmetic comes from libraries, not from here: FID (Heusel et al. 2017), KID
(Bińkowski et al. 2018) and the Inception Score (Salimans et al. 2016) from torchmetrics,
improved precision and recall (Kynkäänniemi et al. 2019, k-nearest-neighbour balls) from
torch-fidelity. Features are computed once (:mod:`ganzoo.evaluation.features`) and handed to
torchmetrics through an identity "feature network", so every metric sees the same vectors.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import torch
from torch import Tensor, nn

KID_SUBSET = 1000  # images per KID subset (clipped to the smaller set)
KID_SUBSETS = 100
IS_SPLITS = 10
PR_NEIGHBOURS = 3  # k of the k-NN balls (the paper's default)


def _quiet(fn):
    """torchmetrics warns that metrics buffer their features: known, and the counts are recorded."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)

    return wrapper


class _Given(nn.Identity):
    """Hands precomputed features to a torchmetrics metric as if it had extracted them."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.num_features = dim


@_quiet
def frechet_distance(real: Tensor, fake: Tensor) -> float:
    """FID between two sets of feature vectors (N, D) and (M, D)."""
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Given(real.shape[1]))
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


@_quiet
def kernel_distance(real: Tensor, fake: Tensor, subset: int = KID_SUBSET, subsets: int = KID_SUBSETS) -> tuple[float, float]:
    """KID (mean, std over random subsets) between two sets of feature vectors; subsets hold
    at most half of the smaller set, so that they differ."""
    from torchmetrics.image.kid import KernelInceptionDistance

    subset = kid_subset_size(len(real), len(fake), subset)
    metric = KernelInceptionDistance(feature=_Given(real.shape[1]), subset_size=subset, subsets=subsets)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    mean, std = metric.compute()
    return float(mean), float(std)


def kid_subset_size(n_real: int, n_fake: int, subset: int = KID_SUBSET) -> int:
    return max(2, min(subset, n_real // 2, n_fake // 2))


@_quiet
def inception_score(logits: Tensor, splits: int = IS_SPLITS) -> tuple[float, float]:
    """Inception Score (mean, std over ``splits``) from class logits (N, K)."""
    from torchmetrics.image.inception import InceptionScore

    metric = InceptionScore(feature=_Given(logits.shape[1]), splits=min(splits, len(logits)))
    metric.update(logits.double())
    mean, std = metric.compute()
    return float(mean), float(std)


def precision_recall(real: Tensor, fake: Tensor, k: int = PR_NEIGHBOURS) -> tuple[float, float]:
    """Improved precision (fakes inside the real manifold) and recall (reals inside the fake one)."""
    from torch_fidelity.metric_prc import calculate_precision_recall_part

    precision, recall = calculate_precision_recall_part(fake.float(), real.float(), neighborhood=k, batch_size=4096)
    return float(precision), float(recall)


def sample_scores(real: Tensor, fake: Tensor, fake_logits: Tensor | None = None) -> dict[str, Any]:
    """Every metric of ``fake`` features against ``real`` features: a flat dict of figures."""
    scores: dict[str, Any] = {"fid": frechet_distance(real, fake)}
    scores["kid"], scores["kid_std"] = kernel_distance(real, fake)
    scores["precision"], scores["recall"] = precision_recall(real, fake)
    if fake_logits is not None:
        scores["inception_score"], scores["inception_score_std"] = inception_score(fake_logits)
    return scores


@torch.no_grad()
def extract(extractor: nn.Module, images: Tensor, batch_size: int = 250) -> tuple[Tensor, Tensor | None]:
    """Features (N, D) and logits (N, K) or None of ``images`` in [-1, 1], on the CPU."""
    param = next(extractor.parameters(), None)  # an extractor without weights runs where the images are
    device = param.device if param is not None else images.device
    features, logits = [], []
    for chunk in images.split(batch_size):
        f, lg = extractor(chunk.to(device))
        features.append(f.float().cpu())
        if lg is not None:
            logits.append(lg.float().cpu())
    return torch.cat(features), (torch.cat(logits) if logits else None)


__all__ = ["extract", "frechet_distance", "inception_score", "kernel_distance", "precision_recall", "sample_scores"]
