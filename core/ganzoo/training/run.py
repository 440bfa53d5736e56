"""The state of one training run: what hooks receive as ``run``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy
import torch
from torch import Tensor, nn

import ganzoo.checkpoints as checkpoints
from ganzoo.data import Batches, Dataset
from ganzoo.ema import EMA
from ganzoo.losses import GANLoss
from ganzoo.model import GANModel, Phase
from ganzoo.paths import checkpoint_path
from ganzoo.seeding import seeded
from ganzoo.specs import ZooEntry
import ganzoo.training.distributed as distributed
from ganzoo.training.health import Health
from ganzoo.training.phases import GroupSettings


@dataclass
class Run:
    """The state of one training run; hooks receive it as ``run``."""

    entry: ZooEntry
    run_dir: Path
    device: torch.device
    precision: str
    model: GANModel
    loss: GANLoss
    data: Dataset
    batches: Batches
    optimizers: dict[str, torch.optim.Optimizer]
    total_steps: int
    pm: pluggy.PluginManager
    ema: EMA | None = None
    scaler: torch.amp.GradScaler | None = None
    step: int = 0
    status: str = "running"
    schedule: list[tuple[Phase, int]] = field(default_factory=list)  # each phase with the step it ends at
    phase_precision: dict[str, str] = field(default_factory=dict)  # each phase's (train.phase_precision, else precision)
    preview_inputs: dict[str, Tensor] = field(default_factory=dict)  # fixed for the whole run
    eval_data: Dataset | None = None  # the dataset's held-out split, when it has one
    eval_split: str | None = None
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)  # which plugin (and version) gave model, dataset, loss
    place: distributed.Distributed = distributed.SINGLE  # this process's rank among the torchrun processes
    losses: nn.Module | None = None  # the model's loss step, inside DistributedDataParallel when distributed
    registry: Any = None  # the plugin registry the run was built from (datasets, feature extractors)
    extras: dict[str, Any] = field(default_factory=dict)  # free room for plugins' per-run data
    group_settings: dict[str, GroupSettings] = field(default_factory=dict)  # each optimizer group's lr, betas, weight decay
    diagnostics: set[str] = field(default_factory=set)  # logged values that are not losses (StepOutput.diagnostics)
    health: Health | None = None  # non-finite and diverging losses, a saturated discriminator
    stop_requested: int = 0  # the signal that asked the run to stop after the step in flight (0: none)

    def phase_at(self, step: int) -> Phase:
        """The phase that step ``step + 1`` belongs to (the last phase once all are done)."""
        return next((phase for phase, end in self.schedule if step < end), self.schedule[-1][0])

    @property
    def phase(self) -> str:
        """The name of the current phase."""
        return self.model.phase

    def precision_of(self, phase: str) -> str:
        """The precision phase ``phase`` trains in: fp32, bf16 or fp16."""
        return self.phase_precision.get(phase, self.precision)

    @property
    def precisions(self) -> str:
        """The run's precision, or each phase's where they differ: "bf16 (pretrain), fp32 (adversarial)"."""
        named = [(phase.name, self.precision_of(phase.name)) for phase, _ in self.schedule]
        if len({p for _, p in named}) <= 1:
            return named[0][1] if named else self.precision
        return ", ".join(f"{p} ({name})" for name, p in named)

    @property
    def epoch(self) -> int:
        """Passes over the data completed so far."""
        return self.batches.epoch

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @contextlib.contextmanager
    def sampling(self) -> Iterator[GANModel]:
        """The model as sampling sees it: its moving averages in place of the averaged
        networks, in eval mode, without gradients; as it was again afterwards."""
        averaged = self.ema.applied(self.model) if self.ema is not None else contextlib.nullcontext()
        was_training = self.model.training
        with averaged, torch.no_grad():
            self.model.eval()
            try:
                yield self.model
            finally:
                self.model.train(was_training)

    def sample_fixed(self) -> Tensor:
        """The preview images from this run's fixed inputs: comparable across steps. The
        networks' own randomness (conditioning augmentation, dropout) is seeded the same
        way each time, and the training's random stream goes on as if no preview was drawn."""
        with self.sampling() as model, seeded(self.entry.train.seed, self.device):
            return model.preview(self.preview_inputs)

    def check_health(self, interval_end: bool = False) -> None:
        """Raise :class:`ganzoo.errors.DivergedError` (:class:`NonFiniteLossError` for NaN or
        infinity) if the run went bad since it started; see :mod:`ganzoo.training.health`."""
        if self.health is None:
            return
        last = checkpoint_path(self.run_dir)
        note = f"the last checkpoint in {self.checkpoint_dir} was kept" if last.is_file() else "no checkpoint had been written yet"
        self.health.check(self.step, note, interval_end)

    def save_checkpoint(self, name: str = "last.pt") -> Path:
        """Write everything needed to continue, atomically, to ``checkpoints/name``."""
        self.check_health()
        path = checkpoints.write(self, name)
        self.pm.hook.ganzoo_checkpoint_saved(run=self, path=path)
        return path
