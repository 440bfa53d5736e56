"""The SRGAN plugin: ``srgan`` (Ledig et al. 2017), HR photo datasets, entries and ``ganzoo upscale``.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but its public API.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo import CommandSpec, DatasetSpec, ModelSpec, hookimpl
from ganzoo_srgan.data import HRImages, SRDataConfig, load_div2k, load_hr_folder, load_skimage_photos
from ganzoo_srgan.features import ContentFeatures
from ganzoo_srgan.model import SRGAN, SRGANConfig
from ganzoo_srgan.networks import Discriminator, SRResNet
from ganzoo_srgan.upscale import COMMAND

__all__ = ["ContentFeatures", "Discriminator", "HRImages", "SRDataConfig", "SRGAN", "SRGANConfig", "SRResNet"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("srgan", SRGAN, SRGANConfig, "SRGAN: SRResNet + VGG-style discriminator, MSE warm-up then adversarial (Ledig et al. 2017)")]


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    splits = ("train", "val")
    return [
        DatasetSpec("hr-folder", load_hr_folder, SRDataConfig, "a folder of high-resolution photographs (dataset_options.path)", splits),
        DatasetSpec("div2k", load_div2k, SRDataConfig, "DIV2K: 800 training and 100 validation 2K photographs (downloads)", splits),
        DatasetSpec("skimage-photos", load_skimage_photos, SRDataConfig,
                    "the 9 colour photographs scikit-image installs (2 held out); offline", splits),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]


@hookimpl
def ganzoo_commands() -> list[CommandSpec]:
    return [COMMAND]
