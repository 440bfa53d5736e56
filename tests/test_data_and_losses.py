"""Dataset helpers (IDX reader, device batches) and the built-in losses."""

from __future__ import annotations

import gzip

import pytest
import torch

import ganzoo
from ganzoo import DataError, ImageData
from ganzoo.build import build_loss
from ganzoo.data import DeviceBatches, read_idx
from ganzoo.images import to_model_range, to_uint8
from ganzoo.losses import NoOptions

REGISTRY = ganzoo.load_registry()


def test_read_idx_roundtrip_and_errors(tmp_path):
    header = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    good = tmp_path / "x.gz"
    good.write_bytes(gzip.compress(header + bytes(range(6))))
    assert read_idx(good).tolist() == [[0, 1, 2], [3, 4, 5]]
    truncated = tmp_path / "t"
    truncated.write_bytes(header + bytes(5))
    with pytest.raises(DataError, match="truncated or corrupt"):
        read_idx(truncated)
    magic = tmp_path / "m"
    magic.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(DataError, match="bad magic"):
        read_idx(magic)
    broken_gz = tmp_path / "b.gz"
    broken_gz.write_bytes(b"\x1f\x8bnot gzip")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(broken_gz)
    with pytest.raises(DataError, match="missing data file"):
        read_idx(tmp_path / "absent.gz")


def make_data(n: int = 10) -> ImageData:
    return ImageData({"image": torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1), "label": torch.arange(n)})


def test_device_batches_cover_each_epoch_once_and_resume_exactly():
    batches = DeviceBatches(make_data(), 3, torch.device("cpu"), seed=7)
    seen, ends = [], []
    for _ in range(6):  # 3 batches per epoch (the partial one is dropped)
        batch, end = batches.next()
        seen.append(batch["label"].tolist())
        ends.append(end)
    assert ends == [False, False, True] * 2
    first = sum(seen[:3], [])
    assert len(set(first)) == 9 and seen[:3] != seen[3:]  # no repeats; a new order next epoch

    replay = DeviceBatches(make_data(), 3, torch.device("cpu"), seed=7)
    replay.load_state_dict({"epoch": 1, "index": 1})
    assert replay.next()[0]["label"].tolist() == seen[4]


def test_batches_are_scaled_to_model_range():
    batch, _ = DeviceBatches(ImageData({"image": torch.tensor([0, 255], dtype=torch.uint8).view(2, 1, 1, 1)}), 2, torch.device("cpu"), 0).next()
    assert sorted(batch["image"].flatten().tolist()) == [-1.0, 1.0]
    assert torch.equal(to_uint8(to_model_range(torch.arange(256, dtype=torch.uint8))), torch.arange(256, dtype=torch.uint8))


def test_dataset_errors():
    with pytest.raises(DataError, match="larger than the dataset"):
        DeviceBatches(make_data(4), 5, torch.device("cpu"), 0)
    with pytest.raises(DataError, match="differ in length"):
        ImageData({"image": torch.zeros(3, 1, 2, 2, dtype=torch.uint8), "label": torch.zeros(2)})


@pytest.mark.parametrize("name", sorted(REGISTRY.losses))
def test_losses_reward_the_right_side(name):
    spec = REGISTRY.losses[name]
    loss = spec.build(spec.config())
    confident = loss.discriminator(torch.full((8,), 5.0), torch.full((8,), -5.0))
    fooled = loss.discriminator(torch.full((8,), -5.0), torch.full((8,), 5.0))
    assert confident < fooled  # the discriminator's loss is low when it tells real from fake
    assert loss.generator(torch.full((8,), 5.0)) < loss.generator(torch.full((8,), -5.0))
    logits = torch.zeros(8, requires_grad=True)
    loss.generator(logits).backward()
    assert (logits.grad < 0).all()  # the generator is pushed towards "real"


def test_bce_matches_textbook_formula():
    spec = REGISTRY.losses["bce"]
    loss = spec.build(spec.config())
    real, fake = torch.randn(16), torch.randn(16)
    expected = -(torch.sigmoid(real).log().mean() + (1 - torch.sigmoid(fake)).log().mean())
    assert torch.allclose(loss.discriminator(real, fake), expected, atol=1e-5)
    assert torch.allclose(loss.generator(fake), -torch.sigmoid(fake).log().mean(), atol=1e-5)


def test_bce_r1_penalty_is_half_gamma_times_the_squared_gradient_norm_at_the_reals():
    """D(x) = w . x has the gradient w at every image, so R1 is gamma/2 |w|^2, and 0 adds nothing."""
    weight = torch.randn(1, 2, 3, 3)
    critic = lambda x, labels: (x * weight).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    spec = REGISTRY.losses["bce"]
    penalty = spec.build(spec.config(r1_gamma=4.0)).penalty(critic, real, fake, None, None)
    assert torch.allclose(penalty, 2.0 * weight.pow(2).sum())
    assert spec.build(spec.config()).penalty(critic, real, fake, None, None) is None
    weight.requires_grad_(True)  # create_graph: the penalty trains the discriminator's weights
    spec.build(spec.config(r1_gamma=4.0)).penalty(critic, real, fake, None, None).backward()
    assert torch.allclose(weight.grad, 4.0 * weight.detach())


def test_lazy_r1_penalises_every_nth_discriminator_step_weighted_n_times():
    """r1_every=3: the run's discriminator steps 0, 3, 6, ... (as the loop numbers them) carry
    3x the penalty, the others none; both of two discriminators (CycleGAN's) on those steps."""
    weight = torch.randn(1, 2, 3, 3)
    d_a = lambda x, labels: (x * weight).flatten(1).sum(1)  # noqa: E731
    d_b = lambda x, labels: (x * 2 * weight).flatten(1).sum(1)  # noqa: E731
    real, fake = torch.randn(5, 2, 3, 3), torch.randn(5, 2, 3, 3)
    spec = REGISTRY.losses["bce"]
    loss = spec.build(spec.config(r1_gamma=4.0, r1_every=3))
    got = []
    for step in range(7):
        loss.start_discriminator_step(step)
        got.append((loss.penalty(d_a, real, fake, None, None), loss.penalty(d_b, real, fake, None, None)))
    assert [(a is not None, b is not None) for a, b in got] == [(i % 3 == 0, i % 3 == 0) for i in range(7)]
    for a, b in got[::3]:
        assert torch.allclose(a, 3 * 2.0 * weight.pow(2).sum()) and torch.allclose(b, 3 * 2.0 * (2 * weight).pow(2).sum())
    loss.start_discriminator_step(1000 * 3 + 1)  # after a resume: the run's numbering, not a count of this object's calls
    assert loss.penalty(d_a, real, fake, None, None) is None


def test_a_loss_plugin_must_build_a_ganloss():
    class Duck:  # a loss's methods, without the base class the loop relies on
        def discriminator(self, real_logits, fake_logits):
            return fake_logits.mean()

    class Plugin:
        @ganzoo.hookimpl
        def ganzoo_register_losses(self):
            return [ganzoo.LossSpec("duck", lambda config: Duck(), NoOptions)]

    registry = ganzoo.load_registry(extra_plugins=[("duck", Plugin())])
    with pytest.raises(ganzoo.ConfigError, match="loss 'duck' built a Duck, not a GANLoss") as refused:
        build_loss(registry, ganzoo.ZooEntry("x", "dcgan", "mnist-5k", "duck"))
    assert "\n" not in str(refused.value)
