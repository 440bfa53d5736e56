"""Feature extractors for sample-quality metrics (FID, KID, Inception Score, precision/recall).

A feature extractor turns images in [-1, 1] into feature vectors, and, when the network
is a classifier, class logits (for the Inception Score). Two are built in, registered
through the ``ganzoo_register_feature_extractors`` hook like a plugin's would be:

- ``inception-v3``: the standard one, the TensorFlow FID Inception-v3 as ported by
  torch-fidelity (the network behind the published FID figures). Images are quantised
  to 8 bits as a saved PNG would be, grey images repeated to three channels, and resized
  to 299x299 by torch-fidelity's TensorFlow-compatible bilinear resize. Its weights come
  from ``--weights PATH`` or torch's hub cache; offline without them, one line says how
  to get them.
- ``domain``: a small CNN that ganzoo trains itself on a labelled dataset (a digit
  classifier for MNIST), cached per dataset. Inception features of 28x28 grey digits say
  little; this network gives MNIST-like entries meaningful figures offline.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ganzoo.build import load_data
from ganzoo.errors import ConfigError, DataError, GanzooError
from ganzoo.hookspecs import hookimpl
from ganzoo.images import to_model_range
from ganzoo.paths import cache_dir
from ganzoo.rundir import atomic_file
from ganzoo.seeding import seeded
from ganzoo.specs import DataInfo, FeatureExtractorSpec
from ganzoo.weights import as_trusted_file, hub_file, load_state_dict, load_tensors, sha256

if TYPE_CHECKING:
    from ganzoo.plugins import Registry
    from ganzoo.specs import ZooEntry


class FeatureExtractor(nn.Module):
    """Images in [-1, 1], (B, C, H, W) -> ``(features (B, D), logits (B, K) or None)``.

    ``protocol`` says what was measured with: name, weights file and its SHA-256, input
    size and resize method. It is written next to every figure.
    """

    protocol: dict[str, Any]

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor | None]:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class FeatureContext:
    """What building a feature extractor may need."""

    entry: ZooEntry
    registry: Registry
    data_dir: Path | None = None
    weights: Path | None = None  # --weights
    device: torch.device = torch.device("cpu")


def to_uint8_rgb(images: Tensor) -> Tensor:
    """[-1, 1] (B, C, H, W) -> uint8 (B, 3, H, W), rounded as a saved PNG would be."""
    pixels = ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels


# ---------------------------------------------------------------- Inception-v3

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"


class InceptionV3(FeatureExtractor):
    """The FID Inception-v3 of torch-fidelity: 2048 pool features and the 1008 logits."""

    def __init__(self, weights: Path) -> None:
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        state = load_state_dict(weights, what="Inception-v3 weights")  # torch-fidelity would unpickle the file freely
        self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048", "logits_unbiased"],
                                               feature_extractor_weights_path=as_trusted_file(state))
        self.protocol = {"features": "inception-v3", "layer": "pool3 (2048)", "weights": str(weights),
                         "weights_sha256": sha256(weights), "input": "uint8 RGB, grey repeated to 3 channels",
                         "resize": "299x299 bilinear (TensorFlow 1.x compatible, torch-fidelity)"}

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        features, logits = self.net(to_uint8_rgb(images))
        return features.float(), logits.float()


def inception_weights(weights: Path | None) -> Path:
    """``weights`` if given, else the cached file, else a download into the cache; offline
    without the file, a one-line :class:`DataError` saying how to get it."""
    from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

    if weights is not None:
        if not Path(weights).is_file():
            raise DataError(f"--weights {weights}: no such file (the Inception-v3 weights {INCEPTION_FILE})")
        return Path(weights)
    return hub_file(URL_INCEPTION_V3, what="Inception-v3 weights",
                    hint=f"fetch {URL_INCEPTION_V3} and pass --weights PATH (or copy it there), or use --features domain")


def _build_inception(context: FeatureContext) -> FeatureExtractor:
    return InceptionV3(inception_weights(context.weights))


# ---------------------------------------------------------------- the domain network


class DomainNet(nn.Module):
    """A small CNN classifier; its 128-d penultimate layer is the feature space."""

    def __init__(self, channels: int, num_classes: int, width: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.Conv2d(2 * width, 2 * width, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(7), nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(2 * width * 49, 128), nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(128, num_classes))

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(images)  # (B, 128)
        return features, self.head(features)


class DomainFeatures(FeatureExtractor):
    def __init__(self, net: DomainNet, path: Path, meta: dict[str, Any]) -> None:
        super().__init__()
        self.net = net.eval()
        self.protocol = {"features": "domain", "layer": "penultimate (128)", "weights": str(path),
                         "weights_sha256": sha256(path), "trained_on": f"{meta['dataset']} ({meta['split']} split)",
                         "classifier_held_out_accuracy": meta["held_out_accuracy"],
                         "input": "the dataset's own channels and size", "resize": "none"}

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        return self.net(images.float().clamp(-1, 1))


def jitter(x: Tensor, g: torch.Generator) -> Tensor:
    """Small random rotations, scalings and shifts: the network must read imperfect images."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=g) - 0.5) * 0.3
    scale = 1 + (torch.rand(n, generator=g) - 0.5) * 0.2
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = scale * torch.cos(angle)
    theta[:, 0, 1] = -scale * torch.sin(angle)
    theta[:, 1, 0] = scale * torch.sin(angle)
    theta[:, 1, 1] = scale * torch.cos(angle)
    theta[:, :, 2] = (torch.rand(n, 2, generator=g) - 0.5) * 0.2
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1, grid, align_corners=False) - 1  # pads with -1 (black)


