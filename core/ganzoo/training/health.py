"""Is the run still healthy? Non-finite losses, losses past a bound, and a discriminator
whose outputs sit at their targets interval after interval stop it as diverged.

Everything is accumulated on the training device, step by step without a host sync, and
read once per log interval (and before every checkpoint, so a diverged model never
replaces a good checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor

from ganzoo.errors import DivergedError, NonFiniteLossError
from ganzoo.specs import TrainConfig


class Health:
    def __init__(self, train: TrainConfig, device: torch.device, precisions: Iterable[str] = ("fp32",)) -> None:
        self.max_loss, self.patience = train.max_loss, train.saturated_intervals
        self.reduced = set(precisions) != {"fp32"}  # some phase trains in bf16 or fp16 (as resolved: "auto" may be fp32)
        self.nonfinite = torch.zeros((), dtype=torch.bool, device=device)
        self.largest = torch.zeros((), device=device)  # the largest |loss| so far
        self.saturated_steps = torch.zeros((), device=device)  # in the current log interval
        self.steps = 0  # in the current log interval
        self.saturated_intervals = 0  # in a row

    def record(self, g_loss: Tensor, d_loss: Tensor | None, saturated: Tensor | None) -> None:
        losses = torch.stack([loss.detach().float() for loss in (g_loss, d_loss) if loss is not None])
        self.nonfinite |= ~torch.isfinite(losses).all()
        self.largest = torch.maximum(self.largest, losses.abs().nan_to_num(nan=0.0, posinf=0.0).max())
        if saturated is not None:
            self.saturated_steps += saturated.detach().float()
        self.steps += 1

    def check(self, step: int, checkpoint_note: str, interval_end: bool) -> None:
        """Raise :class:`NonFiniteLossError` or :class:`DivergedError` when the run went bad."""
        nonfinite, largest, saturated = torch.stack([self.nonfinite.float(), self.largest, self.saturated_steps]).tolist()
        if nonfinite:
            advice = "lower the learning rates" + (" or train in precision fp32" if self.reduced else "")
            raise NonFiniteLossError(f"a loss became NaN or infinite before step {step}; training stopped, {checkpoint_note} ({advice})")
        if self.max_loss and largest > self.max_loss:
            raise DivergedError(f"a loss reached {largest:.3g}, above train.max_loss {self.max_loss:g}, before step {step}: the "
                                f"run diverged and stopped, {checkpoint_note} (lower the learning rates)")
        if not interval_end or not self.steps:
            return
        mostly = saturated >= 0.9 * self.steps
        self.saturated_intervals = self.saturated_intervals + 1 if mostly else 0
        self.saturated_steps.zero_()
        self.steps = 0
        if self.patience and self.saturated_intervals >= self.patience:
            raise DivergedError(f"the discriminator's outputs sat at their targets for {self.saturated_intervals} log intervals "
                                f"in a row before step {step} (it wins outright; the generator learns nothing): the run "
                                f"stopped, {checkpoint_note} (train.saturated_intervals sets the patience; 0 switches it off)")
