"""The front door: a handful of functions the command line is a thin layer over.

>>> import ganzoo
>>> [s.name for s in ganzoo.list_entries("dcgan-*")]
>>> run = ganzoo.train("dcgan-mnist-5k", overrides=["train.steps=100"])
>>> images = ganzoo.sample(run.run_dir, n=16)
"""

from __future__ import annotations

import dataclasses
import fnmatch
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

import ganzoo.checkpoints as checkpoints
from ganzoo.checkpoints import LoadedModel
from ganzoo.errors import CheckpointError, ConfigError, GanzooWarning
from ganzoo.paths import checkpoint_path, run_dir_of
from ganzoo.rundir import check_new_run_dir, create_run_dir, newest_unfinished
from ganzoo.seeding import seeded
from ganzoo.plugins import EntryStatus, Registry, load_registry
from ganzoo.specs import ZooEntry, short
import ganzoo.training.distributed as distributed
from ganzoo.training import Run, Trainer, select_device


def list_entries(pattern: str = "*", *, registry: Registry | None = None, zoo_files: Sequence[str | Path] = ()) -> list[EntryStatus]:
    """Zoo entries whose names match the shell-style ``pattern``, sorted by name."""
    registry = registry or load_registry(zoo_files)
    return [s for name, s in sorted(registry.entries.items()) if fnmatch.fnmatchcase(name, pattern)]


def load_entry(name: str, overrides: Sequence[str] = (), *, registry: Registry | None = None, zoo_files: Sequence[str | Path] = ()) -> ZooEntry:
    """The validated entry ``name`` with ``--set`` style ``overrides`` (``"train.steps=10"``)."""
    registry = registry or load_registry(zoo_files)
    return registry.entry(name, overrides)


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
    loggers: Sequence[str] = (),
) -> Run:
    """Train a zoo entry through the one training loop; returns the finished :class:`Run`.

    ``resume`` is a checkpoint, a run directory, or an entry name (its newest run): the run
    continues in that directory from the saved step with the saved configuration, to
    which ``overrides`` apply (e.g. ``train.steps=5000`` to train longer; optimizer
    settings such as ``train.lr_g`` are applied too, while the architecture, the data and
    the batch size cannot change). ``resume="auto"`` continues ``run_dir`` when it holds a
    checkpoint, else the newest unfinished run of the entry, else starts a new run: what a
    job that a scheduler may requeue (or ``torchrun --max-restarts`` restart) runs.
    A damaged ``last.pt`` falls back to the newest intact checkpoint kept beside it.
    ``loggers`` (``"tensorboard"``, ``"mlflow"``, a plugin's) are added to the entry's
    ``train.loggers``: where the run is recorded besides its ``history.jsonl``.
    """
    if not isinstance(entry, (str, ZooEntry)):
        raise ConfigError(f"train() takes an entry name or a ZooEntry, not {type(entry).__name__}")
    overrides = _override_list(overrides)
    if isinstance(loggers, str) or not all(isinstance(name, str) for name in loggers):
        raise ConfigError('loggers must be a list of logger names, e.g. ["tensorboard"]')
    registry = registry or load_registry(zoo_files)
    trainer = Trainer(registry, device=device, data_dir=data_dir)  # under torchrun this joins the process group
    name = entry if isinstance(entry, str) else entry.name
    auto = resume == "auto"
    if auto:  # --run-dir if it holds a checkpoint, else (without --run-dir) the newest unfinished run, else a new run
        resume = (run_dir if checkpoint_path(Path(run_dir)).is_file() else None) if run_dir else newest_unfinished(name, runs_dir)
    payload = None
    for logger in loggers:
        registry.spec("logger", logger)  # an unknown name is refused before a run directory is made
    if resume is not None:
        resume_path, payload = checkpoints.read_newest_intact(checkpoints.resolve(resume, runs_dir))
        resolved = checkpoints.entry_of(registry, payload, overrides, str(resume_path))
        if isinstance(entry, str) and entry != resolved.name:
            raise CheckpointError(f"{resume_path} is a checkpoint of '{resolved.name}', not of '{entry}'")
        checkpoints.check_resume_changes(payload, resolved)
        target = run_dir_of(resume_path)
    else:
        resolved = registry.entry(entry, overrides) if isinstance(entry, str) else entry
        if run_dir:
            target = Path(run_dir)
            if not auto:  # a requeued job that died before its first checkpoint starts over in its own folder
                check_new_run_dir(target)
        else:
            made = create_run_dir(resolved.name, runs_dir) if trainer.place.is_main else None
            target = Path(str(distributed.agree(made, trainer.place.rank)))
    if loggers:
        train = resolved.train
        resolved = dataclasses.replace(resolved, train=dataclasses.replace(train, loggers=tuple(dict.fromkeys((*train.loggers, *loggers)))))
    return trainer.fit(resolved, target, resume=payload)


