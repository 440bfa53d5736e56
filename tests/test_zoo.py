"""Driven by the registry: every model and every zoo entry builds, steps and samples on the CPU."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.build import build_model, load_data
from ganzoo.data import read_idx
from ganzoo.data.idx import BUNDLED
from offline_sets import trusting_checksums, write_celeba, write_cifar10, write_folder, write_lsun

REGISTRY = ganzoo.load_registry()
SMALL_TRAIN = ["train.batch_size=2", "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0",
               "train.grid_size=4", "train.steps=2", "train.epochs=0", "train.eval_batches=1"]
PUBLIC_PAIRS = ("facades", "cityscapes", "maps", "edges2shoes")
USER_FOLDERS = {"image-folder": "my-images"}  # datasets of a folder the user names: the generated folder they get here


def small_overrides(entry: ganzoo.ZooEntry, data_dir: Path | None = None) -> list[str]:
    """Tiny networks and data for any entry: the tiny options its model's and dataset's specs
    give; a dataset of a folder the user names gets the generated one in ``data_dir``."""
    model, data = REGISTRY.spec("model", entry.model), REGISTRY.spec("dataset", entry.dataset)
    phases = [p.name for p in getattr(model.build, "phases", ())]
    steps = [f"train.phase_steps={json.dumps({name: 1 for name in phases})}", "train.steps=0"] if len(phases) > 1 else []
    folder = []
    if data_dir and entry.dataset in USER_FOLDERS and not entry.dataset_options.get("path"):
        folder = [f"dataset_options.path={data_dir / USER_FOLDERS[entry.dataset]}"]
    return ([f"model_options.{k}={json.dumps(v)}" for k, v in model.tiny_options.items()]
            + [f"dataset_options.{k}={json.dumps(v)}" for k, v in data.tiny_options.items()] + folder + SMALL_TRAIN + steps)


@pytest.fixture(scope="module", autouse=True)
def _generated_sets_pass_checksums():
    with trusting_checksums():
        yield


@pytest.fixture(scope="module")
def offline_data(tmp_path_factory) -> Path:
    """A data directory in torchvision's layout, filled with the bundled real digits.

    The full-set entries then load through torchvision's own MNIST / FashionMNIST readers,
    offline (Fashion-MNIST has MNIST's file format; its pixels here are digits).
    """
    root = tmp_path_factory.mktemp("data")
    import gzip

    for folder in ("MNIST", "FashionMNIST"):
        raw = root / folder / "raw"
        raw.mkdir(parents=True)
        for src, name in (("train-5k-images-idx3-ubyte.gz", "train-images-idx3-ubyte"), ("train-5k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte")):
            (raw / name).write_bytes(gzip.decompress((BUNDLED / src).read_bytes()))
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # torchvision checks the test files exist too
            shutil.copy(raw / name.replace("t10k", "train"), raw / name)
    for name in PUBLIC_PAIRS:  # the public pix2pix sets' aligned layout, with generated A|B images
        for split in ("train", "val", "test"):
            write_aligned(root / "pix2pix" / name / split, n=4, size=40)
    for split in ("train", "valid"):  # DIV2K's layout, with generated photographs
        write_aligned(root / "DIV2K" / f"DIV2K_{split}_HR", n=3, size=40)
    write_folder(root / "my-images", {"cats": 3, "dogs": 3})  # a user's folder, one subfolder per class
    write_cifar10(root)
    write_celeba(root)
    write_lsun(root)
    for split in ("train", "val"):  # CUB's layout: images/CLASS/NAME.jpg with text_c10/CLASS/NAME.txt
        write_aligned(root / "cub" / split / "images" / "001.Bird", n=3, size=20)
        (root / "cub" / split / "text_c10" / "001.Bird").mkdir(parents=True)
        for i in range(3):
            (root / "cub" / split / "text_c10" / "001.Bird" / f"{i}.txt").write_text("a small red bird\nthis bird has a short beak\n")
    return root


def write_aligned(folder: Path, n: int, size: int, seed: int = 0) -> None:
    """``n`` aligned pix2pix files (A | B side by side, each size x size) of random colours."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    for i in range(n):
        pixels = (torch.rand(size, 2 * size, 3, generator=g) * 255).to(torch.uint8).numpy()
        Image.fromarray(pixels).save(folder / f"{i}.jpg")


@pytest.mark.parametrize("name", sorted(REGISTRY.entries))
def test_every_entry_trains_two_steps_and_previews(name, offline_data, tmp_path):
    overrides = small_overrides(REGISTRY.entry(name), offline_data)
    run = ganzoo.train(name, overrides=overrides, registry=REGISTRY, run_dir=tmp_path / "run", device="cpu", data_dir=offline_data)
    assert run.status == "finished" and run.step == run.total_steps >= 2
    preview = run.sample_fixed()
    assert torch.isfinite(preview).all()
    loaded = ganzoo.load_checkpoint(tmp_path / "run", registry=REGISTRY, device="cpu")
    if loaded.model.capabilities.translates:  # scored on held-out pairs, against the baselines
        scores = json.loads((tmp_path / "run" / "metrics.json").read_text())["heldout"]["scores"]
        directions = loaded.model.capabilities.directions  # several: each one's figures under its name (a2b_l1, b2a_l1)
        prefixes = [f"{d.name}_" for d in directions] if len(directions) > 1 else [""]
        assert {p + figure for p in prefixes for figure in ("l1", "psnr", "ssim")} <= scores.keys()
        assert any(k.endswith("_psnr") for k in scores)  # next to a baseline (identity, mean image, bicubic)
    else:
        caption = {"text": "a small thing"} if loaded.info.vocabulary else {}  # text-conditional models need a caption
        images = ganzoo.sample(loaded, n=3, **caption)
        assert images.shape == (3, loaded.info.channels, loaded.info.height, loaded.info.width)
        assert torch.isfinite(images).all()
    assert_export_round_trip(loaded, tmp_path / "export")


REFERENCE_ENTRIES = {name: next(e for e in sorted(REGISTRY.entries) if REGISTRY.entries[e].entry is not None
                                 and REGISTRY.entries[e].entry.model == name)
                     for name, spec in REGISTRY.models.items() if spec.reference_loop is not None
                     and any(s.entry is not None and s.entry.model == name for s in REGISTRY.entries.values())}


@pytest.mark.parametrize("name", sorted(REFERENCE_ENTRIES.values()))
def test_every_reference_loop_of_the_speed_benchmark_trains(name, offline_data):
    """benchmarks/speed.py times each model's reference loop; here each runs two steps and moves the weights, and
    refuses data without a full batch."""
    from ganzoo.build import build_model, load_data

    entry = REGISTRY.entry(name, small_overrides(REGISTRY.entry(name), offline_data))
    data = load_data(REGISTRY, entry, offline_data)
    model = build_model(REGISTRY, entry, data.info)
    model.setup_training()
    model.set_phase(model.phases[-1].name)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    reference_loop = REGISTRY.spec("model", entry.model).reference_loop
    reference_loop(entry, model, data, torch.device("cpu"))(2)
    assert any(not torch.equal(v, before[k]) for k, v in model.state_dict().items())
    too_big = REGISTRY.entry(name, [*small_overrides(REGISTRY.entry(name), offline_data), f"train.batch_size={len(data) + 1}"])
    with pytest.raises(ValueError, match=f"needs at least {len(data) + 1} items, the data has {len(data)}"):
        reference_loop(too_big, model, data, torch.device("cpu"))  # an error, not a loop that never ends


def assert_export_round_trip(loaded, folder: Path) -> None:
    """The exported folder holds the inference weights only and gives the checkpoint's outputs, bit for bit."""
    ganzoo.export(loaded.path, folder, registry=REGISTRY)
    again = ganzoo.load_checkpoint(folder, registry=REGISTRY, device="cpu")
    assert again.entry.to_dict() == loaded.entry.to_dict() and again.step == loaded.step
    from safetensors import safe_open

    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        stored = {key.split(".")[0] for key in f.keys()}
    assert not stored & set(loaded.model.named_networks("discriminator"))  # no discriminator, no optimizer state
    caps = loaded.model.capabilities
    if caps.translates:
        for direction in caps.directions:
            x = torch.rand(2, *loaded.info.shape(direction.source), generator=torch.Generator().manual_seed(0)) * 2 - 1
            assert torch.equal(ganzoo.translate(loaded, x, direction=direction.name), ganzoo.translate(again, x, direction=direction.name))
    else:
        caption = {"text": "a small thing"} if loaded.info.vocabulary else {}
        assert torch.equal(ganzoo.sample(loaded, n=4, seed=5, **caption), ganzoo.sample(again, n=4, seed=5, **caption))


@pytest.mark.parametrize("model", sorted(REGISTRY.models))
@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 3)])
def test_every_model_builds_and_previews_for_several_image_sizes(model, size, channels):
    spec = REGISTRY.spec("model", model)
    info = spec.example_data(size, channels)
    entry = ganzoo.ZooEntry("x", model, "mnist-5k", "bce", model_options=spec.tiny_options)
    if info is None:  # a size the model says it does not take: data of a size it takes, resized, is a one-line error
        supported = next(spec.example_data(s, channels) for s in (32, 64) if spec.example_data(s, channels) is not None)
        with pytest.raises(ganzoo.ConfigError) as refused:  # the model's one-line ValueError, named with entry and model
            build_model(REGISTRY, entry, dataclasses.replace(supported, height=size, width=size))
        assert "\n" not in str(refused.value)
        return
    net = build_model(REGISTRY, entry, info)
    examples = {"image": torch.rand(4, channels, size, size) * 2 - 1, "label": torch.arange(4), "caption": torch.randint(0, 4, (4, 2, 5))}
    if info.input_channels:
        examples["input"] = torch.rand(4, *info.shape("input")) * 2 - 1
    preview = net.preview(net.preview_inputs(examples, 4, torch.Generator().manual_seed(0)))
    caps = net.capabilities
    width = 3 * size if caps.translates else size  # translators' previews show input | output | target
    rows = 4 * len(caps.directions) if caps.translates else 4  # in rows for each direction
    assert preview.shape == (rows, channels, size, width)
    assert preview.min() >= -1 and preview.max() <= 1


def test_bundled_data_is_real_mnist():
    images = read_idx(BUNDLED / "train-5k-images-idx3-ubyte.gz")
    labels = read_idx(BUNDLED / "train-5k-labels-idx1-ubyte.gz")
    assert images.shape == (5000, 28, 28) and images.dtype == torch.uint8
    assert torch.bincount(labels.long()).tolist() == [500] * 10
    data = load_data(REGISTRY, REGISTRY.entry("dcgan-mnist-5k"))
    assert data.info == ganzoo.DataInfo(1, 28, 28, 10)


def test_resizing_option(tmp_path):
    data = load_data(REGISTRY, REGISTRY.entry("dcgan-mnist-5k", ["dataset_options.image_size=32", "dataset_options.limit=10"]))
    assert data.tensors["image"].shape == (10, 1, 32, 32)
