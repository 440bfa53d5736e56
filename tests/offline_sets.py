"""Tiny generated copies of public datasets in their real on-disk layouts, for offline tests.

CIFAR-10 and CelebA are then read by torchvision's own loaders; their checksums cannot
match generated files, so :func:`trusting_checksums` lets those loaders skip the check.
"""

from __future__ import annotations

import contextlib
import io
import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def pixels(rng: np.random.Generator, h: int, w: int, channels: int = 3) -> np.ndarray:
    """A smooth random colour image (a gradient plus a blob): what photographs look like to a resize."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    base = rng.uniform(0, 255, (channels,))
    tilt = rng.uniform(-120, 120, (channels, 2))
    image = base[:, None, None] + tilt[:, 0, None, None] * y + tilt[:, 1, None, None] * x
    return np.clip(image, 0, 255).astype(np.uint8).transpose(1, 2, 0).squeeze()


def write_folder(root: Path, classes: dict[str, int] | int, size: tuple[int, int] = (40, 48), seed: int = 0) -> Path:
    """PNG images in class subfolders (``{"cats": 3, "dogs": 2}``) or at the top (an int)."""
    rng = np.random.default_rng(seed)
    groups = classes.items() if isinstance(classes, dict) else [("", classes)]
    for name, n in groups:
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            Image.fromarray(pixels(rng, size[1], size[0])).save(root / name / f"{i:03d}.png")
    return root


def write_cifar10(root: Path, n: int = 16, seed: int = 0) -> None:
    """``cifar-10-batches-py``: five training batches, a test batch and the label names."""
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = np.stack([pixels(rng, 32, 32).transpose(2, 0, 1).reshape(-1) for _ in range(n)])
        (folder / name).write_bytes(pickle.dumps({"data": data, "labels": [i % 10 for i in range(n)]}))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": ["airplane", "automobile", "bird", "cat", "deer",
                                                                        "dog", "frog", "horse", "ship", "truck"]}))


def write_celeba(root: Path, n: int = 12, seed: int = 0) -> None:
    """``celeba/img_align_celeba`` (178 x 218 JPEGs) and the five list files torchvision reads."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    rng = np.random.default_rng(seed)
    names = [f"{i + 1:06d}.jpg" for i in range(n)]
    for name in names:
        Image.fromarray(pixels(rng, 218, 178)).save(folder / "img_align_celeba" / name)
    split = [0] * (n - 4) + [1, 1, 2, 2]
    (folder / "list_eval_partition.txt").write_text("".join(f"{m} {s}\n" for m, s in zip(names, split)))
    (folder / "identity_CelebA.txt").write_text("".join(f"{m} {i}\n" for i, m in enumerate(names)))
    (folder / "list_bbox_celeba.txt").write_text(f"{n}\nimage_id x_1 y_1 width height\n" + "".join(f"{m} 1 2 3 4\n" for m in names))
    (folder / "list_landmarks_align_celeba.txt").write_text(f"{n}\nlefteye_x lefteye_y\n" + "".join(f"{m} 69 109\n" for m in names))
    (folder / "list_attr_celeba.txt").write_text(f"{n}\nSmiling Young\n" + "".join(f"{m} 1 -1\n" for m in names))


def write_lsun(root: Path, category: str = "bedroom", n: int = 10, seed: int = 0) -> None:
    """``lsun/CATEGORY_train_lmdb`` and ``CATEGORY_val_lmdb``: WebP images keyed by hex ids, as LSUN stores them."""
    lmdb = pytest.importorskip("lmdb")
    rng = np.random.default_rng(seed)
    (root / "lsun").mkdir(parents=True, exist_ok=True)
    for split in ("train", "val"):
        with lmdb.open(str(root / "lsun" / f"{category}_{split}_lmdb"), map_size=2**26) as env, env.begin(write=True) as txn:
            for i in range(n):
                buffer = io.BytesIO()
                Image.fromarray(pixels(rng, 48, 64)).save(buffer, "WEBP")
                txn.put(f"{i:040x}".encode(), buffer.getvalue())


@contextlib.contextmanager
def trusting_checksums():
    """torchvision's CIFAR-10 and CelebA loaders, without their MD5 checks (generated files)."""
    import torchvision.datasets.celeba
    import torchvision.datasets.cifar

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(torchvision.datasets.cifar, "check_integrity", lambda *args, **kwargs: True)
        mp.setattr(torchvision.datasets.celeba.CelebA, "_check_integrity", lambda self: True)
        yield
