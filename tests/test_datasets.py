"""Training on your own images: the image-folder dataset, the bundled emoji and the torchvision sets."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import ganzoo
from ganzoo.data import make_batches
from ganzoo.errors import DataError, GanzooWarning
from ganzoo_datasets import folder as folder_module
from ganzoo_datasets.emoji import GROUPS, EmojiConfig, load_emoji
from ganzoo_datasets.folder import FolderConfig, load_folder
from ganzoo_datasets.photos import LSUNConfig, PhotoConfig, load_celeba, load_cifar10, load_lsun
from offline_sets import pixels, trusting_checksums, write_celeba, write_cifar10, write_folder, write_lsun

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".webp": "WEBP", ".bmp": "BMP", ".tif": "TIFF"}


def load(path: Path, split: str = "train", **options):
    return load_folder(FolderConfig(path=str(path), **options), path.parent, split)


def one_line_error(fn, match: str) -> str:
    with pytest.raises(DataError, match=match) as info:
        fn()
    assert "\n" not in str(info.value)
    return str(info.value)


# ---------------------------------------------------------------- formats, modes, labels


def _every_mode(rng: np.random.Generator, h: int, w: int) -> dict[str, Image.Image]:
    rgb = pixels(rng, h, w)
    alpha = np.full((h, w), 255, np.uint8)
    return {"L": Image.fromarray(rgb[..., 0]), "RGB": Image.fromarray(rgb),
            "RGBA": Image.fromarray(np.dstack([rgb, alpha])), "P": Image.fromarray(rgb).convert("P"),
            "I;16": Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)}


@pytest.mark.parametrize("channels", [1, 3])
def test_every_format_and_mode_is_read_on_purpose(tmp_path, channels):
    rng = np.random.default_rng(0)
    folder = _mkdir(tmp_path / "imgs")
    written = 0
    for suffix, kind in FORMATS.items():
        for mode, image in _every_mode(rng, 30, 40).items():
            try:
                image.save(folder / f"{mode.replace(';', '')}{suffix}", kind)
                written += 1
            except (OSError, ValueError, KeyError):
                pass  # a mode this format cannot store (a JPEG with alpha, a 16-bit WebP)
    assert written >= 15
    data = load(tmp_path / "imgs", image_size=16, channels=channels, cache=False)
    images = data.plain()["image"]
    assert images.shape == (written, channels, 16, 16) and images.dtype == torch.uint8
    grey16 = data.plain()["image"][[i for i, p in enumerate(sorted((tmp_path / "imgs").iterdir())) if p.stem == "I16"][0]]
    assert grey16.float().std() > 5  # 16-bit scaled down, not clipped to white


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_class_subfolders_give_labels_unless_told_otherwise(tmp_path):
    write_folder(tmp_path / "pets", {"cats": 3, "dogs": 2, "zebras": 1})
    labelled = load(tmp_path / "pets", image_size=16)
    assert labelled.class_names == ("cats", "dogs", "zebras")
    assert labelled.tensors["label"].tolist() == [0, 0, 0, 1, 1, 2]
    assert labelled.info.num_classes == 3
    unlabelled = load(tmp_path / "pets", image_size=16, labels="none")  # every image below the folder, recursively
    assert len(unlabelled) == 6 and "label" not in unlabelled.tensors and unlabelled.info.num_classes == 0
    write_folder(tmp_path / "flat", 4)
    (tmp_path / "flat" / "extra").mkdir()
    write_folder(tmp_path / "flat" / "extra", 2, seed=1)
    flat = load(tmp_path / "flat", image_size=16)  # images at the top: unlabelled, subfolders included
    assert len(flat) == 6 and flat.info.num_classes == 0


def test_transparency_is_composed_over_the_configured_background(tmp_path):
    _mkdir(tmp_path / "a")
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[:, :10] = (0, 0, 255, 255)  # left half opaque blue, right half transparent
    rgba[:, 10:, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "a" / "x.png")
    red = load(tmp_path / "a", image_size=20, background="#ff0000", cache=False).plain()["image"][0]
    assert red[:, :, 15].float().mean(1).tolist() == [255.0, 0.0, 0.0]  # the transparent half is the background
    assert red[:, :, 2].float().mean(1).tolist() == [0.0, 0.0, 255.0]
    white = load(tmp_path / "a", image_size=20, cache=False).plain()["image"][0]
    assert white[:, :, 15].float().mean().item() == 255.0
    with pytest.raises(ValueError, match="not a colour"):
        FolderConfig(path="x", background="sky-ish")


def test_odd_file_names_are_read(tmp_path):
    _mkdir(tmp_path / "odd folder ü")
    for name in ("a photo.png", "café ☕.png", "日本.png"):
        Image.fromarray(pixels(np.random.default_rng(0), 20, 20)).save(tmp_path / "odd folder ü" / name)
    assert len(load(tmp_path / "odd folder ü", image_size=8)) == 3


# ---------------------------------------------------------------- memory, streaming, cache


def _batches(data, n: int = 5) -> list[dict[str, torch.Tensor]]:
    stream = make_batches(data, batch_size=4, device=torch.device("cpu"), seed=3, workers=0)
    return [stream.next()[0] for _ in range(n)]


def test_streaming_and_in_memory_give_the_same_batches_for_the_same_seed(tmp_path):
    write_folder(tmp_path / "pets", {"cats": 5, "dogs": 5}, size=(36, 30))
    options = dict(image_size=16, load_size=20, crop="random", flip=True)
    memory = load(tmp_path / "pets", storage="memory", **options)
    streamed = load(tmp_path / "pets", storage="stream", cache=False, **options)
    cached = load(tmp_path / "pets", storage="stream", **options)
    assert isinstance(memory, ganzoo.plugin.ImageData) and isinstance(streamed, ganzoo.plugin.ItemData)
    assert isinstance(cached, ganzoo.plugin.ItemData) and cached.stored_path is not None  # memory-mapped cache
    first = _batches(memory)  # 5 batches of 4 from 10 items: two epochs and a half
    for other in (_batches(streamed), _batches(cached)):
        for a, b in zip(first, other):
            assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    plain = _batches(load(tmp_path / "pets", storage="memory", image_size=16, load_size=20))
    assert not all(torch.equal(a["image"], b["image"]) for a, b in zip(first, plain))  # the jitter did something
    assert memory.info.height == 16 and streamed.info.height == 16


def test_the_auto_switch_streams_large_sets(tmp_path):
    write_folder(tmp_path / "a", 6)
    assert isinstance(load(tmp_path / "a", image_size=16), ganzoo.plugin.ImageData)
    assert isinstance(load(tmp_path / "a", image_size=16, memory_mb=0), ganzoo.plugin.ItemData)


def test_the_cache_is_used_and_rebuilt_when_a_file_changes(tmp_path, monkeypatch):
    write_folder(tmp_path / "a", 4)
    first = load(tmp_path / "a", image_size=16).plain()["image"]
    calls = []
    real = folder_module.decode
    monkeypatch.setattr(folder_module, "decode", lambda *a: calls.append(a) or real(*a))
    again = load(tmp_path / "a", image_size=16).plain()["image"]
    assert torch.equal(first, again) and not calls  # nothing decoded the second time
    Image.fromarray(np.zeros((48, 40, 3), np.uint8)).save(tmp_path / "a" / "001.png")  # one image changes
    changed = load(tmp_path / "a", image_size=16).plain()["image"]
    assert len(calls) == 4 and changed[1].max() == 0 and torch.equal(changed[0], first[0])
    load(tmp_path / "a", image_size=16, background="black")  # another option that shapes the images: rebuilt too
    assert len(calls) == 8


# ---------------------------------------------------------------- bad input


def test_empty_folders_and_folders_without_images_are_one_line(tmp_path):
    _mkdir(tmp_path / "empty")
    one_line_error(lambda: load(tmp_path / "empty"), "is empty")
    _mkdir(tmp_path / "text")
    (tmp_path / "text" / "notes.txt").write_text("no images here")
    one_line_error(lambda: load(tmp_path / "text"), "holds no images")
    one_line_error(lambda: load(tmp_path / "missing"), "no folder at")
    write_folder(tmp_path / "pets", {"cats": 2})
    _mkdir(tmp_path / "pets" / "dogs")
    one_line_error(lambda: load(tmp_path / "pets"), r"class folder .*dogs has no images")
    one_line_error(lambda: load_folder(FolderConfig(), tmp_path), "needs a folder")
    one_line_error(lambda: load(tmp_path / "pets", split="test", labels="none"), "test_every")


def test_unreadable_files_are_skipped_with_a_count_or_refused_past_the_stated_share(tmp_path):
    write_folder(tmp_path / "a", 20)
    (tmp_path / "a" / "broken.png").write_bytes(b"not a png")
    good = (tmp_path / "a" / "000.png").read_bytes()
    (tmp_path / "a" / "truncated.png").write_bytes(good[: len(good) // 2])
    with pytest.warns(GanzooWarning, match=r"skipped 2 unreadable image\(s\) of 22 .*broken.png"):
        data = load(tmp_path / "a", image_size=16, max_bad=0.1)
    assert len(data) == 20
    message = one_line_error(lambda: load(tmp_path / "a", image_size=16, cache=False, max_bad=0.05), "2 of 22 images")
    assert "max_bad" in message and "truncated.png" in message


def test_small_images_are_upsampled_with_a_warning_or_refused(tmp_path):
    write_folder(tmp_path / "a", 3, size=(10, 12))
    with pytest.warns(GanzooWarning, match=r"upsampled 3 image\(s\) smaller than 16x16"):
        assert load(tmp_path / "a", image_size=16).plain()["image"].shape == (3, 3, 16, 16)
    one_line_error(lambda: load(tmp_path / "a", image_size=16, small="refuse", cache=False), "smaller than load_size 16")


def test_bad_options_name_the_key():
    for options, key in ((dict(channels=2), "channels"), (dict(labels="maybe"), "labels"), (dict(crop="left"), "crop"),
                         (dict(image_size=32, load_size=16), "load_size"), (dict(max_bad=2.0), "max_bad")):
        with pytest.raises(ValueError, match=f"dataset_options.{key}"):
            FolderConfig(path="x", **options)


def test_the_command_line_says_what_is_wrong_with_a_folder_in_one_line(tmp_path, cli):
    _mkdir(tmp_path / "empty")
    result = cli("run", "dcgan-folder", "--set", f"dataset_options.path={tmp_path / 'empty'}", "--runs-dir", str(tmp_path / "runs"),
                 "--device", "cpu", cwd=tmp_path)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "is empty" in result.stderr, result.stderr


# ---------------------------------------------------------------- the emoji and the torchvision sets


def test_the_bundled_emoji_load_offline_with_their_groups_and_a_disjoint_test_split():
    train, test = load_emoji(EmojiConfig(), Path("."), "train"), load_emoji(EmojiConfig(), Path("."), "test")
    assert len(train) + len(test) == 3583 and len(test) == 358
    assert train.tensors["image"].shape[1:] == (3, 32, 32) and train.class_names == GROUPS
    counts = torch.bincount(train.tensors["label"], minlength=len(GROUPS))
    assert (counts > 0).all()  # every group is present
    corner = train.tensors["image"][:, :, 0, 0].float().mean().item()
    assert corner > 250  # transparent corners composed over white
    black = load_emoji(EmojiConfig(background="black", image_size=16), Path("."), "train")
    assert black.tensors["image"].shape == (len(train), 3, 16, 16) and black.tensors["image"][:, :, 0, 0].float().median() < 5
    assert len(load_emoji(EmojiConfig(limit=10), Path("."), "train")) == 10


def test_cifar10_celeba_and_lsun_read_their_own_layouts(tmp_path):
    write_cifar10(tmp_path)
    write_celeba(tmp_path)
    write_lsun(tmp_path)
    with trusting_checksums():
        cifar = load_cifar10(PhotoConfig(image_size=32, download=False), tmp_path, "train")
        assert len(cifar) == 80 and cifar.info.num_classes == 10 and cifar.class_names[0] == "airplane"
        faces = load_celeba(PhotoConfig(image_size=16, crop_size=140, download=False), tmp_path, "train")
        assert len(faces) == 8 and faces.item(0, None)["image"].shape == (3, 16, 16)
    rooms = load_lsun(LSUNConfig(image_size=16), tmp_path, "train")
    batch = _batches(rooms, 2)[0]["image"]
    assert len(rooms) == 10 and batch.shape == (4, 3, 16, 16) and batch.min() >= -1
    assert list(Path.cwd().glob("_cache_*")) == []  # no key cache left in the working directory


def test_missing_public_sets_say_where_to_put_the_files(tmp_path):
    message = one_line_error(lambda: load_cifar10(PhotoConfig(download=False), tmp_path), "CIFAR-10 is not in")
    assert "cifar-10-python.tar.gz" in message
    message = one_line_error(lambda: load_celeba(PhotoConfig(download=False), tmp_path), "CelebA is not in")
    assert "list_eval_partition.txt" in message
    message = one_line_error(lambda: load_lsun(LSUNConfig(category="tower"), tmp_path), "LSUN tower is not in")
    assert "tower_train_lmdb.zip" in message and "download=true" in message


def test_dcgan_builds_the_papers_64px_network():
    from ganzoo.build import build_model

    registry = ganzoo.load_registry()
    entry = registry.entry("dcgan-celeba-64")
    model = build_model(registry, entry, ganzoo.DataInfo(3, 64, 64))
    project = model.generator.project[0]
    assert project.in_features == 100 and project.out_features == 4 * 4 * 1024  # z 100 -> 4x4x1024
    with torch.no_grad():
        assert model.generator(torch.randn(2, 100)).shape == (2, 3, 64, 64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # built without a warning
        build_model(registry, registry.entry("dcgan-cifar10"), ganzoo.DataInfo(3, 32, 32))
