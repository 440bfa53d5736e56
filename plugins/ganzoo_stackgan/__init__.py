"""The StackGAN plugin: ``stackgan`` (Zhang et al. 2017), captioned datasets and entries.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but :mod:`ganzoo.plugin`. Sample from text with
``ganzoo sample ENTRY --text "a thick seven slanted to the right"``.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import DataInfo, DatasetSpec, ModelSpec, hookimpl
from ganzoo_stackgan.data import CaptionsConfig, digit_captions, load_captioned_folder, load_digit_captions, measure, read_captions
from ganzoo_stackgan.model import StackGAN, StackGANConfig
from ganzoo_stackgan.reference import reference_loop

GANZOO_API = 1

__all__ = ["CaptionsConfig", "StackGAN", "StackGANConfig", "digit_captions", "measure", "read_captions"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("stackgan", StackGAN, StackGANConfig, "StackGAN: text -> Stage-I sketch -> Stage-II image (Zhang et al. 2017)",
                      tiny_options={"g_channels": 8, "d_channels": 8}, example_data=_captioned, reference_loop=reference_loop)]


def _captioned(size: int, channels: int) -> DataInfo | None:
    """Captioned square images; Stage I works at a quarter of the side, so the side must be 4 * 2^k."""
    quarter = size // 4
    if size % 4 or quarter < 4 or quarter & (quarter - 1):
        return None
    return DataInfo(channels, size, size, vocabulary=("a", "word"))


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [
        DatasetSpec("captioned-folder", load_captioned_folder, CaptionsConfig,
                    "images/ with text/NAME.txt captions (CUB-200 style), or precomputed embeddings", ("train", "val"),
                    tiny_options={"limit": 64}),
        DatasetSpec("digit-captions", load_digit_captions, CaptionsConfig,
                    "the bundled MNIST digits with captions of their number, thickness, slant and size; offline", ("train", "val"),
                    tiny_options={"limit": 64}, license="CC BY-SA 3.0 (MNIST)", citation="Y. LeCun, C. Cortes and C. J. C. Burges, The MNIST database of handwritten digits, 1998"),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
