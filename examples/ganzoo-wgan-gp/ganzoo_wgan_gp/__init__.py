"""WGAN-GP for ganzoo (Gulrajani et al. 2017, arXiv:1704.00028): loss, critic, entries."""

from __future__ import annotations

from pathlib import Path

from ganzoo.plugin import LossSpec, ModelSpec, hookimpl
from ganzoo_wgan_gp.loss import WassersteinGP, WGANGPConfig
from ganzoo_wgan_gp.model import WGANGP, WGANGPModelConfig

GANZOO_API = 1  # the ganzoo plugin API this plugin is written for

__all__ = ["GANZOO_API", "WGANGP", "WGANGPConfig", "WGANGPModelConfig", "WassersteinGP"]


@hookimpl
def ganzoo_register_losses() -> list[LossSpec]:
    return [LossSpec("wgan-gp", WassersteinGP, WGANGPConfig, "Wasserstein loss with gradient penalty (Gulrajani et al. 2017)")]


@hookimpl
def ganzoo_register_models() -> list[ModelSpec]:
    return [ModelSpec("wgan-gp-dcgan", WGANGP, WGANGPModelConfig, "DCGAN generator + critic without batch norm, for WGAN-GP")]


@hookimpl
def ganzoo_zoo_files() -> list[Path]:
    return [Path(__file__).with_name("zoo.yaml")]
