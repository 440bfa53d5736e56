"""A run's phases and its optimizer groups' settings, worked out from the model's
declaration (:attr:`GANModel.phases`, :meth:`GANModel.parameter_groups`) and the entry."""

from __future__ import annotations

from dataclasses import dataclass

from ganzoo.errors import ConfigError
from ganzoo.model import GANModel, Phase
from ganzoo.specs import TrainConfig


@dataclass(frozen=True)
class GroupSettings:
    lr: float
    betas: tuple[float, float]
    weight_decay: float = 0.0


def group_settings(model: GANModel, train: TrainConfig, groups: set[str]) -> dict[str, GroupSettings]:
    """Each parameter group's optimizer settings: ``lr_d`` for a group that some phase
    updates as a discriminator group, ``lr_g`` otherwise, ``betas`` for all; then what
    ``train.groups.NAME`` sets (``lr``, ``betas``, ``weight_decay``)."""
    unknown = set(train.groups) - groups
    if unknown:
        raise ConfigError(f"train.groups names parameter groups the model does not have: {sorted(unknown)} "
                          f"(it has: {', '.join(sorted(groups))})")
    discriminators = {g for phase in model.phases for g in phase.discriminator_groups}
    settings = {}
    for name in groups:
        own = train.groups.get(name, {})
        betas = tuple(own.get("betas", train.betas))
        if len(betas) != 2 or not all(0 <= b < 1 for b in betas):
            raise ConfigError(f"train.groups.{name}.betas must be two numbers in [0, 1)")
        settings[name] = GroupSettings(float(own.get("lr", train.lr_d if name in discriminators else train.lr_g)), betas,
                                       float(own.get("weight_decay", 0.0)))
    return settings


def schedule(model: GANModel, train: TrainConfig, batches_per_epoch: int, groups: set[str]) -> list[tuple[Phase, int]]:
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
    if steps.keys() != set(names):
        raise ConfigError(f"train.phase_steps must give the steps of each phase of the model ({', '.join(names)}), "
                          f"got {', '.join(steps) or 'none'}")
    if train.steps and train.phase_steps and train.steps != sum(steps.values()):
        raise ConfigError(f"train.steps ({train.steps}) disagrees with the sum of train.phase_steps ({sum(steps.values())}); set one")
    plan, end = [], 0
    for phase in model.phases:
        end += steps[phase.name]
        plan.append((phase, end))
    if end <= 0:
        raise ConfigError("the run has no steps: train.phase_steps are all 0")
    return plan
