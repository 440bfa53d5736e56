"""Where and in which precision a run trains, and its optimizer."""

from __future__ import annotations

import platform
import warnings

import torch
from torch import nn

from ganzoo.errors import ConfigError, GanzooWarning
from ganzoo.specs import TrainConfig


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


def cpu_has_fast_bf16() -> bool:
    """Whether this CPU multiplies bf16 matrices in hardware: AMX or AVX512-BF16 on x86, oneDNN's
    own check elsewhere (Arm's BF16 extension). An AVX-512 CPU without them still runs bf16, by
    converting to fp32, 4x slower than fp32 itself (docs/benchmarks.md)."""
    if not torch.backends.mkldnn.is_available():
        return False
    if platform.machine().lower() in ("x86_64", "amd64"):
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)  # private, so looked up with care
        avx512_bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
        return amx() or avx512_bf16()
    return torch.ops.mkldnn._is_mkldnn_bf16_supported()


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` -> bf16 where the device has fast bf16 matrix units, else fp32; checks the others."""
    if precision == "auto":
        if device.type == "cuda":
            fast = torch.cuda.is_bf16_supported(including_emulation=False)  # Ampere on; older GPUs emulate bf16
        else:
            fast = device.type == "cpu" and cpu_has_fast_bf16()
        return "bf16" if fast else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ConfigError("train.precision fp16 needs a CUDA device; use bf16 or fp32 here")
    if precision == "bf16" and device.type == "mps":
        raise ConfigError("train.precision bf16 is not supported on MPS; use fp32")
    return precision


def phase_precisions(train: TrainConfig, phases: list[str], device: torch.device) -> dict[str, str]:
    """Each phase's precision, resolved for ``device``: its own (``train.phase_precision``),
    else the run's (``train.precision``), e.g. a warm-up in bf16 and the adversarial phase
    in fp32."""
    unknown = set(train.phase_precision) - set(phases)
    if unknown:
        raise ConfigError(f"train.phase_precision names phases the model does not have: {sorted(unknown)} (it has: {', '.join(phases)})")
    resolved = {name: resolve_precision(train.precision_setting(name), device) for name in phases}
    if "bf16" in resolved.values() and device.type == "cpu" and not cpu_has_fast_bf16():
        warnings.warn(GanzooWarning("this CPU has no bf16 units (AMX, AVX512-BF16): bf16 trains slower than fp32 here "
                                    "(train.precision auto or fp32)"), stacklevel=2)
    return resolved


def make_optimizer(params: list[nn.Parameter], lr: float, betas: tuple[float, float], weight_decay: float,
                   device: torch.device) -> torch.optim.Optimizer:
    """Adam, fused into one kernel where the device supports it (CUDA, CPU), else foreach."""
    fused = device.type in ("cuda", "cpu")
    return torch.optim.Adam(params, lr=lr, betas=betas, weight_decay=weight_decay, fused=fused, foreach=None if fused else True)
