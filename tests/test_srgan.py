"""The SRGAN plugin: shapes per scale, phases in the shared loop, tiled = untiled, Y-channel
metrics, content-loss weights (present, missing), HR folders, ``ganzoo upscale``."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo import DataError
from ganzoo.images import read_image
from ganzoo.evaluation.paired import luma, paired_scores
from ganzoo.tiling import tiled
from ganzoo_srgan import SRGAN, ContentFeatures, Discriminator, SRDataConfig, SRGANConfig, SRResNet
from ganzoo_srgan.data import downsample, load_div2k, load_hr_folder, load_skimage_photos

REGISTRY = ganzoo.load_registry()
TINY_MODEL = ["model_options.blocks=1", "model_options.g_channels=4", "model_options.d_channels=4", "model_options.d_dense=8",
              "model_options.content=pixel"]
TINY_TRAIN = ["train.batch_size=2", "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=2"]


def photos(folder: Path, n: int = 4, size: tuple[int, int] = (48, 40), seed: int = 0) -> Path:
    """Smooth random colour images (blurred noise), PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        x = torch.nn.functional.avg_pool2d(torch.rand(1, 3, size[1], size[0], generator=g), 5, 1, 2)
        Image.fromarray((x[0] * 255).round().byte().permute(1, 2, 0).numpy()).save(folder / f"p{i}.png")
    return folder


@pytest.fixture
def sr_registry(tmp_path, write_zoo):
    folder = photos(tmp_path / "hr")
    entry = {"model": "srgan", "dataset": "hr-folder", "loss": "bce",
             "dataset_options": {"path": str(folder), "scale": 4, "hr_size": 16, "eval_size": 32, "crops_per_image": 2},
             "model_options": {"scale": 4}, "train": {"batch_size": 2, "phase_steps": {"pretrain": 2, "adversarial": 2}}}
    return ganzoo.load_registry([write_zoo({"sr-tiny": entry})])


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("scale", [2, 4, 8])
def test_shapes_for_each_scale(scale):
    net = SRResNet(scale, 3, width=8, blocks=2)
    assert net(torch.randn(2, 3, 12, 10)).shape == (2, 3, 12 * scale, 10 * scale)
    info = ganzoo.DataInfo(3, 12 * scale, 12 * scale, input_channels=3, input_height=12, input_width=12)
    model = SRGAN(SRGANConfig(scale=scale, blocks=1, g_channels=4, d_channels=4, d_dense=8), info)
    assert model.discriminator(torch.randn(2, 3, 96, 96)).shape == (2,)
    assert Discriminator(3, 4, 8)(torch.randn(1, 3, 40, 56)).shape == (1,)  # any crop size


def test_bicubic_skip_starts_from_bicubic_and_still_tiles_exactly():
    net = SRResNet(4, 3, width=4, blocks=1, bicubic_skip=True).eval()
    x = torch.rand(1, 3, 40, 36) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net(x), torch.nn.functional.interpolate(x, scale_factor=4, mode="bicubic"))
        net.tail.weight.normal_()  # as if trained
        torch.testing.assert_close(tiled(net, x, 4, tile=30, overlap=net.receptive_radius()), net(x), atol=1e-5, rtol=1e-5)


def test_scale_must_match_the_data():
    info = ganzoo.DataInfo(3, 96, 96, input_channels=3, input_height=48, input_width=48)
    with pytest.raises(ValueError, match="set dataset_options.scale to match"):
        SRGAN(SRGANConfig(scale=4), info)
    with pytest.raises(ganzoo.ConfigError, match="scale must be 2, 4 or 8"):
        REGISTRY.entry("srgan-photos", ["model_options.scale=3"])


def test_receptive_radius_bounds_what_an_output_pixel_sees():
    net = SRResNet(4, 3, width=4, blocks=3).eval()
    x = torch.zeros(1, 3, 41, 41, requires_grad=True)
    net(x)[0, :, 82, 82].sum().backward()
    rows = (x.grad[0].abs().sum((0, 2)) > 0).nonzero().flatten()
    assert 20 - rows.min() <= net.receptive_radius() and rows.max() - 20 <= net.receptive_radius()


# ---------------------------------------------------------------- tiling


def test_tiled_equals_one_piece():
    net = SRResNet(2, 3, width=4, blocks=2).eval()
    big = torch.rand(1, 3, 45, 37) * 2 - 1
    with torch.no_grad():
        whole = net(big)
        exact = tiled(net, big, 2, tile=32, overlap=net.receptive_radius())
        seams = tiled(net, big, 2, tile=32, overlap=0)
        small = torch.rand(1, 3, 20, 20)
        assert torch.equal(tiled(net, small, 2, tile=32, overlap=3), net(small))  # fits one tile: one piece
    assert exact.shape == whole.shape == (1, 3, 90, 74)
    torch.testing.assert_close(exact, whole, atol=1e-5, rtol=1e-5)
    assert (seams - whole).abs().max() > 1e-3  # without the overlap the tiles show (the test can fail)


