"""The one training loop. Every model in the zoo trains here; none has a loop of its own.

The loop owns the device, precision, optimizers, the alternation of discriminator and
generator updates, the generator's moving average, the non-finite check, hooks and
checkpoints. The model (:class:`ganzoo.model.GANModel`) only says what a batch's losses are.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pluggy
import torch
import yaml
from torch import Tensor, nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

import ganzoo
from ganzoo.data import Dataset, DeviceBatches, StreamBatches, eval_batches, make_batches, spread_items
from ganzoo.errors import CheckpointError, ConfigError, NonFiniteLossError
from ganzoo.losses import GANLoss
from ganzoo.model import GANModel, Phase
from ganzoo.specs import ZooEntry
from ganzoo.training import checkpoint as ckpt
from ganzoo.training import distributed


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then the CPU. Any other name is used as given."""
    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError:
            raise ConfigError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' asked for, but CUDA is not available here (use --device cpu)")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device '{name}' asked for, but Apple MPS is not available here (use --device cpu)")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> bf16 where the device has bf16 matrix units, else fp32; checks the others."""
    bf16_ok = (device.type == "cuda" and torch.cuda.is_bf16_supported()) or (
        device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )
    if precision == "auto":
        return "bf16" if bf16_ok else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("train.precision fp16 needs a CUDA device; use bf16 or fp32 here")
    if precision == "bf16" and device.type == "mps":
        raise ConfigError("train.precision bf16 is not supported on MPS; use fp32")
    return precision


def make_optimizer(params: list[nn.Parameter], lr: float, betas: tuple[float, float], device: torch.device) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where the device supports it (CUDA, CPU), else foreach."""
    fused = device.type in ("cuda", "cpu")
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=fused, foreach=None if fused else True)


def base_lr(train: Any, group: str) -> float:
    """The configured learning rate of a parameter group: ``lr_d`` for groups named ``d...``."""
    return train.lr_d if group.startswith("d") else train.lr_g


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
    batches: DeviceBatches | StreamBatches
    optimizers: dict[str, torch.optim.Optimizer]
    total_steps: int
    pm: pluggy.PluginManager
    ema: AveragedModel | None = None
    scaler: torch.amp.GradScaler | None = None
    step: int = 0
    status: str = "running"
    schedule: list[tuple[Phase, int]] = field(default_factory=list)  # each phase with the step it ends at
    preview_inputs: dict[str, Tensor] = field(default_factory=dict)  # fixed for the whole run
    eval_data: Dataset | None = None  # the held-out split, for paired models whose dataset has one
    eval_split: str | None = None
    provenance: dict[str, dict[str, str]] = field(default_factory=dict)  # which plugin (and version) gave model, dataset, loss
    place: distributed.Distributed = distributed.SINGLE  # this process's rank among the torchrun processes
    losses: nn.Module | None = None  # the model's loss step, inside DistributedDataParallel when distributed
    registry: Any = None  # the plugin registry the run was built from (datasets, feature extractors)
    extras: dict[str, Any] = field(default_factory=dict)  # free room for plugins' per-run data
    _nonfinite: Tensor | None = None

    def phase_at(self, step: int) -> Phase:
        """The phase that step ``step + 1`` belongs to (the last phase once all are done)."""
        return next((phase for phase, end in self.schedule if step < end), self.schedule[-1][0])

    @property
    def phase(self) -> str:
        """The name of the current phase."""
        return self.model.phase

    @property
    def epoch(self) -> int:
        """Passes over the data completed so far."""
        return self.batches.epoch

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator to sample from: its moving average when there is one."""
        return self.ema.module if self.ema is not None else self.model.generator

    def sample_fixed(self) -> Tensor:
        """The preview images from this run's fixed inputs: comparable across steps."""
        with _eval_mode(self.sampling_generator) as net:
            return self.model.preview(self.preview_inputs, net=net)

    def evaluate(self) -> dict[str, float]:
        """The model's held-out scores (:meth:`GANModel.evaluate_batch`), averaged per item."""
        if self.eval_data is None:
            return {}
        with _eval_mode(self.sampling_generator) as net:
            return evaluate(self.model, net, self.eval_data, self.entry.train.batch_size, self.device,
                            self.entry.train.eval_batches)

    def check_finite(self) -> None:
        """Raise :class:`NonFiniteLossError` if any loss since the start was NaN or infinite."""
        if self._nonfinite is not None and bool(self._nonfinite):
            raise NonFiniteLossError(
                f"a loss became NaN or infinite before step {self.step}; training stopped and the last "
                f"checkpoint in {self.checkpoint_dir} was kept (lower the learning rates or use precision fp32)"
            )

    def save_checkpoint(self, name: str = "last.pt") -> Path:
        """Write everything needed to continue atomically to ``checkpoints/name``."""
        self.check_finite()
        extra: dict[str, Any] = {}
        for state in self.pm.hook.ganzoo_checkpoint_state(run=self):
            extra.update(state or {})
        payload = {
            "entry": self.entry.to_dict(),
            "ganzoo_version": ganzoo.__version__,
            "provenance": self.provenance,
            "data_info": dataclasses.asdict(self.data.info),
            "step": self.step,
            "phase": self.model.phase,  # of the last step done: what sampling from this checkpoint uses
            "total_steps": self.total_steps,
            "data_position": self.batches.state_dict(),
            "model": self.model.state_dict(),
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "rng": _rng_state(),
            "callbacks": extra,
        }
        path = self.checkpoint_dir / name
        ckpt.save_atomic(payload, path)
        self.pm.hook.ganzoo_checkpoint_saved(run=self, path=path)
        return path


