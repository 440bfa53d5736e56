"""Quality bars of the MNIST entries, judged by a digit classifier trained on real MNIST.

For each entry: train it with its default configuration (timed), draw 2,000 samples,
and read them with a small CNN trained here on the bundled 5,000 real digits.

- unconditional entries: the share of samples read with confidence above 0.9, and the
  share of each digit among all samples (bars: >= 70 %, every digit 5-15 %);
- conditional entries: 200 samples asked for each digit; the share read as that digit
  (bar: >= 95 %).

The classifier's own figures on held-out real digits are printed first, as the baseline.

    python benchmarks/mnist_quality.py dcgan-mnist-5k cdcgan-mnist-5k
    python benchmarks/mnist_quality.py --checkpoint runs/dcgan-mnist-5k/TIMESTAMP
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from common import header, runs
from ganzoo.build import load_data
from ganzoo.evaluation.features import jitter  # small rotations, scalings and shifts

SAMPLES = 2000
CONFIDENCE = 0.9


class DigitClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def train_classifier(images: torch.Tensor, labels: torch.Tensor, epochs: int = 8, seed: int = 0) -> tuple[DigitClassifier, dict]:
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x = images.float() / 127.5 - 1
    order = torch.randperm(len(x), generator=g)
    val, tr = order[:500], order[500:]
    model = DigitClassifier()
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for _ in range(epochs):
        model.train()
        perm = tr[torch.randperm(len(tr), generator=g)]
        for i in range(0, len(perm), 64):
            b = perm[i : i + 64]
            loss = F.cross_entropy(model(jitter(x[b], g)), labels[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        probs = F.softmax(model(x[val]), 1)
    conf, pred = probs.max(1)
    baseline = {"held_out_accuracy": (pred == labels[val]).float().mean().item(), "held_out_confident": (conf > CONFIDENCE).float().mean().item()}
    return model, baseline


@torch.no_grad()
def judge(classifier: DigitClassifier, loaded: ganzoo.api.LoadedModel) -> dict:
    if loaded.model.num_classes:
        images = torch.cat([ganzoo.sample(loaded, 200, label=k, seed=k) for k in range(10)]).cpu()
        asked = torch.arange(10).repeat_interleave(200)
    else:
        images = ganzoo.sample(loaded, SAMPLES, seed=0).cpu()
        asked = None
    probs = F.softmax(classifier(images.clamp(-1, 1)), 1)
    conf, pred = probs.max(1)
    result = {
        "confident": (conf > CONFIDENCE).float().mean().item(),
        "digit_shares": [round(v, 4) for v in (torch.bincount(pred, minlength=10).float() / len(pred)).tolist()],
    }
    if asked is not None:
        result["accuracy_for_asked_digit"] = (pred == asked).float().mean().item()
        result["worst_digit_accuracy"] = min((pred[asked == k] == k).float().mean().item() for k in range(10))
    else:
        shares = result["digit_shares"]
        result["digit_share_range"] = [min(shares), max(shares)]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entries", nargs="*", help="entries to train with their defaults and judge")
    parser.add_argument("--checkpoint", action="append", default=[], help="judge an existing checkpoint or run directory")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    registry = ganzoo.load_registry()
    data = load_data(registry, registry.entry("dcgan-mnist-5k"))
    t0 = time.perf_counter()
    classifier, baseline = train_classifier(data.tensors["image"], data.tensors["label"])
    print(f"classifier: trained in {time.perf_counter() - t0:.0f} s; real held-out digits: "
          f"accuracy {baseline['held_out_accuracy']:.3f}, confident {baseline['held_out_confident']:.3f}")
    results = {**header(), "classifier": baseline, "entries": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for source, seconds in runs(args.entries, args.checkpoint, Path(tmp), registry, args.device):
            loaded = ganzoo.load_checkpoint(source, device=args.device, registry=registry)
            result = judge(classifier, loaded)
            result.update(steps=loaded.step, train_seconds=seconds)
            results["entries"][loaded.entry.name] = result
            print(loaded.entry.name, json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
