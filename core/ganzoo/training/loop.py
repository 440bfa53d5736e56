"""The one training loop. Every model in the zoo trains here; none has a loop of its own.

Read top to bottom: :meth:`Trainer.fit` sets a run up (:mod:`ganzoo.training.setup`),
restores a checkpoint on ``--resume``, registers the run's callbacks, hands them their
checkpoint state, and runs :meth:`Trainer._loop`. Each step of the loop:

1. on a phase boundary, freeze the groups the new phase does not train and take up its precision;
2. ``d_steps`` discriminator updates (none in a phase without discriminator groups), each
   numbered for the loss first (``GANLoss.start_discriminator_step``: a lazy penalty's schedule);
3. one generator update with the phase's discriminator groups frozen;
4. the moving averages, the non-finite check (one host sync per log interval), and the
   ``ganzoo_step_end`` / ``ganzoo_epoch_end`` hooks.

The model (:class:`ganzoo.model.GANModel`) only says what a batch's losses are.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import Tensor, nn

import ganzoo.checkpoints as checkpoints
from ganzoo.errors import ConfigError, DivergedError, PluginError
from ganzoo.model import Phase
from ganzoo.rundir import remove_partial_writes, write_text_atomic
from ganzoo.specs import TrainConfig, ZooEntry, short
import ganzoo.training.distributed as distributed
from ganzoo.training.device import select_device
from ganzoo.training.run import Run
from ganzoo.training.setup import seed_everything, setup_run


class Trainer:
    """Builds a :class:`Run` from a validated entry and trains it."""

    def __init__(self, registry: Any, *, device: str = "auto", data_dir: Path | None = None) -> None:
        self.registry = registry
        self.place, self.device = distributed.setup(select_device(device))
        self.data_dir = data_dir

    def setup(self, entry: ZooEntry, run_dir: Path) -> Run:
        return setup_run(self.registry, entry, run_dir, self.device, self.place, self.data_dir)

    def fit(self, entry: ZooEntry, run_dir: Path, resume: dict[str, Any] | None = None) -> Run:
        """Train ``entry`` into ``run_dir``; ``resume`` is a checkpoint's payload to continue from."""
        run = self.setup(entry, run_dir)  # data, model and options fail here, before anything is written
        payload = resume
        if payload is not None:
            checkpoints.restore(run, payload)
        if run.place.world > 1:  # the same weights everywhere, different noise and dropout in each process
            seed_everything(hash((entry.train.seed, run.place.rank, run.step)) % 2**62)
        pm = self.registry.pm
        callbacks = []
        if run.place.is_main:  # logs, samples, checkpoints and reports: rank 0 only
            callbacks = [cb for group in pm.hook.ganzoo_callbacks(run=run) for cb in group or []]
            if not callbacks:
                raise PluginError("no plugin gives the run its callbacks, so nothing (no checkpoint) would be saved: enable "
                                  "the 'callbacks' plugin (--disable-plugin / $GANZOO_DISABLE_PLUGINS) or install a replacement")
            run_dir.mkdir(parents=True, exist_ok=True)
            remove_partial_writes(run_dir)  # of a process killed while writing
            write_text_atomic(run_dir / "config.yaml", yaml.safe_dump(entry.to_dict(), sort_keys=False))
        for cb in callbacks:
            pm.register(cb)
        try:
            if payload is not None:  # every plugin, the run's callbacks included, gets its state back
                state = checkpoints.to_device(payload.get("callbacks") or {}, run.device)
                pm.hook.ganzoo_load_checkpoint_state(run=run, state=state)
            pm.hook.ganzoo_train_start(run=run)
            with _stop_on_signals(run, entry.train.stop_signals):
                try:
                    self._loop(run)
                except ValueError as e:  # a model refusing its options at its first step (e.g. a batch its packing cannot split)
                    raise ConfigError(f"entry '{entry.name}': {short(e, 300)}") from e
            run.status = "finished" if run.step >= run.total_steps else "interrupted"
            pm.hook.ganzoo_train_end(run=run, status=run.status)
        except BaseException as e:
            run.status = "diverged" if isinstance(e, DivergedError) else "failed"
            pm.hook.ganzoo_train_end(run=run, status=run.status)
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
        scaler = run.scaler
        model.train()
        phase: Phase | None = None
        while run.step < run.total_steps and run.status == "running":
            stop = bool(run.stop_requested)
            if run.place.world > 1:  # a signal may reach some processes only: every process stops before the same step
                stop = distributed.anyone(stop, run.device)
            if stop:
                run.status = "interrupted"
                break
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
                dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(run.precision_of(phase.name))
                autocast = torch.autocast(run.device.type, dtype=dtype, enabled=dtype is not None)
                model.set_phase(phase.name)
                hook.ganzoo_phase_start(run=run, phase=phase.name)

            if train.compile:  # CUDA graphs (compile mode reduce-overhead) may reuse the previous step's buffers from here
                torch.compiler.cudagraph_mark_step_begin()
            if train.lr_decay_steps:
                _decay_learning_rates(run, train)
            epochs_done = []
            out_d = None
            for i in range(train.d_steps if opt_d else 1):
                batch, end_of_epoch = run.batches.next()
                if end_of_epoch:
                    epochs_done.append(run.batches.epoch)
                if not opt_d:  # a phase without a discriminator (e.g. a generator warm-up)
                    break
                loss.start_discriminator_step(run.step * train.d_steps + i)  # a lazy penalty's schedule, the same after a resume
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
                run.ema.update(model, follow=run.step < train.ema_start)
            run.health.record(out_g.loss, out_d.loss if out_d is not None else None, out_d.saturated if out_d is not None else None)
            run.step += 1
            if run.step % train.log_every == 0 or run.step == run.total_steps:
                run.check_health(interval_end=True)  # one host sync per log interval, not per step
            outputs = (out_d, out_g) if out_d is not None else (out_g,)
            metrics = {k: v for out in outputs for k, v in (*out.metrics.items(), *out.diagnostics.items())}
            run.diagnostics.update(k for out in outputs for k in out.diagnostics)
            hook.ganzoo_step_end(run=run, step=run.step, metrics=metrics)
            for epoch in epochs_done:
                hook.ganzoo_epoch_end(run=run, epoch=epoch)