def train_domain_net(images: Tensor, labels: Tensor, num_classes: int, *, epochs: int = 8, seed: int = 0,
                     held_out: int = 500) -> tuple[DomainNet, float]:
    """A :class:`DomainNet` trained on ``images`` in [-1, 1] (B, C, H, W) with ``labels``;
    returns it (in eval mode) and its accuracy on ``held_out`` images kept out of training."""
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(images), generator=g)
    held_out = min(held_out, len(images) // 10)
    val, train = order[:held_out], order[held_out:]
    with seeded(seed, images.device), torch.enable_grad():  # initial weights and dropout; callers may be under no_grad
        net = DomainNet(images.shape[1], num_classes)
        _fit(net, images, labels, train, epochs, g)
    net.eval()
    with torch.no_grad():
        accuracy = (net(images[val])[1].argmax(1) == labels[val]).float().mean().item() if held_out else float("nan")
    return net, accuracy


def _fit(net: DomainNet, images: Tensor, labels: Tensor, train: Tensor, epochs: int, g: torch.Generator) -> None:
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        net.train()
        perm = train[torch.randperm(len(train), generator=g)]
        for i in range(0, len(perm), 64):
            b = perm[i : i + 64]
            loss = F.cross_entropy(net(jitter(images[b], g))[1], labels[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def domain_path(entry: ZooEntry) -> Path:
    """The cache file of ``entry``'s dataset (name and options): one network per dataset."""
    key = json.dumps({"dataset": entry.dataset, "options": entry.dataset_options, "version": 1}, sort_keys=True, default=str)
    return cache_dir() / "features" / f"{entry.dataset}-{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"


def train_domain_features(entry: ZooEntry, registry: Registry, data_dir: Path | None = None, *, epochs: int = 8,
                          force: bool = False) -> Path:
    """Train (or find cached) the domain feature network of ``entry``'s dataset; its path."""
    path = domain_path(entry)
    if path.is_file() and not force:
        return path
    data = load_data(registry, entry, data_dir, "train")
    info = data.info
    if not info.num_classes:
        raise ConfigError(f"dataset '{entry.dataset}' has no class labels to train a domain feature network on: "
                          "use --features inception-v3")
    if not hasattr(data, "tensors") or "label" not in data.tensors:
        raise ConfigError(f"dataset '{entry.dataset}' is streamed from files: the domain feature network is for small "
                          "in-memory sets; use --features inception-v3")
    plain = data.plain()
    t0 = time.perf_counter()
    net, accuracy = train_domain_net(to_model_range(plain["image"]), plain["label"].long(), info.num_classes, epochs=epochs)
    meta = {"dataset": entry.dataset, "options": json.dumps(entry.dataset_options, sort_keys=True, default=str), "split": "train",
            "channels": info.channels, "num_classes": info.num_classes, "epochs": epochs, "held_out_accuracy": accuracy,
            "train_seconds": round(time.perf_counter() - t0, 1)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, "wb") as f:
        torch.save({"meta": meta, "state": net.state_dict()}, f)
    return path


def load_domain_features(path: Path) -> DomainFeatures:
    try:
        payload = load_tensors(path, what="domain feature network")
    except GanzooError as e:
        raise DataError(f"{e}; delete it or run `ganzoo features ENTRY --force`") from None
    try:
        meta = payload["meta"]
        net = DomainNet(meta["channels"], meta["num_classes"])
        net.load_state_dict(payload["state"])
    except Exception as e:
        raise DataError(f"{path} is not a readable domain feature network ({type(e).__name__}); delete it or run "
                        "`ganzoo features ENTRY --force`") from None
    return DomainFeatures(net, path, meta)


def _build_domain(context: FeatureContext) -> FeatureExtractor:
    if context.weights is not None:
        return load_domain_features(Path(context.weights))
    path = domain_path(context.entry)
    if not path.is_file():
        print(f"training the domain feature network of '{context.entry.dataset}' once (cached in {path}) ...", file=sys.stderr,
              flush=True)  # stderr: stdout may be a --json document
        train_domain_features(context.entry, context.registry, context.data_dir)
    return load_domain_features(path)


def default_features(info: DataInfo, data: object) -> str:
    """``domain`` for small grey labelled datasets held in memory, else ``inception-v3``."""
    small_grey = info.channels == 1 and info.num_classes and info.height <= 64
    return "domain" if small_grey and hasattr(data, "tensors") else "inception-v3"


def build_features(name: str, context: FeatureContext) -> FeatureExtractor:
    spec: FeatureExtractorSpec = context.registry.spec("feature extractor", name)
    extractor = spec.build(context)
    if not isinstance(extractor, FeatureExtractor):
        raise ConfigError(f"feature extractor '{name}' built a {type(extractor).__name__}, not a ganzoo.plugin.FeatureExtractor")
    return extractor.to(context.device).eval()


@hookimpl
def ganzoo_register_feature_extractors() -> list[FeatureExtractorSpec]:
    return [
        FeatureExtractorSpec("inception-v3", _build_inception, "the standard FID Inception-v3 (torch-fidelity port of the "
                             "TensorFlow network); weights from the torch hub cache or --weights"),
        FeatureExtractorSpec("domain", _build_domain, "a CNN classifier ganzoo trains on the entry's labelled dataset, "
                             "cached per dataset (`ganzoo features ENTRY`)"),
    ]
