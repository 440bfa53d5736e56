"""The SRGAN plugin: ``srgan`` (Ledig et al. 2017), HR photo datasets and entries.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but :mod:`ganzoo.plugin`. Its model enlarges images, so ``ganzoo
upscale`` (tiled) and ``ganzoo translate`` serve it.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import DataInfo, DatasetSpec, ModelSpec, hookimpl
from ganzoo_srgan.data import HRImages, SRDataConfig, load_div2k, load_hr_folder, load_skimage_photos
from ganzoo_srgan.features import ContentFeatures
from ganzoo_srgan.model import SRGAN, SRGANConfig
from ganzoo_srgan.networks import Discriminator, SRResNet
from ganzoo_srgan.reference import reference_loop

GANZOO_API = 1

__all__ = ["ContentFeatures", "Discriminator", "HRImages", "SRDataConfig", "SRGAN", "SRGANConfig", "SRResNet"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("srgan", SRGAN, SRGANConfig, "SRGAN: SRResNet + VGG-style discriminator, MSE warm-up then adversarial (Ledig et al. 2017)",
                      tiny_options={"g_channels": 8, "d_channels": 8, "blocks": 1, "d_dense": 8, "content": "pixel"},
                      example_data=_low_and_high, reference_loop=reference_loop)]


def _low_and_high(size: int, channels: int) -> DataInfo:
    """Images of side ``size`` and their 4x smaller inputs (the default scale)."""
    return DataInfo(channels, size, size, input_channels=channels, input_height=size // 4, input_width=size // 4)


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    splits = ("train", "val")
    tiny = {"limit": 64, "hr_size": 16, "eval_size": 32, "crops_per_image": 2}
    return [
        DatasetSpec("hr-folder", load_hr_folder, SRDataConfig, "a folder of high-resolution photographs (dataset_options.path)", splits,
                    tiny_options=tiny),
        DatasetSpec("div2k", load_div2k, SRDataConfig, "DIV2K: 800 training and 100 validation 2K photographs (downloads)", splits,
                    tiny_options=tiny, license="academic research only (the DIV2K terms)",
                    citation="E. Agustsson and R. Timofte, NTIRE 2017 Challenge on Single Image Super-Resolution: Dataset and "
                    "Study, CVPRW 2017"),
        DatasetSpec("skimage-photos", load_skimage_photos, SRDataConfig,
                    "the 9 colour photographs scikit-image installs (2 held out); offline", splits, tiny_options=tiny,
                    license="each image's own, listed in skimage/data/README.txt (public domain or CC)",
                    citation="S. van der Walt et al., scikit-image: image processing in Python, PeerJ 2014"),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
