"""CycleGAN's parts, and its entry trained a few steps, translated both ways and resumed exactly."""

from __future__ import annotations

import json

import torch

import ganzoo
from ganzoo_cyclegan import DigitOutlinesConfig, load_digit_outlines
from ganzoo_cyclegan.networks import PatchDiscriminator, ResnetGenerator
from ganzoo_cyclegan.pool import ImagePool

ENTRY = "cyclegan-digit-outlines"


def small(registry) -> list[str]:
    model, data = registry.spec("model", "cyclegan"), registry.spec("dataset", "digit-outlines")
    return ([f"model_options.{k}={json.dumps(v)}" for k, v in model.tiny_options.items()]
            + [f"dataset_options.{k}={json.dumps(v)}" for k, v in data.tiny_options.items()]
            + ["train.batch_size=4", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4", "train.lr_decay_steps=0"])


def test_networks_keep_the_size():
    g = ResnetGenerator(1, 3, width=4, blocks=1)
    assert g(torch.zeros(2, 1, 32, 32)).shape == (2, 3, 32, 32)
    assert PatchDiscriminator(3, 4, layers=2)(torch.zeros(2, 3, 32, 32)).shape[0] == 2


def test_pool_fills_then_mixes_and_round_trips():
    torch.manual_seed(0)
    pool = ImagePool(4)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: the fakes themselves
    later = pool.query(torch.full((64, 1, 1, 1), 9.0))
    assert (later != 9).any() and (later == 9).any()  # about half come from the history
    copy = ImagePool(4)
    copy.load(pool.state())
    assert torch.equal(torch.stack(copy.images), torch.stack(pool.images))


def test_training_domains_never_pair_and_held_out_ones_do():
    train = load_digit_outlines(DigitOutlinesConfig(), None, "train")
    val = load_digit_outlines(DigitOutlinesConfig(), None, "val")
    assert train.lengths == [2500, 2000] and len(val) == 500  # outlines of even positions, digits of the other odd ones
    assert set(val.tensors) == {"input", "image", "label"}  # aligned: each digit with its own outline


def test_entry_trains_translates_both_ways_and_resumes_exactly(tmp_path):
    registry = ganzoo.load_registry()
    full = ganzoo.train(ENTRY, overrides=[*small(registry), "train.steps=4"], run_dir=tmp_path / "full", device="cpu", registry=registry)
    scores = json.loads((tmp_path / "full" / "metrics.json").read_text())["heldout"]["scores"]
    assert {"a2b_l1", "b2a_l1", "a2b_identity_l1", "b2a_mean_l1"} <= scores.keys()
    ganzoo.train(ENTRY, overrides=[*small(registry), "train.steps=2"], run_dir=tmp_path / "half", device="cpu", registry=registry)
    resumed = ganzoo.train(ENTRY, overrides=["train.steps=4"], resume=tmp_path / "half", device="cpu", registry=registry)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert torch.equal(torch.stack(full.model.pool_b.images), torch.stack(resumed.model.pool_b.images))
    loaded = ganzoo.load_checkpoint(tmp_path / "full", device="cpu", registry=registry)
    digit = torch.rand(1, 1, 32, 32) * 2 - 1
    assert ganzoo.translate(loaded, digit, direction="b2a").shape == (1, 1, 32, 32)
    assert not torch.equal(ganzoo.translate(loaded, digit, direction="a2b"), ganzoo.translate(loaded, digit, direction="b2a"))
