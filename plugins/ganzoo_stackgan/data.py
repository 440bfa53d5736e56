"""Captioned images: every image with one or more captions.

- ``captioned-folder``: ``images/NAME.png`` (or .jpg, ...) with ``text/NAME.txt`` holding one
  caption a line, as CUB-200's captions are distributed (``text_c10/CLASS/NAME.txt``; sub
  folders are followed). With ``embeddings: FILE`` the captions are replaced by
  precomputed embeddings, (N, K, D) in the images' sorted order, as the original StackGAN
  used for CUB and Oxford-102 (a ``.pt`` tensor or a ``.npy`` array).
- ``digit-captions``: the bundled MNIST digits, each with three captions generated from
  its label and measured properties (stroke thickness, slant, size); every tenth digit is
  held out. Offline.

Captions become token ids over a vocabulary built from the training captions; the
vocabulary travels in ``DataInfo.vocabulary`` into the model and its checkpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from ganzoo.plugin import IMAGE_SUFFIXES, DataError, ImageData, bundled_mnist, check_range, load_tensors, read_image, resize_images
from ganzoo_stackgan.text import build_vocabulary, encode

NUMBERS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


@dataclass(frozen=True)
class CaptionsConfig:
    path: str = ""  # captioned-folder: a folder with images/ and text/ (relative: to the data directory, if not here)
    text_folder: str = "text"  # captioned-folder: the captions' folder (CUB: text_c10)
    image_size: int = 32  # images are resized to image_size x image_size
    channels: int = 3  # 1 (grayscale) or 3
    captions_per_image: int = 3  # captions kept per image (images with fewer repeat theirs)
    max_words: int = 12  # tokens per caption
    embeddings: str = ""  # captioned-folder: precomputed caption embeddings instead of text
    limit: int = 0  # use only the first `limit` images (0: all)

    def __post_init__(self) -> None:
        check_range("dataset_options.image_size", self.image_size, 8, 1024)
        check_range("dataset_options.captions_per_image", self.captions_per_image, 1, 100)
        check_range("dataset_options.max_words", self.max_words, 1, 512)
        check_range("dataset_options.limit", self.limit, 0)
        if self.channels not in (1, 3):
            raise ValueError(f"dataset_options.channels must be 1 or 3, not {self.channels}")


# ---------------------------------------------------------------- the offline set


def measure(images: Tensor) -> dict[str, Tensor]:
    """Per-image stroke thickness (ink / skeleton proxy), slant (shear of the ink) and height of (N, 1, H, W) uint8 digits."""
    x = images.float()[:, 0] / 255  # (N, H, W)
    n, h, w = x.shape
    ink = x.sum((1, 2)).clamp_min(1e-6)
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    my = (x * ys).sum((1, 2)) / ink
    mx = (x * xs).sum((1, 2)) / ink
    cov = (x * (ys - my.view(n, 1, 1)) * (xs - mx.view(n, 1, 1))).sum((1, 2)) / ink
    var_y = (x * (ys - my.view(n, 1, 1)) ** 2).sum((1, 2)) / ink
    slant = -cov / var_y.clamp_min(1e-6)  # > 0: the top leans right (rows grow downwards)
    height = var_y.sqrt()  # vertical spread of the ink: a continuous size
    edges = (x > 0.5).float()
    interior = -F.max_pool2d(-edges[:, None], 3, 1, 1)[:, 0]  # eroded ink
    thickness = (edges.sum((1, 2)) / (edges - interior).sum((1, 2)).clamp_min(1)).clamp_min(0)
    return {"thickness": thickness, "slant": slant, "height": height}


def _tercile(values: Tensor, words: tuple[str, str, str]) -> list[str]:
    low, high = torch.quantile(values, torch.tensor([1 / 3, 2 / 3]))
    return [words[0] if v < low else words[2] if v > high else words[1] for v in values.tolist()]


def digit_captions(images: Tensor, labels: Tensor) -> list[list[str]]:
    """Three phrasings per digit of its number, thickness, slant and size."""
    m = measure(images)
    thick = _tercile(m["thickness"], ("thin", "regular", "thick"))
    slant = _tercile(m["slant"], ("left", "upright", "right"))
    size = _tercile(m["height"], ("small", "medium", "large"))
    out = []
    for i, label in enumerate(labels.tolist()):
        number, lean = NUMBERS[label], {"left": "slanted to the left", "upright": "standing upright", "right": "slanted to the right"}[slant[i]]
        out.append([
            f"a {thick[i]} {number} {lean}",
            f"a {size[i]} {number} written with {thick[i]} strokes",
            f"{number}, {size[i]}, {thick[i]}, {lean}",
        ])
    return out


def load_digit_captions(config: CaptionsConfig, root: Path, split: str = "train") -> ImageData:
    images, labels = bundled_mnist()
    images, labels = resize_images(images.unsqueeze(1), config.image_size).contiguous(), labels.long()
    captions = digit_captions(images, labels)  # terciles over all 5,000: the same words in both splits
    held = torch.arange(len(images)) % 10 == 9
    vocabulary = build_vocabulary(c for i, cs in enumerate(captions) if not held[i] for c in cs)
    keep = (held if split == "val" else ~held).nonzero().flatten().tolist()
    if config.limit:
        keep = keep[: config.limit]
    return _finish(images[keep], [captions[i] for i in keep], vocabulary, config, labels[keep])


def _finish(images: Tensor, captions: list[list[str]], vocabulary: tuple[str, ...], config: CaptionsConfig,
            labels: Tensor | None = None) -> ImageData:
    k = config.captions_per_image
    flat = [c for cs in captions for c in (cs * k)[:k]]
    ids, _ = encode(flat, vocabulary, config.max_words)
    tensors = {"image": images.contiguous(), "caption": ids.view(len(images), k, config.max_words)}
    if labels is not None:  # the digits' classes: not for training, for judging samples (domain features)
        tensors["label"] = labels
    return ImageData(tensors, vocabulary=vocabulary, num_classes=10 if labels is not None else 0)


# ---------------------------------------------------------------- a folder of captioned images


def read_captions(path: Path) -> list[str]:
    """The non-empty lines of a caption file; a missing, empty or non-UTF-8 file is a DataError."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"missing caption file {path} (every image needs text/NAME.txt with one caption a line)") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text (byte {e.start}): re-save it as UTF-8") from None
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise DataError(f"{path} holds no caption (one caption a line)")
    return lines


