"""Checkpoints: the one owner of their layout. Written atomically, read safely, restored
on ``--resume`` and loaded for sampling here, and nowhere else.

A checkpoint is written to a temporary file in the same directory, flushed to disk and
renamed over the old one, so a crash mid-write never leaves a half-written file where a
good one was. Reading uses ``torch.load(weights_only=True)``: a checkpoint cannot run code.

The payload (format 2)::

    entry, ganzoo_version, provenance   what was trained, by which plugins
    data_info, step, phase, total_steps  the data's shape; where training stood
    model                                the model's state_dict (every declared network)
    ema                                  the moving averages (EMA state_dict) or None
    training_state                       GANModel.training_state(): not weights, not for sampling
    optimizers, scaler, rng, data_position   what --resume needs to continue bit for bit
    callbacks                            the merged ganzoo_checkpoint_state of the run's plugins
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from ganzoo._version import __version__
from ganzoo.build import build_model
from ganzoo.config import apply_overrides, build_config, build_entry
from ganzoo.ema import EMA
from ganzoo.errors import CheckpointError, GanzooWarning, MissingPluginError
from ganzoo.model import GANModel
from ganzoo.paths import checkpoint_path, run_dir_of, runs_root
from ganzoo.plugins import Registry
from ganzoo.rundir import atomic_file, checkpointed_runs
from ganzoo.specs import DataInfo, ZooEntry, short
from ganzoo.weights import load_tensors

if TYPE_CHECKING:
    from ganzoo.training.run import Run

FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)  # format 1: one generator's moving average under "ema"


def save_atomic(payload: dict[str, Any], path: Path, keep: int = 1) -> None:
    """Write ``payload`` to ``path`` so that ``path`` is always either the old or the new file.

    With ``keep`` > 1 the file ``path`` held is kept as ``step_NNNNNNN.pt`` beside it (a
    hard link: no copy) and only the newest ``keep - 1`` such files stay. A failed write
    (a full disk) is a one-line :class:`CheckpointError`; the old file is untouched.
    """
    try:
        with atomic_file(path, "wb", durable=True) as f:
            torch.save({"format": FORMAT_VERSION, **payload}, f)
            if keep > 1 and path.is_file():
                _keep_previous(path)
    except OSError as e:
        raise CheckpointError(f"cannot write checkpoint {path}: {e.strerror or e} (the previous checkpoint is kept)") from None
    if keep > 1:
        for old in previous_checkpoints(path.parent)[keep - 1:]:
            old.unlink(missing_ok=True)


def _keep_previous(path: Path) -> None:
    """``path`` also as ``step_NNNNNNN.pt`` (its step), before a new file replaces it."""
    try:
        step = int(torch.load(path, map_location="cpu", weights_only=True, mmap=True)["step"])  # tensors are not read
        kept = path.with_name(f"step_{step:07d}.pt")
    except Exception:  # a damaged file is kept under a name that says so, for a human to look at
        kept = path.with_name(f"damaged-{int(path.stat().st_mtime)}.pt")
    if kept.exists():
        kept.unlink()
    try:
        os.link(path, kept)
    except OSError:  # a file system without hard links
        shutil.copy2(path, kept)


def previous_checkpoints(folder: Path) -> list[Path]:
    """The earlier checkpoints kept beside ``last.pt``, newest first."""
    return sorted(folder.glob("step_*.pt"), reverse=True)


REQUIRED = {"entry": dict, "step": int, "data_info": dict, "model": dict}  # what every readable format holds


def read(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """The payload of a checkpoint written by :func:`save_atomic`; any damage is a :class:`CheckpointError`.

    The zip container's CRC of every record is verified first (``torch.load`` does not):
    flipped bytes are refused, not loaded as silently wrong weights.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise CheckpointError(f"{path} is not a readable ganzoo checkpoint ({str(e).strip() or type(e).__name__})") from None
    if damaged is not None:
        raise CheckpointError(f"{path} is damaged ({damaged} fails its CRC check): use an earlier checkpoint beside it, "
                              "or the run directory (it falls back to the newest intact one)")
    payload = load_tensors(path, map_location=map_location, what="ganzoo checkpoint", error=CheckpointError)
    if not isinstance(payload, dict) or payload.get("format") not in READABLE_FORMATS:
        raise CheckpointError(f"{path} is not a ganzoo checkpoint (format {FORMAT_VERSION})")
    for key, kind in REQUIRED.items():
        if not isinstance(payload.get(key), kind) or isinstance(payload.get(key), bool):
            raise CheckpointError(f"{path} is not a complete ganzoo checkpoint: '{key}' is missing or not a {kind.__name__}")
    if not isinstance(payload["entry"].get("name"), str):
        raise CheckpointError(f"{path} is not a complete ganzoo checkpoint: its entry has no name")
    if payload["format"] == 1 and payload.get("ema") is not None:  # one AveragedModel of model.generator
        payload["ema"] = {f"averages.generator.{k}": v for k, v in payload["ema"].items()}
    return payload