def _override_list(overrides: Any) -> list[str]:
    if isinstance(overrides, str) or not all(isinstance(o, str) for o in overrides):
        raise ConfigError('overrides must be a list of "KEY=VALUE" strings, e.g. ["train.steps=100"]')
    return list(overrides)


def load_checkpoint(source: str | Path, *, device: str = "auto", runs_dir: str | Path | None = None,
                    registry: Registry | None = None) -> LoadedModel:
    """The trained model of a checkpoint, a run directory, an entry name (its newest run),
    an exported folder or a Hub reference (``hf://owner/name[@revision]``), in eval mode,
    its generators holding their moving averages when the run kept them."""
    from ganzoo import exported, hub

    if not isinstance(source, (str, Path)):
        raise ConfigError(f"a checkpoint is a path, a run directory, an exported folder, hf://owner/name or an entry name, "
                          f"not {type(source).__name__}")
    registry = registry or load_registry()
    if hub.is_reference(source):
        return exported.load_export(registry, hub.download(str(source), exported.FILES), select_device(device))
    if exported.is_export(Path(source)):
        return exported.load_export(registry, Path(source), select_device(device))
    return checkpoints.load_for_sampling(registry, checkpoints.resolve(source, runs_dir), select_device(device))


def load_pretrained(name: str | Path, *, device: str = "auto", registry: Registry | None = None,
                    zoo_files: Sequence[str | Path] = ()) -> LoadedModel:
    """A trained model ready to sample or translate, in the spirit of ``timm.create_model(name,
    pretrained=True)``: ``name`` is a zoo entry with published weights (downloaded once
    through the Hugging Face cache and checked against the SHA-256 the entry pins), or
    anything :func:`load_checkpoint` takes (``hf://...``, an exported folder, a run)."""
    from ganzoo import exported, hub

    registry = registry or load_registry(zoo_files)
    status = registry.entries.get(str(name))
    if status is None:
        return load_checkpoint(name, device=device, registry=registry)
    entry = load_entry(str(name), registry=registry)
    if not entry.pretrained:
        raise ConfigError(f"entry '{name}' names no published weights: train it with 'ganzoo run {name}', or load "
                          "a run, an exported folder or hf://owner/name")
    folder = hub.download(entry.pretrained["weights"], exported.FILES)
    return exported.load_export(registry, folder, select_device(device), expected_sha256=entry.pretrained["sha256"])


def export(source: str | Path, out: str | Path, *, discriminator: bool = False, license: str = "other", onnx: bool = False,
           device: str = "cpu", runs_dir: str | Path | None = None, registry: Registry | None = None) -> Path:
    """Write a trained model as a self-contained folder (``model.safetensors``, ``config.json``,
    a ``README.md`` model card, ``samples.png``); see :mod:`ganzoo.exported`. Its path."""
    from ganzoo.exported import export_model

    registry = registry or load_registry()
    loaded = load_checkpoint(source, device=device, runs_dir=runs_dir, registry=registry)
    return export_model(loaded, Path(out), registry, discriminator=discriminator, license=license, onnx=onnx)


def push(source: str | Path, repo: str, *, private: bool = False, message: str = "", revision: str | None = None,
         runs_dir: str | Path | None = None, registry: Registry | None = None) -> str:
    """Upload an exported folder (a run or checkpoint is exported first) to the Hub as
    ``repo`` (``owner/name``); the commit's URL."""
    import tempfile

    from ganzoo import exported, hub

    hub.parse(hub.PREFIX + repo)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(source)
        if not exported.is_export(folder):
            folder = export(source, Path(tmp) / "export", runs_dir=runs_dir, registry=registry)
        else:
            folder = Path(shutil.copytree(folder, Path(tmp) / "export"))
        card = folder / exported.CARD
        if card.is_file():  # the card's loading examples name the repository they are pushed to
            card.write_text(card.read_text().replace("hf://OWNER/NAME", f"hf://{repo}"))
        return hub.upload(folder, repo, exported.FILES, private=private, message=message, revision=revision)


