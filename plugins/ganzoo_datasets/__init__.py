"""The built-in datasets plugin: digits, your own image folders, colour photographs, emoji.

- ``digits``: ``mnist-5k`` (bundled, offline), ``mnist``, ``fashion-mnist``;
- ``folder``: ``image-folder``, any folder tree of your images;
- ``photos``: ``cifar10``, ``celeba``, ``lsun`` through torchvision's loaders;
- ``emoji``: ``noto-emoji``, 3,583 colour emoji bundled at 32 x 32 (offline).

docs/datasets.md describes each: its layout, options, licence and citation.
"""

from __future__ import annotations

from ganzoo.plugin import DatasetSpec, hookimpl
from ganzoo_datasets.digits import FASHION_CLASSES, MNIST_CLASSES, DigitsConfig, torchvision_digits, load_mnist_5k
from ganzoo_datasets.emoji import EmojiConfig, load_emoji
from ganzoo_datasets.folder import FolderConfig, load_folder
from ganzoo_datasets.photos import LSUNConfig, PhotoConfig, load_celeba, load_cifar10, load_lsun

GANZOO_API = 1

TINY = {"limit": 64}
MNIST = dict(license="CC BY-SA 3.0", citation="Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of handwritten digits, 1998")
FASHION = dict(license="MIT", citation="H. Xiao, K. Rasul and R. Vollgraf, Fashion-MNIST: a Novel Image Dataset for Benchmarking "
                                       "Machine Learning Algorithms, arXiv:1708.07747, 2017")
EMOJI = dict(license="Apache-2.0", citation="Google, Noto Emoji, https://github.com/googlefonts/noto-emoji")
CIFAR = dict(license="no licence stated by its authors; commonly used for research",
             citation="A. Krizhevsky, Learning Multiple Layers of Features from Tiny Images, 2009")
CELEBA = dict(license="non-commercial research purposes only (the CelebA agreement)",
              citation="Z. Liu, P. Luo, X. Wang and X. Tang, Deep Learning Face Attributes in the Wild, ICCV 2015")
LSUN = dict(license="research use (images collected from the web)",
            citation="F. Yu, A. Seff, Y. Zhang, S. Song, T. Funkhouser and J. Xiao, LSUN: Construction of a Large-scale Image "
                     "Dataset using Deep Learning with Humans in the Loop, arXiv:1506.03365, 2015")


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec("mnist-5k", load_mnist_5k, DigitsConfig, "5,000 real MNIST digits (500 per class) bundled with ganzoo; offline",
                    tiny_options=TINY, **MNIST),
        DatasetSpec("mnist", torchvision_digits("MNIST", MNIST_CLASSES), DigitsConfig, "MNIST, 60,000 training digits (torchvision; downloads)",
                    ("train", "test"), tiny_options=TINY, **MNIST),
        DatasetSpec("fashion-mnist", torchvision_digits("FashionMNIST", FASHION_CLASSES), DigitsConfig,
                    "Fashion-MNIST, 60,000 training images (torchvision; downloads)", ("train", "test"), tiny_options=TINY, **FASHION),
        DatasetSpec("image-folder", load_folder, FolderConfig, "your own images: a folder tree (class subfolders give labels); "
                    "--set dataset_options.path=DIR", ("train", "test"), tiny_options={"image_size": 16}, license="yours",
                    citation="yours"),
        DatasetSpec("noto-emoji", load_emoji, EmojiConfig, "3,583 colour Noto Emoji (Apache-2.0) bundled at 32x32, labelled by "
                    "emoji group; offline", ("train", "test"), tiny_options=TINY, features="domain", **EMOJI),
        DatasetSpec("cifar10", load_cifar10, PhotoConfig, "CIFAR-10, 50,000 32x32 colour images of 10 classes (torchvision; "
                    "downloads)", ("train", "test"), tiny_options=TINY, **CIFAR),
        DatasetSpec("celeba", load_celeba, PhotoConfig, "CelebA, 202,599 aligned faces, centre-cropped (torchvision; put the "
                    "files in DATA_DIR/celeba when its download fails)", ("train", "val", "test"), tiny_options=TINY, **CELEBA),
        DatasetSpec("lsun", load_lsun, LSUNConfig, "an LSUN scene category from its LMDB (default bedroom; needs "
                    "ganzoo[lsun])", ("train", "val"), tiny_options=TINY, **LSUN),
    ]