def read_newest_intact(path: Path, map_location: str | torch.device = "cpu") -> tuple[Path, dict[str, Any]]:
    """``read(path)``; when ``path`` is a run's ``last.pt`` and damaged, the newest intact
    checkpoint kept beside it instead, with a warning that names both."""
    try:
        return path, read(path, map_location)
    except CheckpointError as damage:
        if path.name != "last.pt":
            raise
        for older in previous_checkpoints(path.parent):
            try:
                payload = read(older, map_location)
            except CheckpointError:
                continue
            warnings.warn(GanzooWarning(f"{damage}; using {older.name} (step {payload['step']}) instead"), stacklevel=2)
            return older, payload
        raise


# ---------------------------------------------------------------- training: write and --resume


def write(run: Run, name: str = "last.pt") -> Path:
    """Write everything ``run`` needs to continue to ``checkpoints/name``, atomically."""
    extra: dict[str, Any] = {}
    for state in run.pm.hook.ganzoo_checkpoint_state(run=run):
        extra.update(state or {})
    payload = {
        "entry": run.entry.to_dict(),
        "ganzoo_version": __version__,
        "provenance": run.provenance,
        "data_info": dataclasses.asdict(run.data.info),
        "step": run.step,
        "phase": run.model.phase,  # of the last step done: what sampling from this checkpoint uses
        "total_steps": run.total_steps,
        "data_position": run.batches.state_dict(),
        "model": run.model.state_dict(),
        "ema": run.ema.state_dict() if run.ema is not None else None,
        "training_state": run.model.training_state(),
        "optimizers": {k: o.state_dict() for k, o in run.optimizers.items()},
        "scaler": run.scaler.state_dict() if run.scaler is not None else None,
        "rng": _rng_state(),
        "callbacks": extra,
    }
    path = checkpoint_path(run.run_dir, name)
    save_atomic(payload, path, keep=run.entry.train.keep_checkpoints)
    return path


def restore(run: Run, payload: dict[str, Any]) -> None:
    """Load a checkpoint's state (read on the CPU) into a freshly set-up run (``--resume``).
    The plugins' own state (``payload["callbacks"]``) is handed to them by the loop, once
    the run's callbacks are registered."""
    saved = payload["entry"]
    if saved.get("name") != run.entry.name:
        raise CheckpointError(f"the checkpoint belongs to entry '{saved.get('name')}', not '{run.entry.name}'")
    try:
        run.model.load_state_dict(payload["model"])
        if run.ema is not None and payload.get("ema") is not None:
            run.ema.load_state_dict(payload["ema"])
        for key, opt in run.optimizers.items():
            opt.load_state_dict(payload["optimizers"][key])
        if run.scaler is not None and payload.get("scaler"):
            run.scaler.load_state_dict(payload["scaler"])
    except (RuntimeError, KeyError, ValueError) as e:
        raise CheckpointError(
            f"the checkpoint does not fit entry '{run.entry.name}' as configured now "
            f"({str(e).strip().splitlines()[0]}); resume with the settings it was trained with"
        ) from None
    _apply_optimizer_settings(run)
    run.model.load_training_state(to_device(payload.get("training_state") or {}, run.device))
    run.step = int(payload["step"])
    run.batches.load_state_dict(payload["data_position"])
    _set_rng_state(payload["rng"])


FIXED_ON_RESUME = ("model", "model_options", "dataset", "dataset_options", "train.batch_size", "train.seed", "train.ema_networks")
OPTIMIZER_SETTINGS = ("train.lr_g", "train.lr_d", "train.betas", "train.groups")


def check_resume_changes(payload: dict[str, Any], entry: ZooEntry) -> list[str]:
    """Compare the entry a run resumes with to the one it was trained with: a change the
    saved state cannot follow (architecture, data, batch size) is refused, naming the key;
    changed optimizer settings are announced in one line (:func:`restore` applies them)."""
    saved, now = _flat(payload["entry"]), _flat(entry.to_dict())
    for key in FIXED_ON_RESUME:
        if saved.get(key) != now.get(key) and key in saved:
            raise CheckpointError(f"'{key}' cannot change when resuming (the checkpoint holds {short(saved[key])}, the run asks for "
                                  f"{short(now.get(key))}): start a new run instead")
    changed = [f"{key} {short(saved.get(key))} -> {short(now.get(key))}" for key in OPTIMIZER_SETTINGS if saved.get(key) != now.get(key)]
    if changed:
        warnings.warn(GanzooWarning(f"resuming with changed optimizer settings, applied from now on: {'; '.join(changed)}"), stacklevel=2)
    return changed


def _flat(entry: dict[str, Any]) -> dict[str, Any]:
    train = entry.get("train") or {}
    flat = {k: v for k, v in entry.items() if k != "train"}
    flat.update({f"train.{k}": list(v) if isinstance(v, tuple) else v for k, v in train.items()})
    return flat


