"""Driven by the registry: every model and every zoo entry builds, steps and samples on the CPU."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

import ganzoo
from ganzoo.api import build_model, load_data
from ganzoo.data import read_idx

REGISTRY = ganzoo.load_registry()
BUNDLED = Path(__import__("ganzoo_datasets").__file__).with_name("data")
SMALL = ["model_options.g_channels=8", "model_options.d_channels=8", "dataset_options.limit=64", "train.batch_size=16",
         "train.log_every=1", "train.sample_every=0", "train.checkpoint_every=0", "train.grid_size=4", "train.steps=2",
         "train.epochs=0"]


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
    return root


@pytest.mark.parametrize("name", sorted(REGISTRY.entries))
def test_every_entry_trains_two_steps_and_samples(name, offline_data, tmp_path):
    run = ganzoo.train(name, overrides=SMALL, registry=REGISTRY, run_dir=tmp_path / "run", device="cpu", data_dir=offline_data)
    assert run.status == "finished" and run.step == 2
    images = ganzoo.sample(tmp_path / "run", n=3, registry=REGISTRY, device="cpu")
    assert images.shape == (3, *run.data.tensors["image"].shape[1:])
    assert torch.isfinite(images).all()


@pytest.mark.parametrize("model", sorted(REGISTRY.models))
@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 3)])
def test_every_model_builds_for_several_image_sizes(model, size, channels):
    info = ganzoo.DataInfo(channels=channels, height=size, width=size, num_classes=10)
    entry = ganzoo.ZooEntry("x", model, "mnist-5k", "bce", model_options={"g_channels": 8, "d_channels": 8})
    net = build_model(REGISTRY, entry, info)
    labels = torch.arange(4) % 10 if net.num_classes else None
    fake = net.sample(4, labels)
    assert fake.shape == (4, channels, size, size)
    assert net.discriminator(fake, labels).shape == (4,)


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