@contextlib.contextmanager
def _eval_mode(net: nn.Module) -> Iterator[nn.Module]:
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            yield net
    finally:
        net.train(was_training)


@contextlib.contextmanager
def _frozen(params: list[nn.Parameter]) -> Iterator[None]:
    """No gradients for ``params`` inside (the discriminator during the generator's update)."""
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@torch.no_grad()
def evaluate(model: GANModel, net: nn.Module, data: Dataset, batch_size: int, device: torch.device, limit: int = 0) -> dict[str, float]:
    """Mean of each per-item score of ``model.evaluate_batch`` over ``data`` (``{}`` if none)."""
    sums: dict[str, float] = {}
    count = 0
    for batch in eval_batches(data, batch_size, device, limit):
        scores = model.evaluate_batch(batch, net)
        if not scores:
            return {}
        for key, values in scores.items():
            sums[key] = sums.get(key, 0.0) + float(values.double().sum())
        count += len(next(iter(batch.values())))
    return {key: total / count for key, total in sums.items()}


def _compile(model: GANModel) -> None:
    """``torch.compile`` each trainable network in place (its state-dict keys unchanged).
    Where compiling fails (no C++ compiler, an unsupported platform or operator), dynamo
    falls back to eager execution with a warning instead of stopping the run."""
    import torch._dynamo

    torch._dynamo.config.suppress_errors = True
    for module in model.children():
        if any(p.requires_grad for p in module.parameters()):
            module.compile()


