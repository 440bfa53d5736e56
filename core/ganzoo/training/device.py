"""Where and in which precision a run trains, and its optimizer."""

from __future__ import annotations

import torch
from torch import nn

from ganzoo.errors import ConfigError


def select_device(name: str = "auto") -> torch.device:
    """``auto``: CUDA, then Apple MPS, then the CPU. Any other name is used as given."""
    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError:
            raise ConfigError(f"unknown device '{name}' (use auto, cpu, cuda, cuda:N or mps)") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device '{name}' asked for, but CUDA is not available here (use --device cpu)")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise ConfigError(f"device '{name}' asked for, but Apple MPS is not available here (use --device cpu)")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> bf16 where the device has bf16 matrix units, else fp32; checks the others."""
    bf16_ok = (device.type == "cuda" and torch.cuda.is_bf16_supported()) or (
        device.type == "cpu" and torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )
    if precision == "auto":
        return "bf16" if bf16_ok else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("train.precision fp16 needs a CUDA device; use bf16 or fp32 here")
    if precision == "bf16" and device.type == "mps":
        raise ConfigError("train.precision bf16 is not supported on MPS; use fp32")
    return precision


def phase_precisions(precision: str, own: dict[str, str], phases: list[str], device: torch.device) -> dict[str, str]:
    """Each phase's precision, resolved for ``device``: its own (``train.phase_precision``),
    else the run's (``train.precision``), e.g. a warm-up in bf16 and the adversarial phase
    in fp32."""
    unknown = set(own) - set(phases)
    if unknown:
        raise ConfigError(f"train.phase_precision names phases the model does not have: {sorted(unknown)} (it has: {', '.join(phases)})")
    return {name: resolve_precision(own.get(name, precision), device) for name in phases}


def make_optimizer(params: list[nn.Parameter], lr: float, betas: tuple[float, float], weight_decay: float,
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where the device supports it (CUDA, CPU), else foreach."""
    fused = device.type in ("cuda", "cpu")
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=fused, foreach=None if fused else True)
