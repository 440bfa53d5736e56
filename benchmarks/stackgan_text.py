"""Text consistency of StackGAN on the offline digit captions, and Stage I vs Stage II sharpness.

For every held-out digit (every tenth bundled digit) each of its three captions is drawn
once. A digit classifier trained here on real digits (the one of ``mnist_quality.py``)
reads the drawn images: how often it reads the digit the caption names (chance: 10 %).
The stroke thickness, slant and size of each drawn image are measured the way the
captions were made, and compared with the caption's words (chance: 33 % each). Sharpness
is the variance of the Laplacian of the images, for Stage I (upsampled) and Stage II
and for the real held-out digits.

    python benchmarks/stackgan_text.py stackgan-digits
    python benchmarks/stackgan_text.py --checkpoint runs/stackgan-digits/TIMESTAMP
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

import ganzoo
from common import header, runs
from ganzoo.build import load_data
from ganzoo_stackgan.data import NUMBERS, measure
from mnist_quality import train_classifier

ATTRIBUTES = {"thickness": ("thin", "regular", "thick"), "slant": ("left", "upright", "right"), "height": ("small", "medium", "large")}


def sharpness(images: torch.Tensor) -> float:
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]).view(1, 1, 3, 3)
    return F.conv2d(images.float(), kernel).var(dim=(1, 2, 3)).mean().item()


def thresholds(values: torch.Tensor) -> torch.Tensor:
    return torch.quantile(values, torch.tensor([1 / 3, 2 / 3]))


@torch.no_grad()
def score(loaded, registry, classifier) -> dict:
    entry = loaded.entry
    val = load_data(registry, entry, split="val")
    train = load_data(registry, entry)
    real_all = torch.cat([train.tensors["image"], val.tensors["image"]])
    cuts = {k: thresholds(v) for k, v in measure(real_all).items()}  # the captions' terciles (all 5,000 digits)
    vocab = val.vocabulary
    captions = [" ".join(vocab[i - 2] if i > 1 else "" for i in row.tolist() if i) for row in val.tensors["caption"].flatten(0, 1)]
    named = torch.tensor([next(NUMBERS.index(w) for w in c.split() if w in NUMBERS) for c in captions])
    images = torch.cat([ganzoo.sample(loaded, 500, text=captions[i:i + 500], seed=i) for i in range(0, len(captions), 500)]).cpu()
    model = loaded.model
    stage = model.phase
    model.set_phase("stage1")
    stage1 = torch.cat([ganzoo.sample(loaded, 500, text=captions[i:i + 500], seed=i) for i in range(0, len(captions), 500)]).cpu()
    model.set_phase(stage)
    pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    small = F.interpolate(images.clamp(-1, 1), size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    pred = classifier(small).argmax(1)
    result = {"captions": len(captions), "named_digit_read": (pred == named).float().mean().item()}
    drawn = measure(pixels)
    for key, words in ATTRIBUTES.items():  # over the captions that mention the attribute
        said = torch.tensor([next((i for i, w in enumerate(words) if w in c.split()), -1) for c in captions])
        got = torch.bucketize(drawn[key], cuts[key])
        result[f"{key}_word_matched"] = (got == said)[said >= 0].float().mean().item()
    small1 = F.interpolate(stage1.clamp(-1, 1), size=(28, 28), mode="bilinear", antialias=True, align_corners=False)
    result["named_digit_read_stage1"] = (classifier(small1).argmax(1) == named).float().mean().item()
    result["sharpness_stage1"] = sharpness(stage1)
    result["sharpness_stage2"] = sharpness(images)
    result["sharpness_real"] = sharpness(val.tensors["image"].float() / 127.5 - 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*")
    parser.add_argument("--checkpoint", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--runs-dir", type=Path, help="keep the trained runs here (default: a temporary folder)")
    args = parser.parse_args()
    registry = ganzoo.load_registry()
    digits = load_data(registry, registry.entry("dcgan-mnist-5k"))
    classifier, baseline = train_classifier(digits.tensors["image"], digits.tensors["label"])
    results = {**header(), "classifier": baseline, "entries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(args.entries, args.checkpoint, args.runs_dir or Path(tmp), registry, args.device):
            loaded = ganzoo.load_checkpoint(source, device=args.device, registry=registry)
            row = {"steps": loaded.step, "train_seconds": seconds, **score(loaded, registry, classifier)}
            results["entries"][loaded.entry.name] = row
            print(loaded.entry.name, json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
