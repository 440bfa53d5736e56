"""The DCGAN plugin's options: packing, extra layers, upsampling; each trains through the loop."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo_dcgan import DCGAN, DCGANConfig

MNIST = ganzoo.DataInfo(1, 28, 28, num_classes=10)
SMALL = {"latent_dim": 8, "g_channels": 8, "d_channels": 8}


def build(conditional: bool = False, info: ganzoo.DataInfo = MNIST, **options) -> DCGAN:
    torch.manual_seed(0)
    return DCGAN(DCGANConfig(**{**SMALL, **options}), info, conditional=conditional)


def count(net: nn.Module, kind: type) -> int:
    return sum(isinstance(m, kind) for m in net.modules())


@pytest.mark.parametrize("size", [28, 32, 64])
def test_extra_layers_add_stride_one_blocks_and_keep_the_shapes(size):
    info = ganzoo.DataInfo(3, size, size)
    plain, deeper = build(info=info), build(info=info, g_extra_layers=2, d_extra_layers=1)
    assert count(deeper.generator, nn.Conv2d) == count(plain.generator, nn.Conv2d) + 2
    assert count(deeper.discriminator, nn.Conv2d) == count(plain.discriminator, nn.Conv2d) + 1
    images = deeper.sample(4)
    assert images.shape == (4, 3, size, size) and deeper.discriminator(images).shape == (4,)


def test_nearest_upsampling_replaces_every_transposed_convolution():
    model = build(upsample="nearest")
    assert count(model.generator, nn.ConvTranspose2d) == 0 and count(model.generator, nn.Upsample) == 2  # 7 -> 14 -> 28
    assert count(build().generator, nn.ConvTranspose2d) == 2
    assert model.sample(3).shape == (3, 1, 28, 28)


def test_packing_judges_m_images_at_once():
    model = build(pack=2)
    assert model.discriminator(torch.zeros(6, 1, 28, 28)).shape == (3,)
    with pytest.raises(ValueError, match="multiple of model_options.pack"):
        model.discriminator(torch.zeros(5, 1, 28, 28))
    conditional = build(conditional=True, pack=2)
    assert conditional.discriminator(torch.zeros(4, 1, 28, 28), torch.arange(4)).shape == (2,)


@pytest.mark.parametrize("options, message", [
    ({"pack": 0}, "pack must be at least 1"),
    ({"g_extra_layers": -1}, "extra_layers must be at least 0"),
    ({"upsample": "bilinear"}, "upsample must be transposed or nearest"),
])
def test_bad_options_are_refused_with_the_key(options, message, write_zoo, tmp_path):
    zoo = write_zoo({"bad": {"model": "dcgan", "dataset": "mnist-5k", "loss": "bce", "model_options": options,
                             "train": {"steps": 1}}})
    registry = ganzoo.load_registry([zoo])
    with pytest.raises(ganzoo.ConfigError, match=message):
        ganzoo.train("bad", registry=registry, run_dir=tmp_path / "run", device="cpu")
    assert not (tmp_path / "run").exists()


def test_every_generator_parameter_gets_a_gradient_with_all_options():
    model = build(pack=2, g_extra_layers=1, d_extra_layers=1, upsample="nearest")
    loss = ganzoo.load_registry().spec("loss", "bce").build(ganzoo.losses.BCEConfig())
    batch = {"image": torch.rand(8, 1, 28, 28) * 2 - 1}
    model.discriminator_loss(batch, loss)
    model.generator_loss(batch, loss).loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.generator.parameters())


def test_every_option_trains_through_the_one_loop_and_samples(tmp_path):
    options = ["model_options.pack=2", "model_options.g_extra_layers=1", "model_options.d_extra_layers=1",
               "model_options.upsample=nearest", "model_options.g_channels=8", "model_options.d_channels=8",
               "dataset_options.limit=32", "train.batch_size=8", "train.steps=3", "train.log_every=1",
               "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4", "loss_options.r1_gamma=1.0"]
    run = ganzoo.train("dcgan-mnist-5k", overrides=options, run_dir=tmp_path / "run", device="cpu")
    assert run.step == 3
    history = [json.loads(line) for line in (run.run_dir / "history.jsonl").read_text().splitlines()]
    penalties = [record["d_penalty"] for record in history]  # logged every step: R1 through the packed discriminator
    assert len(penalties) == 3 and all(p > 0 for p in penalties)
    loaded = ganzoo.load_checkpoint(run.run_dir, device="cpu")
    assert loaded.entry.model_options["upsample"] == "nearest"
    assert ganzoo.sample(loaded, 4, seed=1).shape == (4, 1, 28, 28)


def test_lazy_r1_through_the_one_loop_penalises_every_second_step(tmp_path):
    options = ["model_options.g_channels=8", "model_options.d_channels=8", "dataset_options.limit=32", "train.batch_size=8",
               "train.steps=4", "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0",
               "loss_options.r1_gamma=1.0", "loss_options.r1_every=2"]
    run = ganzoo.train("dcgan-mnist-5k", overrides=options, run_dir=tmp_path / "run", device="cpu")
    history = [json.loads(line) for line in (run.run_dir / "history.jsonl").read_text().splitlines()]
    assert [record["step"] for record in history if "d_penalty" in record] == [1, 3]
    # cut after 3 steps and resumed: the schedule is the run's, so the 4th step is still unpenalised
    ganzoo.train("dcgan-mnist-5k", overrides=[*options, "train.steps=3", "train.checkpoint_every=3"], run_dir=tmp_path / "cut", device="cpu")
    resumed = ganzoo.train("dcgan-mnist-5k", overrides=["train.steps=4"], resume=tmp_path / "cut", device="cpu")
    history = [json.loads(line) for line in (resumed.run_dir / "history.jsonl").read_text().splitlines()]
    assert [record["step"] for record in history if "d_penalty" in record] == [1, 3]