def translation_scale(loaded: LoadedModel, direction: str | None = None) -> int:
    """How many times larger a translation's output is than its input (super-resolution: > 1)."""
    d = loaded.model.capabilities.direction(direction)
    return max(1, loaded.info.shape(d.target)[1] // max(1, loaded.info.shape(d.source)[1]))


def _loaded(source: str | Path | LoadedModel, device: str, runs_dir: str | Path | None, registry: Registry | None) -> LoadedModel:
    return source if isinstance(source, LoadedModel) else load_checkpoint(source, device=device, runs_dir=runs_dir, registry=registry)


MAX_SAMPLES = 10_000  # in memory at once, as one tensor


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
    """``n`` samples in [-1, 1], (n, C, H, W), of a model that generates from noise.

    ``label`` asks a class-conditional model for one class; without it classes cycle.
    ``text`` gives a text-conditional model its caption(s), cycled over the ``n`` samples;
    words its vocabulary lacks are ignored, with a :class:`GanzooWarning` that names them.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
        raise ConfigError(f"n (--n) must be a whole number from 1 to {MAX_SAMPLES:,}, got {short(n)}")
    if label is not None and (isinstance(label, bool) or not isinstance(label, int)):
        raise ConfigError(f"label (--label) must be a class number, got {short(label)}")
    loaded = _loaded(source, device, runs_dir, registry)
    model, caps = loaded.model, loaded.model.capabilities
    if not caps.generates:
        raise ConfigError(f"entry '{loaded.entry.name}' (model {loaded.entry.model}) translates images rather than sampling "
                          f"from noise: use 'ganzoo translate'")
    dev = next(model.parameters()).device
    condition = None
    if label is not None:
        if caps.condition != "class":
            kind = "unconditional" if not caps.condition else f"conditioned on {caps.condition}, not on a class"
            raise ConfigError(f"model '{loaded.entry.model}' of entry '{loaded.entry.name}' is {kind}: drop --label")
        if not 0 <= label < model.num_classes:
            raise ConfigError(f"--label must be between 0 and {model.num_classes - 1}")
        condition = torch.full((n,), label, device=dev, dtype=torch.long)
    elif caps.condition == "class":
        condition = torch.arange(n, device=dev) % model.num_classes
    if text is not None:
        texts = [text] if isinstance(text, str) else list(text)
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ConfigError("a caption (--text) must be some words, not empty")
        embeddings, unknown = model.encode_text(texts)
        if unknown:
            warnings.warn(GanzooWarning(f"words the model has never seen, ignored: {', '.join(unknown)}"), stacklevel=2)
        condition = embeddings[torch.arange(n, device=dev) % len(texts)]
    elif caps.condition == "text":
        raise ConfigError(f"model '{loaded.entry.model}' draws images for captions: pass --text \"...\" or --captions FILE")
    if seed is None:
        return model.sample(n, condition).float()
    rng = torch.Generator(device=dev).manual_seed(seed)
    with seeded(seed, dev):  # randomness inside the networks (conditioning augmentation, dropout) repeats too
        return model.sample(n, condition, rng=rng).float()


@torch.no_grad()
def translate(source: str | Path | LoadedModel, images: Tensor, *, direction: str | None = None, tile: int = 0,
              overlap: int = -1, device: str = "auto", runs_dir: str | Path | None = None,
              registry: Registry | None = None) -> Tensor:
    """A translating model's outputs for ``images`` (B, C, H, W) in [-1, 1], in ``direction``
    (default: its first). With ``tile``, the input is processed in overlapping tiles of at
    most ``tile`` pixels (``overlap`` default: the model's receptive radius, which makes
    the result equal a one-piece pass), so memory stays bounded on large images."""
    from ganzoo.tiling import tiled

    loaded = _loaded(source, device, runs_dir, registry)
    model = loaded.model
    name = model.capabilities.direction(direction).name
    dev = next(model.parameters()).device
    images = images.to(dev)
    if not tile:
        return model.translate(images, name).float()
    if overlap < 0:
        overlap = model.receptive_radius(name)
    if tile <= 2 * overlap:
        raise ConfigError(f"tiles of {tile} pixels cannot overlap by {overlap} on each side: use a tile of {2 * overlap + 32} pixels or more")
    return tiled(lambda x: model.translate(x, name), images, translation_scale(loaded, name), tile, overlap).float()


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
    direction: str | None = None,
    device: str = "auto",
    data_dir: str | Path | None = None,
    runs_dir: str | Path | None = None,
    registry: Registry | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Score a trained model; the record (figures with their protocol) is returned and,
    with ``write``, stored in the run's ``metrics.json``, its report regenerated and the
    figures sent to the run's loggers (``train.loggers``) at the checkpoint's step.

    Translators whose held-out split holds true targets are scored against them (L1,
    PSNR, SSIM and LPIPS of each direction; ``limit`` caps the batches), under
    ``"heldout"``. Generators from noise get FID, KID, precision/recall and, when the
    feature network classifies, the Inception Score, of ``samples`` samples against as
    many real images of ``split`` (default: the held-out split, else the training one),
    under ``"samples-FEATURES"``; translators without targets the same figures of their
    outputs in ``direction``. ``features`` names a feature extractor (``auto``: ``domain``
    for small grey labelled data, else ``inception-v3``); ``weights`` is its weights file.
    """
    from ganzoo.callbacks.tracking import record_evaluation
    from ganzoo.evaluation import evaluate_model, update_metrics
    from ganzoo.report import write_report

    registry = registry or load_registry()
    loaded = _loaded(source, device, runs_dir, registry)
    section, record = evaluate_model(loaded, registry, split=split, batch_size=batch_size, limit=limit, samples=samples,
                                     features=features, weights=weights, seed=seed, data_dir=data_dir, direction=direction)
    if write and loaded.run_dir is not None:  # an export is never written to (it may be the Hub's cache)
        update_metrics(loaded.run_dir, section, record)
        write_report(loaded.run_dir)
        record_evaluation(registry, loaded.run_dir, loaded.entry, loaded.step, section, record)
    return record
