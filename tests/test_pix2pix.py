"""The Pix2Pix plugin: both data layouts and their errors, U-Net and PatchGAN shapes, training
through the shared loop (streamed from files, resumed exactly), held-out scores, ``ganzoo translate``."""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import ganzoo
from ganzoo import DataError
from ganzoo.data import StreamBatches, make_batches
from ganzoo.images import read_image
from ganzoo.evaluation.paired import paired_scores
from ganzoo_pix2pix import PairsConfig, PatchDiscriminator, UNetGenerator, outline
from ganzoo_pix2pix.data import load_pairs

REGISTRY = ganzoo.load_registry()
TINY = ["model_options.g_channels=4", "model_options.d_channels=4", "model_options.d_layers=1", "train.batch_size=2",
        "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=2", "train.epochs=0"]


def save(pixels: torch.Tensor, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    array = pixels.permute(1, 2, 0).numpy()
    Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(path)


def aligned_set(root: Path, n: int = 6, size: int = 24) -> Path:
    """A|B files where A is random and B is A with its colour channels reversed (so A -> B is learnable
    and checkable); PNG so that pixels survive exactly."""
    g = torch.Generator().manual_seed(0)
    for split, count in (("train", n), ("val", 2), ("test", 2)):
        for i in range(count):
            a = (torch.rand(3, size, size, generator=g) * 255).to(torch.uint8)
            save(torch.cat([a, a.flip(0)], dim=2), root / split / f"{i:03d}.png")
    return root


def folder_set(root: Path, names_a: list[str], names_b: list[str], size: int = 16) -> Path:
    g = torch.Generator().manual_seed(1)
    for sub, names in (("A", names_a), ("B", names_b)):
        for name in names:
            save((torch.rand(3, size, size, generator=g) * 255).to(torch.uint8), root / sub / f"{name}.png")
    return root


# ---------------------------------------------------------------- data


def test_aligned_layout_splits_halves_and_direction(tmp_path):
    root = aligned_set(tmp_path / "set")
    config = PairsConfig(path=str(root), load_size=24, crop_size=24, flip=False)
    item = load_pairs(config, tmp_path, "train").item(0, None)
    assert item["input"].shape == item["image"].shape == (3, 24, 24)
    assert torch.equal(item["image"], item["input"].flip(0))  # B is A with reversed channels
    reverse = load_pairs(PairsConfig(path=str(root), direction="BtoA", load_size=24, crop_size=24), tmp_path, "train").item(0, None)
    assert torch.equal(reverse["input"], item["image"]) and torch.equal(reverse["image"], item["input"])
    assert len(load_pairs(config, tmp_path, "val")) == 2


def test_jitter_crops_and_flips_input_and_target_alike_and_is_seeded(tmp_path):
    data = load_pairs(PairsConfig(path=str(aligned_set(tmp_path / "set")), load_size=30, crop_size=16), tmp_path, "train")
    items = [data.item(0, torch.Generator().manual_seed(s)) for s in range(8)]
    for it in items:
        assert it["input"].shape == (3, 16, 16)
        assert torch.equal(it["image"], it["input"].flip(0))  # the same crop and flip on both halves
    assert len({it["input"].sum().item() for it in items}) > 1  # the crops differ between seeds
    again = data.item(0, torch.Generator().manual_seed(3))
    assert torch.equal(again["input"], items[3]["input"])


def test_folders_layout_matches_by_name(tmp_path):
    root = folder_set(tmp_path / "own", ["a", "b", "c"], ["a", "b", "c"])
    data = load_pairs(PairsConfig(path=str(root), layout="folders", load_size=16, crop_size=16), tmp_path, "train")
    assert [p[0].stem for p in data.pairs] == ["a", "b", "c"] and [p[1].parent.name for p in data.pairs] == ["B"] * 3
    assert torch.equal(data.item(1, None)["input"], read_image(root / "A" / "b.png"))


def test_mismatched_pairs_are_a_clear_error(tmp_path):
    root = folder_set(tmp_path / "own", ["a", "b", "extra"], ["a", "b", "other"])
    with pytest.raises(DataError, match=r"1 only in .*A/ \(e\.g\. extra\); 1 only in .*B/ \(e\.g\. other\)"):
        load_pairs(PairsConfig(path=str(root), layout="folders"), tmp_path, "train")


def test_missing_folders_and_splits_are_clear_errors(tmp_path):
    (tmp_path / "own" / "A").mkdir(parents=True)
    with pytest.raises(DataError, match="no train/A and train/B folders"):
        load_pairs(PairsConfig(path=str(tmp_path / "own"), layout="folders"), tmp_path, "train")
    root = aligned_set(tmp_path / "set")
    (root / "val").rename(root / "elsewhere")
    with pytest.raises(DataError, match="has no val/ folder"):
        load_pairs(PairsConfig(path=str(root)), tmp_path, "val")
    with pytest.raises(DataError, match="is not a folder"):
        load_pairs(PairsConfig(path=str(tmp_path / "nowhere")), tmp_path, "train")


def test_offline_download_is_one_actionable_line(tmp_path, monkeypatch):
    def offline(url, root, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr("torchvision.datasets.utils.download_and_extract_archive", offline)
    with pytest.raises(DataError) as err:
        load_pairs(PairsConfig(name="facades"), tmp_path, "train")
    message = str(err.value)
    assert "\n" not in message and "efrosgans" in message and str(tmp_path / "pix2pix" / "facades") in message
    with pytest.raises(DataError, match="download is off"):
        load_pairs(PairsConfig(name="facades", download=False), tmp_path, "train")


def test_corrupt_image_names_the_file(tmp_path):
    root = aligned_set(tmp_path / "set")
    (root / "train" / "001.png").write_bytes(b"not a png")
    data = load_pairs(PairsConfig(path=str(root)), tmp_path, "train")
    with pytest.raises(DataError, match=r"cannot read image .*001\.png"):
        data.item(1, None)


def test_bad_options_are_config_errors():
    with pytest.raises(ganzoo.ConfigError, match="direction"):
        REGISTRY.entry("pix2pix-facades", ["dataset_options.direction=sideways"])
    with pytest.raises(ganzoo.ConfigError, match="norm"):
        REGISTRY.entry("pix2pix-facades", ["model_options.norm=layer"])


def test_digit_edges_are_outlines_and_hold_out_every_tenth_digit():
    entry = REGISTRY.entry("pix2pix-digit-edges")
    train = ganzoo.build.load_data(REGISTRY, entry)
    val = ganzoo.build.load_data(REGISTRY, entry, split="val")
    assert len(train) == 4500 and len(val) == 500
    assert torch.bincount(val.tensors["label"]).tolist() == [50] * 10
    square = torch.zeros(1, 1, 9, 9, dtype=torch.uint8)
    square[..., 2:7, 2:7] = 255
    edge = outline(square)[0, 0]
    assert edge[4, 4] == 0 and edge[2, 2] == 255 and edge[1, 4] == 255 and edge[0, 0] == 0


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("size", [32, 64, 128, 256])
def test_unet_depth_follows_the_image(size):
    net = UNetGenerator(1, 3, (size, size), width=4)
    assert len(net.down) == min(8, size.bit_length() - 1)
    assert net(torch.randn(2, 1, size, size)).shape == (2, 3, size, size)


def test_unet_rejects_sizes_it_cannot_halve():
    with pytest.raises(ValueError, match="divisible by 32"):
        UNetGenerator(3, 3, (48, 48), depth=5)
    assert UNetGenerator(3, 3, (48, 64), width=4)(torch.randn(1, 3, 48, 64)).shape == (1, 3, 48, 64)  # depth 4 fits both


def test_unet_stages_on_maps_of_2x2_or_less_stay_fp32_under_autocast():
    net = UNetGenerator(1, 1, (32, 32), width=4)  # maps 16, 8, 4, 2, 1
    dtypes = {}
    for name, module in net.named_modules():
        if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
            module.register_forward_hook(lambda m, i, out, name=name: dtypes.__setitem__(name, out.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(torch.randn(2, 1, 32, 32))
    assert out.shape == (2, 1, 32, 32)
    in_fp32 = {"down.3.1", "down.4.1", "up.0.1", "up.1.1"}  # 4x4 -> 2x2, 2x2 -> 1x1, 1x1 -> 2x2, 2x2 -> 4x4
    assert {name for name, dtype in dtypes.items() if dtype == torch.float32} == in_fp32
    assert {name for name, dtype in dtypes.items() if dtype == torch.bfloat16} == set(dtypes) - in_fp32
    with torch.no_grad():  # without autocast the stages run as they are
        assert net.double()(torch.randn(1, 1, 32, 32, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("bias", [False, True])
def test_the_bottleneck_convolutions_compute_only_their_centre_taps_and_equal_the_full_ones(bias):
    from ganzoo_pix2pix.networks import CentreConv2d, CentreConvTranspose2d

    torch.manual_seed(0)
    for centre, full, x in ((CentreConv2d(6, 5, bias), nn.Conv2d(6, 5, 4, 2, 1, bias=bias), torch.randn(3, 6, 2, 2)),
                            (CentreConvTranspose2d(6, 5, bias), nn.ConvTranspose2d(6, 5, 4, 2, 1, bias=bias),
                             torch.randn(3, 6, 1, 1))):
        full.load_state_dict(centre.state_dict())  # the same parameters: checkpoints of either load into the other
        for inp in (x, x.contiguous(memory_format=torch.channels_last)):
            inp = inp.clone().requires_grad_()
            out = centre(inp)
            assert out.shape == full(inp).shape
            torch.testing.assert_close(out, full(inp))
            grads = torch.autograd.grad(out.square().sum(), [inp, *centre.parameters()])
            expected = torch.autograd.grad(full(inp).square().sum(), [inp, *full.parameters()])
            for got, want in zip(grads, expected):
                torch.testing.assert_close(got, want)
        assert not grads[1][:, :, 0].any() and not grads[1][:, :, :, 3].any()  # the outer taps only ever meet padding
        bigger = torch.randn(2, 6, 4, 4)  # any other map goes through the whole convolution
        torch.testing.assert_close(centre(bigger), full(bigger))


def test_the_unet_bottleneck_is_computed_from_the_centre_taps_when_it_is_1x1(monkeypatch):
    from ganzoo_pix2pix.networks import CentreConv2d, CentreConvTranspose2d

    net = UNetGenerator(1, 1, (32, 32), width=4)  # maps 16, 8, 4, 2, 1
    assert {name for name, m in net.named_modules() if isinstance(m, (CentreConv2d, CentreConvTranspose2d))} == {"down.4.1", "up.0.1"}
    full = []  # the maps that went through a whole convolution
    for name in ("conv2d", "conv_transpose2d"):
        original = getattr(F, name)
        monkeypatch.setattr(F, name, lambda x, *args, _f=original, **kw: full.append(tuple(x.shape[-2:])) or _f(x, *args, **kw))
    assert net(torch.randn(2, 1, 32, 32)).shape == (2, 1, 32, 32)
    # every convolution but the one on 2x2 (to 1x1) and the transposed one on 1x1 (to 2x2)
    assert sorted(full) == [(2, 2), (4, 4), (4, 4), (8, 8), (8, 8), (16, 16), (16, 16), (32, 32)]


def test_patchgan_sees_70x70_patches():
    net = PatchDiscriminator(6, width=8, layers=3).eval()
    x = torch.zeros(1, 6, 256, 256, requires_grad=True)
    out = net(x)
    assert out.shape == (1, 1, 30, 30)
    out[0, 0, 15, 15].backward()
    rows, cols = (x.grad[0].abs().sum(0) > 0).nonzero().T
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


# ---------------------------------------------------------------- training through the one loop


@pytest.fixture
def aligned_entry(tmp_path, write_zoo):
    root = aligned_set(tmp_path / "set", n=8, size=20)
    zoo = write_zoo({"p2p-tiny": {"model": "pix2pix", "dataset": "pix2pix", "loss": "bce",
                                  "dataset_options": {"path": str(root), "load_size": 20, "crop_size": 16},
                                  "train": {"batch_size": 2, "steps": 4}}})
    return ganzoo.load_registry([zoo])


def test_item_data_streams_and_resumes_exactly(aligned_entry, tmp_path):
    registry = aligned_entry
    whole = ganzoo.train("p2p-tiny", overrides=[*TINY, "train.steps=6"], registry=registry, run_dir=tmp_path / "a", device="cpu")
    assert isinstance(whole.batches, StreamBatches) and whole.epoch == 1
    ganzoo.train("p2p-tiny", overrides=[*TINY, "train.steps=3"], registry=registry, run_dir=tmp_path / "b", device="cpu")
    resumed = ganzoo.train("p2p-tiny", overrides=["train.steps=6"], registry=registry, resume=tmp_path / "b", device="cpu")
    assert resumed.step == 6
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key


def test_workers_do_not_change_the_batches(aligned_entry, tmp_path):
    data = ganzoo.build.load_data(aligned_entry, aligned_entry.entry("p2p-tiny"))
    batches = [make_batches(data, 2, torch.device("cpu"), seed=5, workers=w) for w in (0, 2)]
    loader = None
    for _ in range(5):  # crosses an epoch boundary
        (first, end0), (second, end1) = (b.next() for b in batches)
        assert end0 == end1 and torch.equal(first["input"], second["input"]) and torch.equal(first["image"], second["image"])
        if loader is None:
            loader = batches[1]._it
        assert batches[1]._it is loader  # one loader (and its worker processes) for the whole run
    state = batches[0].state_dict()
    restored = make_batches(data, 2, torch.device("cpu"), seed=5, workers=2)
    restored.load_state_dict(state)
    assert torch.equal(restored.next()[0]["image"], batches[0].next()[0]["image"])  # resume draws the same batch


def test_training_writes_heldout_scores_with_baselines(aligned_entry, tmp_path):
    run = ganzoo.train("p2p-tiny", overrides=TINY, registry=aligned_entry, run_dir=tmp_path / "run", device="cpu")
    record = json.loads((tmp_path / "run" / "metrics.json").read_text())["heldout"]
    assert record["split"] == "val" and record["items"] == 2 and record["step"] == run.step
    # the identity baseline of this set is known: B is A with its channels reversed
    val = ganzoo.build.load_data(aligned_entry, run.entry, split="val")
    batch = next(ganzoo.data.eval_batches(val, 2, torch.device("cpu")))
    expected = paired_scores(batch["input"], batch["image"])["l1"].mean().item()
    assert record["scores"]["identity_l1"] == pytest.approx(expected, rel=1e-6)
    assert (tmp_path / "run" / "samples.png").exists()


def test_paired_scores_known_values():
    x = torch.rand(2, 3, 32, 32) * 1.6 - 0.8
    same = paired_scores(x, x)
    assert same["l1"].eq(0).all() and same["ssim"].sub(1).abs().lt(1e-4).all() and same["psnr"].isinf().all()
    shifted = paired_scores(x + 0.2, x)  # 0.1 on the [0, 1] scale: MSE 0.01 -> PSNR 20 dB
    assert shifted["l1"] == pytest.approx(torch.full((2,), 0.1), abs=1e-5)
    assert shifted["psnr"] == pytest.approx(torch.full((2,), 20.0), abs=1e-3)


# ---------------------------------------------------------------- ganzoo translate / evaluate


@pytest.fixture(scope="module")
def digit_run(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    ganzoo.train("pix2pix-digit-edges", overrides=[*TINY, "train.steps=2", "train.eval_batches=1"], registry=REGISTRY,
                 run_dir=run_dir, device="cpu")
    return run_dir


def test_translate_one_image_resizing_it(digit_run, tmp_path, cli):
    save(torch.full((1, 28, 28), 200, dtype=torch.uint8), tmp_path / "digit.png")
    done = cli("translate", str(digit_run), str(tmp_path / "digit.png"), "--out", str(tmp_path / "out.png"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "resized from 28x28 to the model's input size 32x32" in done.stderr
    assert Image.open(tmp_path / "out.png").size == (32, 32)


def test_translate_a_folder(digit_run, tmp_path, cli):
    for name in ("one", "two"):
        save(torch.zeros(1, 32, 32, dtype=torch.uint8), tmp_path / "in" / f"{name}.png")
    done = cli("translate", str(digit_run), str(tmp_path / "in"), "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["one.png", "two.png"]
    assert "resized" not in done.stderr


def test_translate_errors_are_one_line(digit_run, tmp_path, cli):
    (tmp_path / "broken.png").write_bytes(b"junk")
    done = cli("translate", str(digit_run), str(tmp_path / "broken.png"), "--out", str(tmp_path / "o.png"), cwd=tmp_path)
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "cannot read image" in done.stderr
    done = cli("translate", str(tmp_path / "nothing.pt"), str(tmp_path / "broken.png"), "--out", "o.png", cwd=tmp_path)
    assert done.returncode == 1 and "no checkpoint at" in done.stderr and "Traceback" not in done.stderr


def test_sampling_a_translation_model_says_what_to_use(digit_run, tmp_path, cli):
    done = cli("sample", str(digit_run), "--out", str(tmp_path / "s.png"), cwd=tmp_path)
    assert done.returncode == 1 and "ganzoo translate" in done.stderr


def test_evaluate_command_prints_and_records_scores(digit_run, tmp_path, cli):
    (digit_run / "metrics.json").unlink()
    done = cli("evaluate", str(digit_run), "--batches", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "psnr" in done.stdout and "identity_psnr" in done.stdout and "on the val split, 2 items" in done.stdout
    record = json.loads((digit_run / "metrics.json").read_text())["heldout"]
    assert record["items"] == 2 and set(record["scores"]) >= {"l1", "psnr", "ssim"}


def test_lpips_is_skipped_and_said_without_alexnet_weights(digit_run, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    record = ganzoo.evaluate(digit_run, limit=1, registry=REGISTRY, device="cpu", write=False)
    assert "lpips" not in record["scores"] and record["lpips"].startswith("skipped: no AlexNet weights at")