def test_tiles_that_cannot_hold_their_overlap_are_refused():
    with pytest.raises(ValueError, match="use a larger tile"):
        tiled(lambda t: t, torch.zeros(1, 1, 50, 50), 1, tile=10, overlap=5)


# ---------------------------------------------------------------- metrics


def test_y_channel_and_border_conventions():
    white, black = torch.ones(1, 3, 1, 1), -torch.ones(1, 3, 1, 1)
    assert luma((white + 1) / 2).item() == pytest.approx(235 / 255, abs=1e-4)
    assert luma((black + 1) / 2).item() == pytest.approx(16 / 255, abs=1e-4)
    hr = torch.rand(2, 3, 32, 32) * 1.6 - 0.8
    sr = hr.clone()
    sr[..., :4, :] = -1  # wrong only inside a 4-pixel border
    cropped = paired_scores(sr, hr, y_channel=True, border=4)
    assert cropped["l1"].eq(0).all() and cropped["psnr"].isinf().all()
    assert paired_scores(sr, hr, y_channel=True)["l1"].gt(0).all()
    grey_shift = paired_scores(hr.mean(1, keepdim=True).expand_as(hr) + 0.2, hr.mean(1, keepdim=True).expand_as(hr), y_channel=True)
    # a grey shift of 0.1 on the [0, 1] scale is 0.1 * 219/255 in Y: PSNR = -20 log10(0.0859)
    assert grey_shift["psnr"] == pytest.approx(torch.full((2,), 21.32), abs=0.01)


# ---------------------------------------------------------------- data


def test_hr_folder_pairs_crops_with_their_downsampling(tmp_path):
    folder = photos(tmp_path / "hr", n=12)
    config = SRDataConfig(path=str(folder), hr_size=16, eval_size=32, crops_per_image=3)
    train, val = load_hr_folder(config, tmp_path, "train"), load_hr_folder(config, tmp_path, "val")
    assert len(train) == 11 * 3 and len(val) == 1  # every tenth photograph is held out
    assert not {f.name for f in train.files} & {f.name for f in val.files}
    views = [train.item(5, torch.Generator().manual_seed(s)) for s in range(6)]
    for v in views:
        assert v["image"].shape == (3, 16, 16) and torch.equal(v["input"], downsample(v["image"], 4))
    assert len({v["image"].float().sum().item() for v in views}) > 1
    held = val.item(0, None)
    assert held["image"].shape == (3, 32, 32) and held["input"].shape == (3, 8, 8)


def test_hr_folder_errors(tmp_path):
    with pytest.raises(DataError, match="dataset_options.path=DIR"):
        load_hr_folder(SRDataConfig(), tmp_path, "train")
    folder = photos(tmp_path / "hr", n=3, size=(20, 20))
    data = load_hr_folder(SRDataConfig(path=str(folder), hr_size=24), tmp_path, "train")
    with pytest.raises(DataError, match=r"p0\.png is 20x20, smaller than the 24x24 crops"):
        data.item(0, torch.Generator())
    with pytest.raises(ganzoo.ConfigError, match="multiple of scale"):
        REGISTRY.entry("srgan-photos", ["dataset_options.hr_size=30"])


def test_div2k_offline_is_one_actionable_line(tmp_path, monkeypatch):
    def offline(url, root, **kwargs):
        raise urllib.error.URLError("no route")

    monkeypatch.setattr("torchvision.datasets.utils.download_and_extract_archive", offline)
    with pytest.raises(DataError) as err:
        load_div2k(SRDataConfig(), tmp_path, "train")
    assert "\n" not in str(err.value) and "DIV2K_train_HR.zip" in str(err.value) and str(tmp_path / "DIV2K") in str(err.value)


def test_offline_photographs_come_from_scikit_image():
    config = SRDataConfig(hr_size=96, eval_size=192)
    train, val = load_skimage_photos(config, Path("."), "train"), load_skimage_photos(config, Path("."), "val")
    assert len(train.files) == 7 and [f.name for f in val.files] == ["chelsea.png", "coffee.png"]
    assert train.item(0, torch.Generator().manual_seed(0))["image"].shape == (3, 96, 96)


# ---------------------------------------------------------------- the content loss


