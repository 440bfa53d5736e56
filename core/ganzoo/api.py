"""The front door: a handful of functions the command line is a thin layer over.

>>> import ganzoo
>>> [s.name for s in ganzoo.list_entries("dcgan-*")]
>>> run = ganzoo.train("dcgan-mnist-5k", overrides=["train.steps=100"])
>>> images = ganzoo.sample(run.run_dir / "checkpoints" / "last.pt", n=16)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ganzoo.config import apply_overrides, build_config, build_entry
from ganzoo.data import Dataset, ImageData, ItemData, to_uint8
from ganzoo.errors import CheckpointError, ConfigError, DataError, GanzooWarning
from ganzoo.metrics_file import update_metrics
from ganzoo.model import GANModel
from ganzoo.plugins import EntryStatus, Registry, load_registry
from ganzoo.specs import DataInfo, ZooEntry
from ganzoo.training import Run, Trainer, select_device
from ganzoo.training import checkpoint as ckpt


def data_root(data_dir: str | Path | None = None) -> Path:
    """Where datasets live: ``data_dir``, else ``$GANZOO_DATA``, else ``~/.cache/ganzoo/data``."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get("GANZOO_DATA"):
        return Path(os.environ["GANZOO_DATA"]).expanduser()
    return Path.home() / ".cache" / "ganzoo" / "data"


def runs_root(runs_dir: str | Path | None = None) -> Path:
    """Where runs are written: ``runs_dir``, else ``$GANZOO_RUNS``, else ``./runs``."""
    return Path(runs_dir or os.environ.get("GANZOO_RUNS") or "runs")


def list_entries(pattern: str = "*", *, registry: Registry | None = None, zoo_files: Sequence[str | Path] = ()) -> list[EntryStatus]:
    """Zoo entries whose names match the shell-style ``pattern``, sorted by name."""
    registry = registry or load_registry(zoo_files)
    return [s for name, s in sorted(registry.entries.items()) if fnmatch.fnmatchcase(name, pattern)]


def load_entry(name: str, overrides: Sequence[str] = (), *, registry: Registry | None = None, zoo_files: Sequence[str | Path] = ()) -> ZooEntry:
    """The validated entry ``name`` with ``--set`` style ``overrides`` (``"train.steps=10"``)."""
    registry = registry or load_registry(zoo_files)
    return registry.entry(name, overrides)


def load_data(registry: Registry, entry: ZooEntry, data_dir: str | Path | None = None, split: str = "train") -> Dataset:
    """The ``split`` of the entry's dataset, loaded by the plugin that registered it."""
    spec = registry.spec("dataset", entry.dataset)
    if split not in spec.splits:
        raise DataError(f"dataset '{entry.dataset}' has no '{split}' split (it has: {', '.join(spec.splits)})")
    data = spec.load(spec.config(**entry.dataset_options), data_root(data_dir), split)
    if not isinstance(data, (ImageData, ItemData)):
        raise DataError(f"dataset '{entry.dataset}' loaded a {type(data).__name__}, not ganzoo ImageData or ItemData")
    return data


def build_model(registry: Registry, entry: ZooEntry, info: DataInfo) -> GANModel:
    """The entry's model, sized for data described by ``info``."""
    spec = registry.spec("model", entry.model)
    model = spec.build(spec.config(**entry.model_options), info)
    if not isinstance(model, GANModel):
        raise ConfigError(f"model '{entry.model}' built a {type(model).__name__}, not a ganzoo.GANModel")
    return model


def new_run_dir(entry_name: str, runs_dir: str | Path | None = None) -> Path:
    """A fresh ``runs/ENTRY/YYYYmmdd-HHMMSS`` directory name (never an existing one)."""
    base = runs_root(runs_dir) / entry_name / time.strftime("%Y%m%d-%H%M%S")
    path, i = base, 1
    while path.exists():
        path, i = base.with_name(f"{base.name}-{i}"), i + 1
    return path


