"""From a validated entry to a :class:`Run` ready to train: data, model, loss, optimizers,
moving averages, phases and previews, all built before anything is written."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganzoo.build import build_loss, build_model, load_data
from ganzoo.data import make_batches, spread_items
from ganzoo.ema import EMA, averaged_names
from ganzoo.model import FROZEN, GANModel
from ganzoo.specs import ZooEntry
import ganzoo.training.distributed as distributed
from ganzoo.training.device import make_optimizer, phase_precisions, resolve_precision
from ganzoo.training.health import Health
from ganzoo.training.phases import group_settings, schedule
from ganzoo.training.run import Run


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def setup_run(registry: Any, entry: ZooEntry, run_dir: Path, device: torch.device, place: distributed.Distributed,
              data_dir: Path | None = None) -> Run:
    train = entry.train
    precision = resolve_precision(train.precision, device)
    seed_everything(train.seed)
    data = load_data(registry, entry, data_dir)
    model = build_model(registry, entry, data.info)
    model.setup_training()
    model.to(device)
    for net in model.named_networks(FROZEN).values():
        net.requires_grad_(False)
    if train.channels_last and device.type in ("cuda", "cpu"):  # tensor cores; oneDNN's fast path on CPUs
        model.to(memory_format=torch.channels_last)
    if train.compile:
        _compile(model, None if train.compile is True else train.compile)
    losses = distributed.wrap(model, device, place, train.sync_batchnorm)
    eval_split = registry.spec("dataset", entry.dataset).eval_split
    # translators preview and score held-out inputs; generators preview noise, scored later from samples
    eval_data = load_data(registry, entry, data_dir, eval_split) if eval_split and model.capabilities.translates else None
    batches = make_batches(data, train.batch_size, device, train.seed, train.workers, place.rank, place.world)
    groups = model.parameter_groups()
    settings = group_settings(model, train, set(groups))
    optimizers = {k: make_optimizer(p, settings[k].lr, settings[k].betas, settings[k].weight_decay, device) for k, p in groups.items()}
    plan = schedule(model, train, batches.batches_per_epoch, set(groups))
    precisions = phase_precisions(train, [phase.name for phase, _ in plan], device)
    ema = EMA(model, averaged_names(model, train.ema_networks), train.ema) if train.ema else None
    scaler = torch.amp.GradScaler(device.type) if "fp16" in precisions.values() else None
    rng = torch.Generator().manual_seed(train.seed + 1)
    examples = spread_items(eval_data if eval_data is not None else data, train.grid_size, device)
    preview_inputs = model.preview_inputs(examples, train.grid_size, rng)
    return Run(entry, run_dir, device, precision, model, build_loss(registry, entry), data, batches, optimizers, plan[-1][1],
               registry.pm, ema, scaler, schedule=plan, preview_inputs=preview_inputs, eval_data=eval_data,
               eval_split=eval_split if eval_data is not None else None, provenance=provenance(registry, entry), phase_precision=precisions,
               place=place, losses=losses, registry=registry, group_settings=settings, health=Health(train, device, precisions.values()))


def _compile(model: GANModel, mode: str | None) -> None:
    """``torch.compile`` each trained network in place (its state-dict keys unchanged), in
    ``mode`` (``None``: torch's default; ``reduce-overhead`` replays CUDA graphs on GPUs).
    Where compiling fails (no C++ compiler, an unsupported platform or operator), dynamo
    falls back to eager execution with a warning instead of stopping the run."""
    import torch._dynamo

    torch._dynamo.config.suppress_errors = True
    for net in model.named_networks().values():
        if any(p.requires_grad for p in net.parameters()):
            net.compile(mode=mode)


def provenance(registry: Any, entry: ZooEntry) -> dict[str, dict[str, str]]:
    """For the model, dataset and loss of ``entry``: its name, plugin, distribution and version."""
    out = {}
    for kind, name in (("model", entry.model), ("dataset", entry.dataset), ("loss", entry.loss)):
        plugin = registry.owner(kind, name)
        info = registry.plugins.get(plugin)
        out[kind] = {"name": name, "plugin": plugin, "distribution": info.distribution if info else "",
                     "version": info.version if info else ""}
    return out
