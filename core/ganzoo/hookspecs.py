"""The plugin contract: every extension point of ganzoo, one hookspec each.

A plugin is a module (or object) with functions decorated by ``ganzoo.hookimpl`` whose
names match the specs below; it is found through the ``ganzoo`` entry-point group.
Every hook is optional. Arguments may be omitted from an implementation's signature.

Registration hooks are called once when the registry is built (``ganzoo list``,
``ganzoo run``, ``ganzoo.load_registry()``); each returns a list and all lists are merged.
Training hooks are called by the one training loop (:mod:`ganzoo.training`) on every
registered plugin and on the per-run callbacks returned by ``ganzoo_callbacks``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import torch

    from ganzoo.specs import CommandSpec, DatasetSpec, FeatureExtractorSpec, LoggerSpec, LossSpec, ModelSpec
    from ganzoo.training import Run

hookspec = pluggy.HookspecMarker("ganzoo")
hookimpl = pluggy.HookimplMarker("ganzoo")


# ---------------------------------------------------------------- registration


@hookspec
def ganzoo_register_models() -> list[ModelSpec]:
    """Return the GAN variants this plugin provides.

    Called once per registry build. A name registered by two plugins is an error that
    names both.
    """


@hookspec
def ganzoo_register_datasets() -> list[DatasetSpec]:
    """Return the datasets this plugin provides (called once per registry build)."""


@hookspec
def ganzoo_register_losses() -> list[LossSpec]:
    """Return the adversarial losses this plugin provides (called once per registry build)."""


@hookspec
def ganzoo_register_feature_extractors() -> list[FeatureExtractorSpec]:
    """Return feature networks for sample-quality metrics (``ganzoo evaluate --features NAME``).

    Called once per registry build. ganzoo registers ``inception-v3`` and ``domain`` this
    way; a plugin can add, say, a CLIP or DINOv2 extractor for its own domain.
    """


@hookspec
def ganzoo_register_loggers() -> list[LoggerSpec]:
    """Return the loggers this plugin provides: places a run is recorded while it trains
    (TensorBoard, MLflow, ...), chosen per run with ``train.loggers`` or ``--logger NAME``.

    Called once per registry build. A logger is a :class:`ganzoo.plugin.Logger`; the
    built-in ``callbacks`` plugin feeds it from the training hooks (see
    :mod:`ganzoo.tracking` for the calls and their order).
    """


@hookspec
def ganzoo_zoo_files() -> list[Path]:
    """Return paths of YAML files whose ``entries:`` this plugin adds to the zoo.

    Each file has the layout of the top-level ``zoo.yaml``. Entries are validated when the
    registry is built; an entry name defined twice is an error naming both files.
    """


@hookspec
def ganzoo_commands() -> list[CommandSpec]:
    """Return ``ganzoo`` sub-commands this plugin adds (e.g. ``translate``, ``upscale``).

    Called once when the command line starts. A command name taken by ganzoo itself or by
    another plugin is an error that names both.
    """


# ---------------------------------------------------------------- training


@hookspec
def ganzoo_callbacks(run: Run) -> list[Any]:
    """Return objects whose ``@hookimpl`` methods are registered for this run only.

    Called at the start of every run, before ``ganzoo_train_start``. Per-run state
    (a progress bar, a history file) lives on these objects; they are unregistered when
    the run ends. The built-in progress bar, sample grids, history and checkpoints are
    provided this way by the ``callbacks`` plugin.
    """


@hookspec
def ganzoo_train_start(run: Run) -> None:
    """Called once the model, data and optimizers are ready, before the first step.

    On ``--resume`` the checkpoint has been loaded: ``run.step`` is the step it reached.
    """


@hookspec
def ganzoo_step_end(run: Run, step: int, metrics: dict[str, torch.Tensor]) -> None:
    """Called after every generator update; ``step`` counts updates from 1.

    ``metrics`` are 0-d tensors still on the training device: reading one (``.item()``)
    waits for the device, so do it only every few steps (see ``run.entry.train.log_every``).
    """


@hookspec
def ganzoo_log(run: Run, step: int, record: dict[str, Any]) -> None:
    """Called every ``train.log_every`` steps (and at the last step) with the interval's
    record, as appended to ``history.jsonl``: the mean of every metric as a float,
    ``step``, ``epoch``, ``phase``, ``time_s`` and ``images_per_s``. Reading it costs no
    device synchronisation: the one read of the interval has been made."""


@hookspec
def ganzoo_preview(run: Run, step: int, grid: torch.Tensor, path: Path) -> None:
    """Called when a preview grid of the run's fixed inputs is drawn (every
    ``train.sample_every`` steps and at the end): ``grid`` is the ``(3, H, W)`` uint8 CPU
    image written to ``path``."""


@hookspec
def ganzoo_evaluated(run_dir: Path, step: int, section: str, record: dict[str, Any]) -> None:
    """Called after figures were stored in ``run_dir/metrics.json`` under ``section``
    (``"heldout"``, ``"samples-inception-v3"``, ...): ``record["scores"]`` maps each
    figure's name to its value, measured on the model of checkpoint ``step``. Called by
    the end-of-run evaluation (while the run's callbacks are registered) and by
    ``ganzoo evaluate`` (with the run's loggers reopened)."""


@hookspec
def ganzoo_phase_start(run: Run, phase: str) -> None:
    """Called when a training phase begins (see ``GANModel.phases``), after
    ``model.set_phase(phase)``; also at the start of a resumed run, for its current phase.
    One-phase models get it once, for ``"adversarial"``."""


@hookspec
def ganzoo_epoch_end(run: Run, epoch: int) -> None:
    """Called when a pass over the data completes; ``epoch`` counts from 1."""


@hookspec
def ganzoo_checkpoint_saved(run: Run, path: Path) -> None:
    """Called after a checkpoint was written completely (atomically) to ``path``."""


@hookspec
def ganzoo_checkpoint_state(run: Run) -> dict[str, Any] | None:
    """Return extra state to store in the checkpoint, as ``{unique_key: state}``.

    The state must be plain data or tensors (checkpoints are loaded with
    ``weights_only=True``). It is handed back by ``ganzoo_load_checkpoint_state``.
    """


@hookspec
def ganzoo_load_checkpoint_state(run: Run, state: dict[str, Any]) -> None:
    """Called on ``--resume`` with the merged ``ganzoo_checkpoint_state`` of the checkpoint."""


@hookspec
def ganzoo_train_end(run: Run, status: str) -> None:
    """Called once when the run stops.

    ``status`` is ``"finished"`` (all steps done), ``"interrupted"`` (Ctrl-C, after the
    step in flight completed) or ``"failed"`` (an error, e.g. a non-finite loss: the state
    is not trustworthy and must not be checkpointed).
    """
