"""CycleGAN for ganzoo (Zhu et al. 2017): model ``cyclegan``, dataset ``digit-outlines``, entries.

A third-party plugin written only against ``ganzoo.plugin``: two generators and two
discriminators declared by role, translation in two named directions (``ganzoo
translate ENTRY IMAGE --direction a2b|b2a``), unpaired training data, and history pools
kept as training state (exact ``--resume``).
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import DataInfo, DatasetSpec, ModelSpec, hookimpl
from ganzoo_cyclegan.data import DigitOutlinesConfig, load_digit_outlines, outline
from ganzoo_cyclegan.model import CycleGAN, CycleGANConfig

GANZOO_API = 1  # the ganzoo plugin API this plugin is written for

__all__ = ["GANZOO_API", "CycleGAN", "CycleGANConfig", "DigitOutlinesConfig", "load_digit_outlines", "outline"]


def _two_domains(size: int, channels: int) -> DataInfo:
    return DataInfo(channels, size, size, input_channels=channels, input_height=size, input_width=size)


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    tiny = {"g_channels": 4, "blocks": 1, "d_channels": 4, "d_layers": 2, "pool_size": 4}
    return [ModelSpec("cyclegan", CycleGAN, CycleGANConfig, "CycleGAN: unpaired translation both ways (Zhu et al. 2017)",
                      tiny_options=tiny, example_data=_two_domains)]


@hookimpl
def ganzoo_register_datasets() -> list[DatasetSpec]:
    return [DatasetSpec("digit-outlines", load_digit_outlines, DigitOutlinesConfig,
                        "outlines (A) and digits (B) of disjoint halves of the bundled MNIST digits, unpaired; "
                        "every tenth digit held out with its outline; offline", ("train", "val"), tiny_options={"limit": 64})]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
