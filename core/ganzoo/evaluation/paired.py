"""Held-out scores of translators: how close their outputs are to the true targets.

L1, PSNR and SSIM per image, on images in [-1, 1] measured on the [0, 1] scale (the
convention of image-to-image and super-resolution papers). PSNR and SSIM come from
torchmetrics (Gaussian 11x11 window, sigma 1.5, as Wang et al. 2004), not hand-written.
``y_channel`` and ``border`` give the super-resolution convention: the luma channel of
BT.601 YCbCr, with ``border`` pixels cropped on each side.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ganzoo.data import Dataset, eval_batches
from ganzoo.errors import DataError
from ganzoo.model import Batch, GANModel
from ganzoo.weights import hub_file


def to_unit(images: Tensor) -> Tensor:
    """[-1, 1] -> [0, 1], float32, clamped (what a saved PNG would hold)."""
    return ((images.float() + 1) / 2).clamp(0, 1)


def luma(images: Tensor) -> Tensor:
    """Y of BT.601 YCbCr (the MATLAB ``rgb2ycbcr`` convention) for [0, 1] RGB, scaled to [0, 1]."""
    if images.shape[1] == 1:
        return images
    r, g, b = images[:, 0:1], images[:, 1:2], images[:, 2:3]
    return (16.0 + 65.481 * r + 128.553 * g + 24.966 * b) / 255.0


def paired_scores(output: Tensor, target: Tensor, *, prefix: str = "", y_channel: bool = False, border: int = 0) -> dict[str, Tensor]:
    """Per-image ``l1``, ``psnr`` (dB) and ``ssim`` of ``output`` against ``target``, each (B,).

    Both are (B, C, H, W) in [-1, 1]. A 1-channel ``output`` is compared with a 3-channel
    ``target`` by repeating it (and vice versa).
    """
    x, y = to_unit(output), to_unit(target)
    if x.shape[1] != y.shape[1]:
        channels = max(x.shape[1], y.shape[1])
        x, y = x.expand(-1, channels, -1, -1), y.expand(-1, channels, -1, -1)
    if y_channel:
        x, y = luma(x), luma(y)
    if border:
        x, y = x[..., border:-border, border:-border], y[..., border:-border, border:-border]
    dims = (1, 2, 3)
    l1 = (x - y).abs().mean(dim=dims)
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure  # 6 s to import

    psnr = peak_signal_noise_ratio(x, y, data_range=1.0, reduction="none", dim=dims)
    ssim = structural_similarity_index_measure(x, y, data_range=1.0, reduction="none")
    return {f"{prefix}l1": l1, f"{prefix}psnr": psnr, f"{prefix}ssim": ssim}


def mean_image_baseline(target: Tensor) -> Tensor:
    """Every item replaced by the mean target of its batch: the best constant guess."""
    return target.float().mean(dim=0, keepdim=True).expand_as(target)


def outputs_of(model: GANModel, batch: Batch) -> dict[str, Tensor]:
    """The model's translation of ``batch`` in each direction whose source the batch holds."""
    return {d.name: model.translate(batch[d.source], d.name) for d in model.capabilities.directions if d.source in batch}


def standard_scores(model: GANModel, batch: Batch, outputs: dict[str, Tensor]) -> dict[str, Tensor]:
    """L1, PSNR and SSIM of each direction's outputs against its targets, and of the
    identity (the input itself, when it has the target's size) and the mean target of the
    batch; keys prefixed by the direction's name when the model has several."""
    directions = model.capabilities.directions
    scores: dict[str, Tensor] = {}
    for d in directions:
        if d.name not in outputs or d.target not in batch:
            continue
        prefix = f"{d.name}_" if len(directions) > 1 else ""
        source, target = batch[d.source], batch[d.target]
        scores.update(paired_scores(outputs[d.name], target, prefix=prefix))
        if source.shape[2:] == target.shape[2:]:
            scores.update(paired_scores(source, target, prefix=f"{prefix}identity_"))
        scores.update(paired_scores(mean_image_baseline(target), target, prefix=f"{prefix}mean_"))
    return scores


def has_targets(model: GANModel, data: Dataset) -> bool:
    """Whether ``data`` pairs each item's input with its true output for some direction of
    ``model`` (aligned items holding both keys; unpaired domains do not)."""
    from ganzoo.data import UnpairedData

    if isinstance(data, UnpairedData) or not model.capabilities.translates:
        return False
    keys = set(data.tensors) if hasattr(data, "tensors") else set(data.item(0, None))
    return any({d.source, d.target} <= keys for d in model.capabilities.directions)


def lpips_metric(device: torch.device) -> tuple[Any, str]:
    """torchmetrics' AlexNet LPIPS when torchvision's AlexNet weights are in the torch hub
    cache (they are never downloaded for this), else ``(None, why not)``. torchvision
    unpickles that file freely, so it is first checked to be the published one."""
    from torchvision.models import AlexNet_Weights

    url = AlexNet_Weights.IMAGENET1K_V1.url
    try:
        hub_file(url, what="AlexNet weights", hint=f"copy {url} there for LPIPS", download=False, verify=True)
    except DataError as e:
        return None, str(e)
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    return LearnedPerceptualImagePatchSimilarity(net_type="alex").to(device), ""


@torch.no_grad()
def heldout_scores(model: GANModel, data: Dataset, batch_size: int, device: torch.device, limit: int = 0,
                   lpips: Any = None) -> dict[str, float]:
    """Mean of each per-item score over ``data`` (``model.evaluate_batch``, else the
    standard scores), from one translation of each batch; with ``lpips`` (a torchmetrics
    LPIPS), also the LPIPS of each direction's outputs against its targets."""
    sums: dict[str, float] = {}
    count = 0
    for batch in eval_batches(data, batch_size, device, limit):
        outputs = outputs_of(model, batch)
        scores = model.evaluate_batch(batch, outputs)
        if scores is None:
            scores = standard_scores(model, batch, outputs)
        for key, values in scores.items():
            sums[key] = sums.get(key, 0.0) + float(values.double().sum())
        count += len(next(iter(batch.values())))
        if lpips is not None:
            for d in model.capabilities.directions:
                if d.name in outputs and d.target in batch:
                    lpips.update(*(t.float().clamp(-1, 1).expand(-1, 3, -1, -1) if t.shape[1] == 1 else t.float().clamp(-1, 1)
                                   for t in (outputs[d.name], batch[d.target])))
    means = {key: total / count for key, total in sums.items()}
    if lpips is not None and count:
        means["lpips"] = float(lpips.compute())
    return means


__all__ = ["has_targets", "heldout_scores", "lpips_metric", "luma", "mean_image_baseline", "outputs_of", "paired_scores",
           "standard_scores", "to_unit"]
