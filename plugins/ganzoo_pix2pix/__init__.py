"""The Pix2Pix plugin: ``pix2pix`` (Isola et al. 2017), its datasets and entries.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but :mod:`ganzoo.plugin`. Its models translate, so ``ganzoo
translate`` and ``ganzoo evaluate`` serve them.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import DataInfo, DatasetSpec, ModelSpec, hookimpl
from ganzoo_pix2pix.data import DigitEdgesConfig, PairedImages, PairsConfig, load_digit_edges, load_pairs, outline
from ganzoo_pix2pix.model import Pix2Pix, Pix2PixConfig
from ganzoo_pix2pix.networks import PatchDiscriminator, UNetGenerator
from ganzoo_pix2pix.reference import reference_loop

GANZOO_API = 1

__all__ = ["PairedImages", "PairsConfig", "PatchDiscriminator", "Pix2Pix", "Pix2PixConfig", "UNetGenerator", "outline"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("pix2pix", Pix2Pix, Pix2PixConfig, "Pix2Pix: U-Net + PatchGAN image-to-image translation (Isola et al. 2017)",
                      tiny_options={"g_channels": 8, "d_channels": 8}, example_data=_pairs, reference_loop=reference_loop)]


def _pairs(size: int, channels: int) -> DataInfo:
    return DataInfo(channels, size, size, input_channels=channels, input_height=size, input_width=size)


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec("pix2pix", load_pairs, PairsConfig,
                    "paired images: the public pix2pix sets (downloads) or your own A/ and B/ folders", ("train", "val", "test"),
                    tiny_options={"limit": 64, "load_size": 36, "crop_size": 32}, license="each set's own (facades: CMP Facade "
                    "Database; cityscapes: Cityscapes terms; maps: Google Maps terms; edges2shoes: UT Zappos50K)",
                    citation="P. Isola, J.-Y. Zhu, T. Zhou and A. A. Efros, Image-to-Image Translation with Conditional "
                    "Adversarial Networks, CVPR 2017 (and each set's own paper)"),
        DatasetSpec("digit-edges", load_digit_edges, DigitEdgesConfig,
                    "outlines of the bundled MNIST digits (A) and the digits (B); offline", ("train", "val"), tiny_options={"limit": 64},
                    license="CC BY-SA 3.0 (MNIST)", citation="Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of handwritten digits, 1998"),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