def latest_checkpoint(entry_name: str, runs_dir: str | Path | None = None) -> Path:
    """The newest ``checkpoints/last.pt`` among the runs of ``entry_name``."""
    found = sorted(runs_root(runs_dir).glob(f"{entry_name}/*/checkpoints/last.pt"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise CheckpointError(
            f"no checkpoint of '{entry_name}' under {runs_root(runs_dir)}/; train it with 'ganzoo run {entry_name}' "
            "or pass a checkpoint path"
        )
    return found[-1]


def resolve_checkpoint(source: str | Path, runs_dir: str | Path | None = None) -> Path:
    """A checkpoint file from a path to one, a run directory, or an entry name (its latest run)."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir():
        candidate = path / "checkpoints" / "last.pt"
        if candidate.is_file():
            return candidate
        raise CheckpointError(f"{path} holds no checkpoints/last.pt")
    if path.suffix == ".pt" or os.sep in str(source):
        raise CheckpointError(f"no checkpoint at {path}")
    return latest_checkpoint(str(source), runs_dir)


def _entry_from_checkpoint(registry: Registry, payload: dict[str, Any], overrides: Sequence[str], origin: str) -> ZooEntry:
    tables = {"model": registry.models, "dataset": registry.datasets, "loss": registry.losses}
    for kind, made in (payload.get("provenance") or {}).items():
        if kind in tables and made.get("name") not in tables[kind]:
            where = f"plugin '{made.get('plugin')}'" + (f" of {made['distribution']} {made.get('version', '')}".rstrip() if made.get("distribution") else "")
            install = f": pip install {made['distribution']}" if made.get("distribution") else ""
            raise CheckpointError(f"{origin} was trained with {kind} '{made.get('name')}' from {where}, which is not installed here{install}")
    raw = dict(payload["entry"])
    name = raw.pop("name")
    return build_entry(name, apply_overrides(raw, list(overrides)), origin, registry)


def train(
    entry: str | ZooEntry,
    *,
    overrides: Sequence[str] = (),
    zoo_files: Sequence[str | Path] = (),
    run_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    resume: str | Path | None = None,
    device: str = "auto",
    data_dir: str | Path | None = None,
    registry: Registry | None = None,
) -> Run:
    """Train a zoo entry through the one training loop; returns the finished :class:`Run`.

    ``resume`` is a checkpoint, a run directory, or an entry name (its newest run): the run
    continues in that directory from the saved step with the saved configuration, to
    which ``overrides`` apply (e.g. ``train.steps=5000`` to train longer).
    """
    registry = registry or load_registry(zoo_files)
    resume_path = None
    if resume is not None:
        resume_path = resolve_checkpoint(resume, runs_dir)
        payload = ckpt.load(resume_path)
        resolved = _entry_from_checkpoint(registry, payload, overrides, str(resume_path))
        if isinstance(entry, str) and entry != resolved.name:
            raise CheckpointError(f"{resume_path} is a checkpoint of '{resolved.name}', not of '{entry}'")
        target = resume_path.parent.parent
    else:
        resolved = registry.entry(entry, overrides) if isinstance(entry, str) else entry
        target = Path(run_dir) if run_dir else new_run_dir(resolved.name, runs_dir)
        if (target / "checkpoints" / "last.pt").exists():
            raise CheckpointError(f"{target} already holds a checkpoint; resume it with --resume {target} or choose another run directory")
    trainer = Trainer(registry, device=device, data_dir=data_dir)
    return trainer.fit(resolved, target, resume=resume_path)


@dataclasses.dataclass
class LoadedModel:
    """A trained model ready to sample, with the entry it was trained from."""

    entry: ZooEntry
    model: GANModel
    generator: torch.nn.Module  # the moving average when the run kept one
    step: int
    path: Path  # the checkpoint file; its run directory is path.parent.parent
    info: DataInfo  # the shape of the data it was trained on


def load_checkpoint(source: str | Path, *, device: str = "auto", runs_dir: str | Path | None = None, registry: Registry | None = None) -> LoadedModel:
    """Rebuild the model of a checkpoint (path, run directory or entry name) for sampling."""
    registry = registry or load_registry()
    path = resolve_checkpoint(source, runs_dir)
    dev = select_device(device)
    payload = ckpt.load(path, map_location=dev)
    entry = _entry_from_checkpoint(registry, payload, (), str(path))
    info = build_config(DataInfo, payload["data_info"], f"{path}: data_info")
    model = build_model(registry, entry, info).to(dev)
    try:
        model.load_state_dict(payload["model"])
        generator = model.generator
        if payload.get("ema") is not None:
            from torch.optim.swa_utils import AveragedModel

            averaged = AveragedModel(model.generator, use_buffers=True)
            averaged.load_state_dict(payload["ema"])
            generator = averaged.module
    except (RuntimeError, KeyError) as e:
        raise CheckpointError(f"{path} does not match model '{entry.model}' ({str(e).splitlines()[0]})") from None
    model.set_phase(payload.get("phase") or model.phases[0].name)
    model.eval()
    generator.eval()
    return LoadedModel(entry, model, generator, int(payload["step"]), path, info)


@torch.no_grad()
def sample(
    source: str | Path | LoadedModel,
    n: int = 64,
    *,
    label: int | None = None,
    text: str | Sequence[str] | None = None,
    seed: int | None = None,
    device: str = "auto",
    runs_dir: str | Path | None = None,
    registry: Registry | None = None,
) -> Tensor:
    """``n`` samples in [-1, 1], (n, C, H, W), from a checkpoint, run directory or entry name.

    ``label`` asks a class-conditional model for one class; without it classes cycle.
    ``text`` gives a text-conditional model its caption(s), cycled over the ``n`` samples;
    words its vocabulary lacks are ignored, with a :class:`GanzooWarning` that names them.
    """
    loaded = source if isinstance(source, LoadedModel) else load_checkpoint(source, device=device, runs_dir=runs_dir, registry=registry)
    model = loaded.model
    dev = next(model.parameters()).device
    labels = None
    if label is not None:
        if not model.num_classes:
            raise ConfigError(f"model '{loaded.entry.model}' of entry '{loaded.entry.name}' is unconditional: drop --label")
        if not 0 <= label < model.num_classes:
            raise ConfigError(f"--label must be between 0 and {model.num_classes - 1}")
        labels = torch.full((n,), label, device=dev, dtype=torch.long)
    elif model.num_classes:
        labels = torch.arange(n, device=dev) % model.num_classes
    if text is not None:
        texts = [text] if isinstance(text, str) else list(text)
        if not texts:
            raise ConfigError("no caption given")
        embeddings, unknown = model.encode_text(texts)
        if unknown:
            warnings.warn(GanzooWarning(f"words the model has never seen, ignored: {', '.join(unknown)}"), stacklevel=2)
        labels = embeddings[torch.arange(n, device=dev) % len(texts)]
    rng = torch.Generator(device=dev).manual_seed(seed) if seed is not None else None
    return model.sample(n, labels, rng=rng, net=loaded.generator).float()


def evaluate(
    source: str | Path | LoadedModel,
    *,
    split: str | None = None,
    batch_size: int | None = None,
    limit: int = 0,
    samples: int = 2000,
    features: str = "auto",
    weights: str | Path | None = None,
    seed: int = 0,
    device: str = "auto",
    data_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    registry: Registry | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Score a trained model; the record (figures with their protocol) is returned and,
    with ``write``, stored in the run's ``metrics.json`` and its report regenerated.

    Paired models (image-to-image, super-resolution) are scored against the held-out
    targets (L1, PSNR, SSIM; ``limit`` caps the batches), under ``"heldout"``. Generators
    from noise get FID, KID, precision/recall and, when the feature network classifies,
    the Inception Score, of ``samples`` samples against as many real images of ``split``
    (default: the held-out split, else the training one), under ``"samples-FEATURES"``.
    ``features`` names a feature extractor (``auto``: ``domain`` for small grey labelled
    data, else ``inception-v3``); ``weights`` is its weights file.
    """
    registry = registry or load_registry()
    loaded = source if isinstance(source, LoadedModel) else load_checkpoint(source, device=device, runs_dir=runs_dir, registry=registry)
    if loaded.model.paired:
        record, section = _evaluate_paired(loaded, registry, split, batch_size, limit, data_dir), "heldout"
    else:
        record = evaluate_samples(loaded, registry, split=split, samples=samples, features=features, weights=weights, seed=seed,
                                  data_dir=data_dir)
        section = f"samples-{record['features']['features']}"
    if write:
        run_dir = loaded.path.parent.parent
        update_metrics(run_dir, section, record)
        from ganzoo.report import write_report

        write_report(run_dir)
    return record


def _evaluate_paired(loaded: LoadedModel, registry: Registry, split: str | None, batch_size: int | None, limit: int,
                     data_dir: str | Path | None) -> dict[str, Any]:
    entry = loaded.entry
    split = split or registry.spec("dataset", entry.dataset).eval_split
    if split is None:
        raise DataError(f"dataset '{entry.dataset}' has no held-out split to evaluate on; pass --split train to score the training data")
    data = load_data(registry, entry, data_dir, split)
    from ganzoo.training.trainer import evaluate as score

    dev = next(loaded.model.parameters()).device
    batch_size = batch_size or entry.train.batch_size
    scores = score(loaded.model, loaded.generator, data, batch_size, dev, limit)
    record = {"kind": "paired", "split": split, "items": len(data) if not limit else min(len(data), limit * batch_size),
              "step": loaded.step, "checkpoint": str(loaded.path), "scores": scores}
    lpips, why_not = _lpips(loaded, data, batch_size, dev, limit)
    if lpips is not None:
        scores["lpips"] = lpips
    record["lpips"] = "AlexNet LPIPS (torchmetrics), lower is better" if lpips is not None else f"skipped: {why_not}"
    return record


def _lpips(loaded: LoadedModel, data: Dataset, batch_size: int, device: torch.device, limit: int) -> tuple[float | None, str]:
    """Mean LPIPS (AlexNet) of the outputs against the targets, when torchvision's AlexNet
    weights are in the torch hub cache (it is never downloaded for this); else why not."""
    from torchvision.models import AlexNet_Weights

    from ganzoo.data import eval_batches

    weights = Path(torch.hub.get_dir()) / "checkpoints" / Path(AlexNet_Weights.IMAGENET1K_V1.url).name
    if not weights.is_file():
        return None, f"no AlexNet weights at {weights} (copy {AlexNet_Weights.IMAGENET1K_V1.url} there for LPIPS)"
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    metric = LearnedPerceptualImagePatchSimilarity(net_type="alex").to(device)
    with torch.no_grad():
        for batch in eval_batches(data, batch_size, device, limit):
            pair = loaded.model.paired_outputs(batch, loaded.generator)
            if pair is None:
                return None, f"model '{loaded.entry.model}' does not give its outputs and targets (paired_outputs)"
            output, target = (t.float().clamp(-1, 1).expand(-1, 3, -1, -1) if t.shape[1] == 1 else t.float().clamp(-1, 1)
                              for t in pair)
            metric.update(output, target)
    return float(metric.compute()), ""


def evaluate_samples(loaded: LoadedModel, registry: Registry, *, split: str | None = None, samples: int = 2000,
                     features: str = "auto", weights: str | Path | None = None, seed: int = 0,
                     data_dir: str | Path | None = None) -> dict[str, Any]:
    """Sample-quality figures of a generator against real images (see :func:`evaluate`)."""
    from ganzoo.data import gather
    from ganzoo.features import FeatureContext, build_features, default_features
    from ganzoo.quality import PR_NEIGHBOURS, extract, kid_subset_size, sample_scores

    if samples < 10:
        raise ConfigError("--samples must be at least 10")
    entry, model = loaded.entry, loaded.model
    split = split or registry.spec("dataset", entry.dataset).eval_split or "train"
    data = load_data(registry, entry, data_dir, split)
    dev = next(model.parameters()).device
    name = default_features(data.info, data) if features == "auto" else features
    extractor = build_features(name, FeatureContext(entry, registry, Path(data_dir) if data_dir else None,
                                                    Path(weights) if weights else None, dev))
    t0 = time.perf_counter()
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    picked, others = order[:samples], order[samples : 2 * samples]  # the baseline's real set is disjoint
    other_data, other_split = data, split
    if len(others) < len(picked) and split != "train":  # a small held-out split: the baseline's images from training
        other_data, other_split = load_data(registry, entry, data_dir, "train"), "train"
        others = torch.randperm(len(other_data), generator=torch.Generator().manual_seed(seed))[: len(picked)]
    reals = _real_features(extractor, entry, (data, split, picked), (other_data, other_split, others), dev, seed)
    fake_f, fake_logits = [], []
    conditioned = False
    torch.manual_seed(seed)  # caption picks of text-conditional models
    with torch.no_grad():
        for i, idx in enumerate(picked.split(250)):
            batch = gather(data, idx, dev)
            condition = model.evaluation_condition(batch)
            conditioned = condition is not None
            rng = torch.Generator(device=dev).manual_seed(seed * 100003 + i)
            f, lg = extract(extractor, model.sample(len(idx), condition, rng=rng, net=loaded.generator))
            fake_f.append(f)
            if lg is not None:
                fake_logits.append(lg)
    real, fake = reals["real"], torch.cat(fake_f)
    scores = sample_scores(real, fake, torch.cat(fake_logits) if fake_logits else None)
    record: dict[str, Any] = {
        "kind": "samples", "split": split, "real_images": len(real), "fake_images": len(fake), "step": loaded.step,
        "checkpoint": str(loaded.path), "seed": seed, "features": extractor.protocol,
        "protocol": {"kid_subset_size": kid_subset_size(len(real), len(fake)), "precision_recall_k": PR_NEIGHBOURS,
                     "conditions": "one sample per real image, with its condition" if conditioned else "noise only",
                     "libraries": "FID/KID/IS: torchmetrics; precision/recall: torch-fidelity"},
        "scores": scores,
    }
    if "baseline" in reals:  # what real data scores: the floor (or ceiling) of each figure
        record["baseline"] = {"what": f"{reals['other_count']} other real images (of the {other_split} split) in place of the samples",
                              "scores": reals["baseline"]}
    record["protocol"]["real_features"] = reals["source"]
    record["seconds"] = round(time.perf_counter() - t0, 1)
    return record


def _real_features(extractor: Any, entry: ZooEntry, scored: tuple[Dataset, str, Tensor], others: tuple[Dataset, str, Tensor],
                   device: torch.device, seed: int) -> dict[str, Any]:
    """Features of the real images a generator is scored against, and the real-vs-real
    baseline: they do not depend on the generator, so they are computed once and cached
    under ``$GANZOO_CACHE/features``, keyed by the dataset, the images picked and the
    extractor's protocol (its weights' SHA-256 included). An unreadable cache is recomputed."""
    from ganzoo.data import gather
    from ganzoo.features import cache_dir
    from ganzoo.quality import extract, sample_scores

    (data, split, picked), (other_data, other_split, other_idx) = scored, others
    key = json.dumps({"dataset": entry.dataset, "options": entry.dataset_options, "split": split, "other_split": other_split,
                      "items": [len(data), len(other_data)], "seed": seed, "picked": [len(picked), len(other_idx)],
                      "protocol": extractor.protocol, "version": 1}, sort_keys=True, default=str)
    path = cache_dir() / "features" / f"real-{entry.dataset}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pt"
    if path.is_file():
        try:
            cached = torch.load(path, map_location="cpu", weights_only=True)
            return {**cached, "source": f"cached ({path})"}
        except Exception:  # a damaged cache file is rebuilt below
            pass
    with torch.no_grad():
        real = torch.cat([extract(extractor, gather(data, idx, device)["image"])[0] for idx in picked.split(250)])
        other_f, other_logits = [], []
        for idx in other_idx.split(250):
            f, lg = extract(extractor, gather(other_data, idx, device)["image"])
            other_f.append(f)
            if lg is not None:
                other_logits.append(lg)
    result: dict[str, Any] = {"real": real.cpu()}
    if sum(len(f) for f in other_f) >= 10:
        result["other_count"] = sum(len(f) for f in other_f)
        result["baseline"] = sample_scores(real, torch.cat(other_f), torch.cat(other_logits) if other_logits else None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    torch.save(result, tmp)
    os.replace(tmp, path)
    return {**result, "source": f"computed (cached in {path})"}


def process_image_files(
    inputs: str | Path,
    out: str | Path,
    fn: Callable[[Path, Tensor], Tensor],
    channels: int = 3,
) -> list[Path]:
    """Apply ``fn(path, pixels)`` to an image file or every image of a folder, writing PNGs.

    ``pixels`` is the (channels, H, W) uint8 image; ``fn`` returns (1, C, H', W') in
    [-1, 1]. One input goes to the file ``out`` (.png / .jpg); a folder goes to the folder
    ``out``, one ``NAME.png`` per input. Returns the files written.
    """
    from ganzoo.data import image_files, read_image

    inputs, out = Path(inputs), Path(out)
    files = image_files(inputs)
    if not files:
        raise ConfigError(f"no images in {inputs}")
    one = inputs.is_file()
    if one and out.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise ConfigError("--out must be an image file (.png, .jpg) when the input is one image")
    written = []
    for path in files:
        target = out if one else out / f"{path.stem}.png"
        save_images(fn(path, read_image(path, channels)), target)
        written.append(target)
    return written


def save_images(images: Tensor, out: str | Path, nrow: int | None = None) -> list[Path]:
    """A grid PNG when ``out`` ends in an image suffix, else a folder of single PNGs."""
    from PIL import Image
    from torchvision.utils import make_grid

    def write(pixels: Tensor, path: Path) -> None:  # (C, H, W) uint8
        array = pixels.permute(1, 2, 0).numpy()
        Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(path)

    out = Path(out)
    pixels = to_uint8(images)
    if out.suffix.lower() in (".png", ".jpg", ".jpeg"):
        out.parent.mkdir(parents=True, exist_ok=True)
        nrow = nrow or max(1, round(len(pixels) ** 0.5))
        write(make_grid(pixels, nrow=nrow, padding=2, pad_value=0), out)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{i:05d}.png" for i in range(len(pixels))]
    for img, path in zip(pixels, paths):
        write(img, path)
    return paths
