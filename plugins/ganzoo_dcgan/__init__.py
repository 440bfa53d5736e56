"""The DCGAN plugin: ``dcgan`` and its class-conditional variant ``cdcgan``, and their zoo entries.

Registered through the ``ganzoo`` entry-point group like any third-party plugin; it uses
nothing from the core but :mod:`ganzoo.plugin`.
"""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import ModelSpec, hookimpl
from ganzoo_dcgan.model import DCGAN, DCGANConfig
from ganzoo_dcgan.reference import reference_loop

GANZOO_API = 1
TINY = {"latent_dim": 8, "g_channels": 8, "d_channels": 8}

__all__ = ["DCGAN", "DCGANConfig"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [
        ModelSpec("dcgan", lambda cfg, info: DCGAN(cfg, info), DCGANConfig, "DCGAN (Radford et al. 2016)", tiny_options=TINY,
                  reference_loop=reference_loop),
        ModelSpec("cdcgan", lambda cfg, info: DCGAN(cfg, info, conditional=True), DCGANConfig,
                  "class-conditional DCGAN: labels fed to both networks (Mirza & Osindero 2014)", tiny_options=TINY,
                  reference_loop=reference_loop),
    ]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