def _decay_learning_rates(run: Run, train: TrainConfig) -> None:
    """Set each optimizer's rate for the coming step: its configured rate until the last
    ``train.lr_decay_steps`` steps of the run, then falling linearly towards 0. A function of
    the step alone, so a resumed run continues the same schedule."""
    factor = min(1.0, (run.total_steps - run.step) / train.lr_decay_steps)
    for key, opt in run.optimizers.items():
        for group in opt.param_groups:
            group["lr"] = factor * run.group_settings[key].lr


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


def _backward_step(loss: Tensor, optimizers: list[torch.optim.Optimizer], scaler: torch.amp.GradScaler | None) -> None:
    if scaler is None:
        loss.backward()
        for optimizer in optimizers:
            optimizer.step()
    else:
        scaler.scale(loss).backward()
        for optimizer in optimizers:
            scaler.step(optimizer)


@contextlib.contextmanager
def _stop_on_signals(run: Run, names: tuple[str, ...]) -> Iterator[None]:
    """The first of ``names`` (Ctrl-C's SIGINT, the SIGTERM schedulers send before
    preemption, SLURM's SIGUSR1 warning) finishes the step in flight, then stops the run
    cleanly: checkpoint written, status "interrupted". A second signal acts as it would
    without ganzoo (Ctrl-C twice stops at once)."""
    wanted = [getattr(signal, name) for name in names if hasattr(signal, name)]  # SIGUSR1 does not exist on Windows
    if threading.current_thread() is not threading.main_thread() or not wanted:
        yield
        return
    previous: dict[int, Any] = {}

    def request_stop(signum: int, frame: Any) -> None:
        run.stop_requested = signum  # the loop stops after the step in flight
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    for sig in wanted:
        previous[sig] = signal.signal(sig, request_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