def _rng_state() -> dict[str, Any]:
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.stack(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else None,
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda"]))


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


@contextlib.contextmanager
def _stop_on_sigint(run: Run) -> Iterator[None]:
    """First Ctrl-C: finish the step in flight, then stop cleanly. Second: stop at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request_stop(signum: int, frame: Any) -> None:
        run.status = "interrupted"
        signal.signal(signal.SIGINT, previous)

    previous = signal.signal(signal.SIGINT, request_stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Trainer:
    """Builds a :class:`Run` from a validated entry and trains it."""

    def __init__(self, registry: Any, *, device: str = "auto", data_dir: Path | None = None) -> None:
        self.registry = registry
        self.place, self.device = distributed.setup(select_device(device))
        self.data_dir = data_dir

    def setup(self, entry: ZooEntry, run_dir: Path) -> Run:
        from ganzoo.api import build_model, load_data  # the public helpers serve sampling too

        train = entry.train
        precision = resolve_precision(train.precision, self.device)
        _seed_everything(train.seed)
        data = load_data(self.registry, entry, self.data_dir)
        model = build_model(self.registry, entry, data.info)
        model.setup_training()
        model.to(self.device)
        if train.channels_last and self.device.type in ("cuda", "cpu"):  # tensor cores; oneDNN's fast path on CPUs
            model.to(memory_format=torch.channels_last)
        if train.compile:
            _compile(model)
        losses = distributed.wrap(model, self.device, self.place, train.sync_batchnorm)
        eval_split = self.registry.spec("dataset", entry.dataset).eval_split
        eval_data = load_data(self.registry, entry, self.data_dir, eval_split) if eval_split and model.paired else None
        loss_spec = self.registry.spec("loss", entry.loss)
        loss = loss_spec.build(loss_spec.config(**entry.loss_options))
        batches = make_batches(data, train.batch_size, self.device, train.seed, train.workers, self.place.rank, self.place.world)
        groups = model.parameter_groups()
        optimizers = {k: make_optimizer(p, base_lr(train, k), train.betas, self.device) for k, p in groups.items()}
        schedule = _schedule(model, train, batches.batches_per_epoch, set(groups))
        total = schedule[-1][1]
        ema = None
        if train.ema:
            ema = AveragedModel(model.generator, multi_avg_fn=get_ema_multi_avg_fn(train.ema), use_buffers=True)
        scaler = torch.amp.GradScaler(self.device.type) if precision == "fp16" else None
        rng = torch.Generator().manual_seed(train.seed + 1)
        examples = spread_items(eval_data if eval_data is not None else data, train.grid_size, self.device)
        preview_inputs = model.preview_inputs(examples, train.grid_size, rng)
        return Run(entry, run_dir, self.device, precision, model, loss, data, batches, optimizers, total,
                   self.registry.pm, ema, scaler, schedule=schedule, preview_inputs=preview_inputs, eval_data=eval_data,
                   eval_split=eval_split if eval_data is not None else None, provenance=provenance(self.registry, entry),
                   place=self.place, losses=losses, registry=self.registry)

    def fit(self, entry: ZooEntry, run_dir: Path, resume: Path | None = None) -> Run:
        run = self.setup(entry, run_dir)  # data, model and options fail here, before anything is written
        if resume is not None:
            restore(run, ckpt.load(resume, map_location=run.device))
        if run.place.world > 1:  # the same weights everywhere, different noise and dropout in each process
            _seed_everything(hash((entry.train.seed, run.place.rank, run.step)) % 2**62)
        pm = self.registry.pm
        callbacks = []
        if run.place.is_main:  # logs, samples, checkpoints and reports: rank 0 only
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "config.yaml").write_text(yaml.safe_dump(entry.to_dict(), sort_keys=False))
            callbacks = [cb for group in pm.hook.ganzoo_callbacks(run=run) for cb in group or []]
        for cb in callbacks:
            pm.register(cb)
        try:
            pm.hook.ganzoo_train_start(run=run)
            with _stop_on_sigint(run):
                self._loop(run)
            run.status = "finished" if run.step >= run.total_steps else "interrupted"
            pm.hook.ganzoo_train_end(run=run, status=run.status)
        except BaseException:
            run.status = "failed"
            pm.hook.ganzoo_train_end(run=run, status="failed")
            raise
        finally:
            for cb in callbacks:
                pm.unregister(cb)
        return run

    def run_steps(self, run: Run, n: int) -> None:
        """``n`` more steps of ``run`` through the loop, without the run's callbacks and
        without writing anything (the speed benchmark times this)."""
        run.total_steps = run.step + n
        self._loop(run)

    def _loop(self, run: Run) -> None:
        train = run.entry.train
        model, loss, hook = run.model, run.loss, run.pm.hook
        losses = run.losses if run.losses is not None else distributed.LossStep(model)
        groups = model.parameter_groups()
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(run.precision)
        autocast = torch.autocast(run.device.type, dtype=dtype, enabled=dtype is not None)
        scaler = run.scaler
        run._nonfinite = torch.zeros((), dtype=torch.bool, device=run.device)
        model.train()
        phase: Phase | None = None
        while run.step < run.total_steps and run.status == "running":
            current = run.phase_at(run.step)
            if current is not phase:
                phase = current
                opt_d = [run.optimizers[k] for k in phase.discriminator_groups]
                opt_g = [run.optimizers[k] for k in phase.generator_groups]
                d_params = [p for k in phase.discriminator_groups for p in groups[k]]
                trained = {*phase.generator_groups, *phase.discriminator_groups}
                for key, params in groups.items():  # groups the phase does not train stay frozen through it
                    for p in params:
                        p.requires_grad_(key in trained)
                model.set_phase(phase.name)
                hook.ganzoo_phase_start(run=run, phase=phase.name)

            if train.lr_decay_steps:
                _decay_learning_rates(run, train)
            epochs_done = []
            out_d = None
            for _ in range(train.d_steps if opt_d else 1):
                batch, end_of_epoch = run.batches.next()
                if end_of_epoch:
                    epochs_done.append(run.batches.epoch)
                if not opt_d:  # a phase without a discriminator (e.g. a generator warm-up)
                    break
                for opt in opt_d:
                    opt.zero_grad(set_to_none=True)
                with autocast:
                    out_d = losses("d", batch, loss)
                _backward_step(out_d.loss, opt_d, scaler)

            for opt in opt_g:
                opt.zero_grad(set_to_none=True)
            with _frozen(d_params):
                with autocast:
                    out_g = losses("g", batch, loss)
                _backward_step(out_g.loss, opt_g, scaler)
            if scaler is not None:
                scaler.update()

            if run.ema is not None:
                if run.step < train.ema_start:
                    run.ema.module.load_state_dict(model.generator.state_dict())
                else:
                    run.ema.update_parameters(model.generator)
            step_loss = out_g.loss.detach() + (out_d.loss.detach() if out_d is not None else 0)
            run._nonfinite |= ~torch.isfinite(step_loss)
            run.step += 1
            if run.step % train.log_every == 0 or run.step == run.total_steps:
                run.check_finite()  # one host sync per log interval, not per step
            metrics = {**out_d.metrics, **out_g.metrics} if out_d is not None else out_g.metrics
            hook.ganzoo_step_end(run=run, step=run.step, metrics=metrics)
            for epoch in epochs_done:
                hook.ganzoo_epoch_end(run=run, epoch=epoch)


def _decay_learning_rates(run: Run, train: Any) -> None:
    """Set each optimizer's rate for the coming step: its configured rate until the last
    ``train.lr_decay_steps`` steps of the run, then falling linearly towards 0. A function of
    the step alone, so a resumed run continues the same schedule."""
    factor = min(1.0, (run.total_steps - run.step) / train.lr_decay_steps)
    for key, opt in run.optimizers.items():
        for group in opt.param_groups:
            group["lr"] = factor * base_lr(train, key)


def provenance(registry: Any, entry: ZooEntry) -> dict[str, dict[str, str]]:
    """For the model, dataset and loss of ``entry``: its name, plugin, distribution and version."""
    out = {}
    for kind, name in (("model", entry.model), ("dataset", entry.dataset), ("loss", entry.loss)):
        plugin = registry.owner(kind, name)
        info = registry.plugins.get(plugin)
        out[kind] = {"name": name, "plugin": plugin, "distribution": info.distribution if info else "",
                     "version": info.version if info else ""}
    return out


def _schedule(model: GANModel, train: Any, batches_per_epoch: int, groups: set[str]) -> list[tuple[Phase, int]]:
    """Each of the model's phases with the step it ends at, from ``train.phase_steps`` (or,
    for a one-phase model, from ``train.steps`` / ``train.epochs``)."""
    names = [phase.name for phase in model.phases]
    for phase in model.phases:
        unknown = {*phase.generator_groups, *phase.discriminator_groups} - groups
        if unknown:
            raise ConfigError(f"phase '{phase.name}' names parameter groups the model does not have: {sorted(unknown)}")
    steps = dict(train.phase_steps)
    if not steps:
        if len(names) > 1:
            raise ConfigError(f"this model trains in phases {', '.join(names)}: set train.phase_steps, "
                              f"e.g. {{{', '.join(f'{n}: 1000' for n in names)}}}")
        steps = {names[0]: train.steps or train.epochs * (batches_per_epoch // train.d_steps)}
    unknown = steps.keys() - set(names)
    if unknown or steps.keys() != set(names):
        raise ConfigError(f"train.phase_steps must give the steps of each phase of the model ({', '.join(names)}), "
                          f"got {', '.join(steps) or 'none'}")
    if train.steps and train.phase_steps and train.steps != sum(steps.values()):
        raise ConfigError(f"train.steps ({train.steps}) disagrees with the sum of train.phase_steps ({sum(steps.values())}); set one")
    schedule, end = [], 0
    for phase in model.phases:
        end += steps[phase.name]
        schedule.append((phase, end))
    if end <= 0:
        raise ConfigError("the run has no steps: train.phase_steps are all 0")
    return schedule


def _backward_step(loss: Tensor, optimizers: list[torch.optim.Optimizer], scaler: torch.amp.GradScaler | None) -> None:
    if scaler is None:
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
    else:
        scaler.scale(loss).backward()
        for optimizer in optimizers:
            scaler.step(optimizer)


def restore(run: Run, payload: dict[str, Any]) -> None:
    """Load a checkpoint's state into a freshly set-up run (``--resume``)."""
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
    run.step = int(payload["step"])
    run.batches.load_state_dict(payload["data_position"])
    _set_rng_state(payload["rng"])
    run.pm.hook.ganzoo_load_checkpoint_state(run=run, state=payload.get("callbacks") or {})

