"""The WGAN-GP plugin: the loss and its penalty against hand-computed values, and a short run."""

from __future__ import annotations

import torch

import ganzoo
from ganzoo_wgan_gp import WassersteinGP, WGANGPConfig


class Linear(torch.nn.Module):
    """D(x) = w . x: its gradient is w everywhere, so the penalty is lambda (|w| - 1)^2."""

    def __init__(self, w: torch.Tensor) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(w)

    def forward(self, x, labels=None):
        return (x.flatten(1) * self.w).sum(1)


def test_loss_signs_and_penalty():
    loss = WassersteinGP(WGANGPConfig(penalty_weight=10.0))
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([1.0, -1.0])
    assert loss.discriminator(real, fake).item() == -3.0  # E[D(fake)] - E[D(real)]
    assert loss.generator(fake).item() == 0.0
    critic = Linear(torch.tensor([0.0, 2.0, 0.0, 0.0]))  # |w| = 2
    penalty = loss.penalty(critic, torch.randn(8, 1, 2, 2), torch.randn(8, 1, 2, 2), None, None)
    assert abs(penalty.item() - 10.0) < 1e-4
    penalty.backward()  # the penalty trains the critic: d/dw of 10 (|w| - 1)^2 at w = (0, 2, 0, 0) is (0, 20, 0, 0)
    assert torch.allclose(critic.w.grad, torch.tensor([0.0, 20.0, 0.0, 0.0]))


def test_entry_trains_through_ganzoo(tmp_path):
    small = ["model_options.g_channels=8", "model_options.d_channels=8", "dataset_options.limit=64", "train.batch_size=8",
             "train.steps=2", "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4"]
    run = ganzoo.train("wgan-gp-mnist-5k", overrides=small, run_dir=tmp_path / "run", device="cpu")
    assert run.status == "finished" and run.step == 2
    assert "d_penalty" in (tmp_path / "run" / "history.jsonl").read_text()