def test_missing_vgg_weights_offline_say_what_to_do(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(DataError) as err:
        ContentFeatures("vgg19", 54)
    message = str(err.value)
    assert "\n" not in message and "vgg_weights=PATH" in message and "content=pixel" in message
    with pytest.raises(DataError, match="no VGG19 weights at"):
        ContentFeatures("vgg19", 22, weights=str(tmp_path / "absent.pth"))


def test_vgg_content_loss_from_a_weights_file(sr_registry, tmp_path):
    from torchvision.models.vgg import cfgs, make_layers

    features = make_layers(cfgs["E"])[:9]  # up to relu2_2: a small file standing in for VGG19's weights
    torch.save({f"features.{k}": v for k, v in features.state_dict().items()}, tmp_path / "vgg.pth")
    net = ContentFeatures("vgg19", 22, weights=str(tmp_path / "vgg.pth"))
    assert net(torch.zeros(1, 3, 16, 16)).shape == (1, 128, 8, 8)
    overrides = [*TINY_MODEL[:-1], "model_options.content=vgg", "model_options.vgg_layer=22",
                 f"model_options.vgg_weights={tmp_path / 'vgg.pth'}", *TINY_TRAIN]
    run = ganzoo.train("sr-tiny", overrides=overrides, registry=sr_registry, run_dir=tmp_path / "run", device="cpu")
    record = json.loads((tmp_path / "run" / "history.jsonl").read_text().splitlines()[-1])
    assert record["phase"] == "adversarial" and record["content"] > 0 and record["content"] != record["mse"]
    assert not any(k.startswith("_content") for k in run.model.state_dict())  # the loss network stays out of checkpoints


def test_a_timm_backbone_by_name(tmp_path):
    import timm

    torch.save(timm.create_model("test_resnet").state_dict(), tmp_path / "backbone.pth")
    net = ContentFeatures("timm:test_resnet", 1, weights=str(tmp_path / "backbone.pth"))
    assert net(torch.zeros(1, 3, 32, 32)).ndim == 4
    with pytest.raises(ganzoo.ConfigError, match="timm has no model 'no_such_net'"):
        ContentFeatures("timm:no_such_net", 1)


# ---------------------------------------------------------------- the shared loop


def test_pretrain_phase_leaves_the_discriminator_alone(sr_registry, tmp_path):
    overrides = [*TINY_MODEL, *TINY_TRAIN]
    only = ganzoo.train("sr-tiny", overrides=[*overrides, 'train.phase_steps={"pretrain": 2, "adversarial": 0}'],
                        registry=sr_registry, run_dir=tmp_path / "a", device="cpu")
    both = ganzoo.train("sr-tiny", overrides=overrides, registry=sr_registry, run_dir=tmp_path / "b", device="cpu")
    torch.manual_seed(0)  # train.seed: the discriminator as the runs initialised it
    fresh = SRGAN(SRGANConfig(scale=4, blocks=1, g_channels=4, d_channels=4, d_dense=8, content="pixel"), only.data.info)
    d_init, d_only, d_both = (m.discriminator.state_dict() for m in (fresh, only.model, both.model))
    assert all(torch.equal(d_init[k], d_only[k]) for k in d_init)  # the warm-up never touched D ...
    assert not torch.equal(d_init["features.0.weight"], d_both["features.0.weight"])  # ... the adversarial steps did
    assert not torch.equal(fresh.generator.state_dict()["head.0.weight"], only.model.generator.state_dict()["head.0.weight"])
    assert only.model.phase == "pretrain" and both.model.phase == "adversarial"
    phases = [json.loads(line)["phase"] for line in (tmp_path / "b" / "history.jsonl").read_text().splitlines()]
    assert phases == ["pretrain", "pretrain", "adversarial", "adversarial"]
    scores = json.loads((tmp_path / "b" / "metrics.json").read_text())["heldout"]["scores"]
    assert {"psnr", "ssim", "bicubic_psnr", "bicubic_ssim"} <= scores.keys()


# ---------------------------------------------------------------- ganzoo upscale


def test_upscale_any_size_through_the_command_line(sr_registry, tmp_path, cli):
    ganzoo.train("sr-tiny", overrides=[*TINY_MODEL, *TINY_TRAIN], registry=sr_registry, run_dir=tmp_path / "run", device="cpu")
    photos(tmp_path / "in", n=2, size=(30, 21), seed=3)
    done = cli("upscale", str(tmp_path / "run"), str(tmp_path / "in" / "p0.png"), "--out", str(tmp_path / "big.png"),
               "--tile", "26", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "big.png").size == (120, 84)
    whole = cli("upscale", str(tmp_path / "run"), str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--tile", "0", cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    a, b = (read_image(p).int() for p in (tmp_path / "big.png", tmp_path / "out" / "p0.png"))
    assert (a - b).abs().max() <= 1  # tiled and one-piece agree (up to rounding to 8 bits)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["p0.png", "p1.png"]


def test_upscale_refuses_other_models(tmp_path, cli):
    small = ["model_options.g_channels=4", "model_options.d_channels=4", "train.batch_size=2", "train.steps=1", "dataset_options.limit=8"]
    ganzoo.train("dcgan-mnist-5k", overrides=small, registry=REGISTRY, run_dir=tmp_path / "dc", device="cpu")
    photos(tmp_path, n=1)
    done = cli("upscale", str(tmp_path / "dc"), str(tmp_path / "p0.png"), "--out", str(tmp_path / "o.png"), cwd=tmp_path)
    assert done.returncode == 1 and "does not upscale images" in done.stderr and done.stderr.count("\n") == 1
