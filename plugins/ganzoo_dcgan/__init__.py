"""The DCGAN plugin: ``dcgan`` and its class-conditional variant ``cdcgan``.

Registered through the ``ganzoo`` entry-point group like any third-party plugin.
"""

from __future__ import annotations

from ganzoo import ModelSpec, hookimpl
from ganzoo_dcgan.model import DCGAN, DCGANConfig

__all__ = ["DCGAN", "DCGANConfig"]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [
        ModelSpec("dcgan", lambda cfg, info: DCGAN(cfg, info), DCGANConfig, "DCGAN (Radford et al. 2016)"),
        ModelSpec("cdcgan", lambda cfg, info: DCGAN(cfg, info, conditional=True), DCGANConfig,
                  "class-conditional DCGAN: labels fed to both networks (Mirza & Osindero 2014)", conditional=True),
    ]
