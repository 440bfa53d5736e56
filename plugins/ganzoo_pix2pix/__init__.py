"""The Pix2Pix plugin: ``pix2pix`` (Isola et al. 2017), its datasets, entries and ``ganzoo translate``.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but its public API.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo import CommandSpec, DatasetSpec, ModelSpec, hookimpl
from ganzoo_pix2pix.data import DigitEdgesConfig, PairedImages, PairsConfig, load_digit_edges, load_pairs, outline
from ganzoo_pix2pix.model import Pix2Pix, Pix2PixConfig
from ganzoo_pix2pix.networks import PatchDiscriminator, UNetGenerator
from ganzoo_pix2pix.translate import COMMAND

__all__ = ["PairedImages", "PairsConfig", "PatchDiscriminator", "Pix2Pix", "Pix2PixConfig", "UNetGenerator", "outline"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("pix2pix", Pix2Pix, Pix2PixConfig, "Pix2Pix: U-Net + PatchGAN image-to-image translation (Isola et al. 2017)")]


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec("pix2pix", load_pairs, PairsConfig,
                    "paired images: the public pix2pix sets (downloads) or your own A/ and B/ folders", ("train", "val", "test")),
        DatasetSpec("digit-edges", load_digit_edges, DigitEdgesConfig,
                    "outlines of the bundled MNIST digits (A) and the digits (B); offline", ("train", "val")),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]


@hookimpl
def ganzoo_commands() -> list[CommandSpec]:
    return [COMMAND]