def load_captioned_folder(config: CaptionsConfig, root: Path, split: str = "train") -> ImageData:
    if not config.path:
        raise DataError("dataset 'captioned-folder' needs a folder: --set dataset_options.path=DIR (with images/ and text/)")
    base = Path(config.path).expanduser()
    if not base.is_absolute() and not base.exists():
        base = root / base
    base = base / split if (base / split / "images").is_dir() else base
    images_dir, text_dir = base / "images", base / config.text_folder
    if not images_dir.is_dir():
        raise DataError(f"{base} has no images/ folder")
    files = sorted(p for p in images_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if config.limit:
        files = files[: config.limit]
    if not files:
        raise DataError(f"no images in {images_dir}")
    size = [config.image_size, config.image_size]
    from torchvision.transforms.v2 import functional as TF

    images = torch.stack([TF.resize(read_image(f, config.channels), size, antialias=True) for f in files])
    if config.embeddings:
        return _with_embeddings(images, Path(config.embeddings), len(files))
    if not text_dir.is_dir():
        raise DataError(f"{base} has no {config.text_folder}/ folder ({config.text_folder}/NAME.txt for images/NAME.png)")
    captions = [read_captions(text_dir / f.relative_to(images_dir).with_suffix(".txt")) for f in files]
    return _finish(images, captions, build_vocabulary(c for cs in captions for c in cs), config)


def _with_embeddings(images: Tensor, path: Path, n: int) -> ImageData:
    if path.suffix != ".npy":
        data = load_tensors(path, what="embeddings")
    else:
        try:
            data = np.load(path)  # allow_pickle=False: an object array is refused
        except FileNotFoundError:
            raise DataError(f"missing embeddings file {path}") from None
        except Exception as e:
            raise DataError(f"cannot read embeddings {path}: {str(e).splitlines()[0]}") from None
    emb = torch.as_tensor(data, dtype=torch.float32)
    if emb.ndim == 2:
        emb = emb[:, None]
    if emb.ndim != 3 or emb.shape[0] != n:
        raise DataError(f"{path} holds embeddings of shape {tuple(emb.shape)}; expected ({n}, captions, dim) for the {n} images")
    return ImageData({"image": images.contiguous(), "embedding": emb})