def _apply_optimizer_settings(run: Run) -> None:
    """The run's configured rates, betas and weight decay over those the optimizer state
    brought back (a changed ``train.lr_g`` on ``--resume`` takes effect)."""
    for key, opt in run.optimizers.items():
        settings = run.group_settings[key]
        for group in opt.param_groups:
            group["lr"], group["betas"], group["weight_decay"] = settings.lr, tuple(settings.betas), settings.weight_decay


def to_device(state: Any, device: torch.device) -> Any:
    """``state`` (tensors in dicts, lists and tuples) with every tensor on ``device``."""
    if isinstance(state, torch.Tensor):
        return state.to(device)
    if isinstance(state, dict):
        return {k: to_device(v, device) for k, v in state.items()}
    if isinstance(state, (list, tuple)):
        return type(state)(to_device(v, device) for v in state)
    return state


def _rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.stack(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else None,
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


# ---------------------------------------------------------------- finding checkpoints


def latest(entry_name: str, runs_dir: str | Path | None = None) -> Path:
    """The newest ``checkpoints/last.pt`` among the runs of ``entry_name``."""
    found = checkpointed_runs(entry_name, runs_dir)
    if not found:
        raise CheckpointError(
            f"no checkpoint of '{entry_name}' under {runs_root(runs_dir)}/; train it with 'ganzoo run {entry_name}' "
            "or pass a checkpoint path"
        )
    return found[0]


def resolve(source: str | Path, runs_dir: str | Path | None = None) -> Path:
    """A checkpoint file from a path to one, a run directory, or an entry name (its latest run)."""
    path = Path(source)
    if path.is_file():
        return path
    if path.is_dir():
        candidate = checkpoint_path(path)
        if candidate.is_file():
            return candidate
        raise CheckpointError(f"{path} holds no checkpoints/last.pt")
    if path.suffix == ".pt" or os.sep in str(source):
        raise CheckpointError(f"no checkpoint at {path}")
    return latest(str(source), runs_dir)


def entry_of(registry: Registry, payload: dict[str, Any], overrides: Sequence[str], origin: str) -> ZooEntry:
    """The entry a checkpoint was trained from (with ``overrides``), validated against the
    installed plugins: a missing one is named with the distribution to install."""
    tables = {"model": registry.models, "dataset": registry.datasets, "loss": registry.losses}
    for kind, made in (payload.get("provenance") or {}).items():
        if kind in tables and made.get("name") not in tables[kind]:
            plugin = registry.plugins.get(made.get("plugin", ""))
            if plugin is not None and plugin.disabled:
                raise MissingPluginError(f"{origin} was trained with {kind} '{made.get('name')}' from plugin '{plugin.name}', which is "
                                      "disabled here (--disable-plugin / $GANZOO_DISABLE_PLUGINS): enable it to load this checkpoint")
            where = f"plugin '{made.get('plugin')}'" + (f" of {made['distribution']} {made.get('version', '')}".rstrip() if made.get("distribution") else "")
            install = f": pip install {made['distribution']}" if made.get("distribution") else ""
            raise MissingPluginError(f"{origin} was trained with {kind} '{made.get('name')}' from {where}, which is not installed here{install}")
    raw = dict(payload["entry"])
    name = raw.pop("name")
    return build_entry(name, apply_overrides(raw, list(overrides)), origin, registry)


# ---------------------------------------------------------------- sampling


@dataclasses.dataclass
class LoadedModel:
    """A trained model ready to use (in eval mode; its generators hold their moving
    averages when the run kept them), with the entry it was trained from."""

    entry: ZooEntry
    model: GANModel
    step: int
    path: Path  # the checkpoint file, or an export's weights file
    info: DataInfo  # the shape of the data it was trained on
    provenance: dict[str, Any] = dataclasses.field(default_factory=dict)  # the plugins that provide model, data, loss
    exported: bool = False  # loaded from an exported folder (no run directory)

    @property
    def run_dir(self) -> Path | None:
        """The run directory of a checkpoint; None for an export."""
        return None if self.exported else run_dir_of(self.path)


def load_for_sampling(registry: Registry, path: Path, device: torch.device) -> LoadedModel:
    """Rebuild the model of checkpoint ``path`` on ``device``, with the moving averages in
    place of the generators, in the phase it last trained in; no training state."""
    path, payload = read_newest_intact(path, map_location=device)
    entry = entry_of(registry, payload, (), str(path))
    info = build_config(DataInfo, payload["data_info"], f"{path}: data_info")
    model = build_model(registry, entry, info).to(device)
    try:
        model.load_state_dict(payload["model"])
        if payload.get("ema") is not None:
            ema = EMA(model, sorted({key.split(".")[1] for key in payload["ema"]})).to(device)
            ema.load_state_dict(payload["ema"])
            ema.copy_into(model)
    except (RuntimeError, KeyError, AttributeError) as e:
        raise CheckpointError(f"{path} does not match model '{entry.model}' ({str(e).splitlines()[0]})") from None
    model.set_phase(payload.get("phase") or model.phases[0].name)
    model.eval()
    return LoadedModel(entry, model, int(payload["step"]), path, info, provenance=payload.get("provenance") or {})
