"""Where a step's time goes, layer by layer: each convolution and linear layer of an entry,
forward and backward on its real input, in fp32 and in bf16 autocast, each with contiguous
and channels-last tensors.

It tells which layers gain from bf16 on this device and which lose (on a CPU, layers on
maps of 2x2 or 1x1 are bound by reading their weights: casting those every step costs
more than bf16 saves). The inputs are those of one training step of the entry's last
phase; each layer is timed alone (median of 3 timings of ``--calls`` calls, after as many to warm up).
``--matmul`` adds two columns: each convolution computed as the matrix product it is
(``unfold``, one ``mm``, and ``fold`` for a transposed one; checked equal to the layer's own
output), in fp32 and bf16, contiguous: whether another algorithm for the same layer would pay.

    python benchmarks/layers.py pix2pix-digit-edges
    python benchmarks/layers.py pix2pix-digit-edges --matmul
    python benchmarks/layers.py dcgan-mnist-5k --set model_options.g_channels=32
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import ganzoo
from common import header, machine_line, median_rate

VARIANTS = [("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)]  # (precision, channels-last)
MATMUL = [("fp32", "matmul"), ("bf16", "matmul")]


def as_matmul(module: nn.Module):
    """``module``'s forward as one matrix product over unfolded patches, or ``None`` where it
    is not a plain 2-D convolution (groups, dilation or padding other than zeros)."""
    if not isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)) or module.groups != 1 or module.dilation != (1, 1) \
            or module.padding_mode != "zeros":
        return None
    k, s, p = module.kernel_size, module.stride, module.padding

    def conv(x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, O, H', W')
        b, _, h, w = x.shape
        h_out, w_out = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
        cols = F.unfold(x, k, padding=p, stride=s).transpose(1, 2).flatten(0, 1)  # (B*H'*W', C*k*k)
        y = cols @ module.weight.flatten(1).t()  # (B*H'*W', O)
        y = y if module.bias is None else y + module.bias
        return y.view(b, h_out, w_out, -1).permute(0, 3, 1, 2)

    def transposed(x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, O, H', W')
        b, c, h, w = x.shape
        size = ((h - 1) * s[0] - 2 * p[0] + k[0] + module.output_padding[0], (w - 1) * s[1] - 2 * p[1] + k[1] + module.output_padding[1])
        cols = x.flatten(2).transpose(1, 2).flatten(0, 1) @ module.weight.flatten(1)  # (B*H*W, O*k*k)
        y = F.fold(cols.view(b, h * w, -1).transpose(1, 2), size, k, padding=p, stride=s)
        return y if module.bias is None else y + module.bias[:, None, None]

    return transposed if isinstance(module, nn.ConvTranspose2d) else conv


def layer_inputs(name: str, overrides: list[str]) -> dict[str, tuple[nn.Module, torch.Tensor]]:
    """Each convolution and linear layer of the entry's model, with the input it sees in one training step."""
    from ganzoo.training import Trainer

    registry = ganzoo.load_registry()
    trainer = Trainer(registry, device="cpu")
    seen: dict[str, tuple[nn.Module, torch.Tensor]] = {}

    def keep(label: str):
        def hook(module: nn.Module, inputs: tuple, output) -> None:
            seen.setdefault(label, (copy.deepcopy(module), inputs[0].detach().float().contiguous()))
        return hook

    with tempfile.TemporaryDirectory() as tmp:
        run = trainer.setup(registry.entry(name, overrides), Path(tmp) / "run")
        if len(run.schedule) > 1:  # the main (last) phase, as speed.py times it
            run.step = run.schedule[-2][1]
        hooks = [module.register_forward_hook(keep(label)) for label, module in run.model.named_modules()
                 if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
        trainer.run_steps(run, 1)
        for hook in hooks:
            hook.remove()
    return seen


def milliseconds(module: nn.Module, x: torch.Tensor, precision: str, layout: bool | str, calls: int) -> float:
    """Median time of one forward and backward pass of ``module`` on ``x``; ``layout`` is
    channels-last (``True``), contiguous (``False``) or ``"matmul"`` (contiguous, :func:`as_matmul`)."""
    fmt = torch.channels_last if layout is True and x.dim() == 4 else torch.contiguous_format
    module = module.to(memory_format=fmt).requires_grad_(True).train()
    x = x.to(memory_format=fmt).requires_grad_() if x.dim() == 4 else x.clone().requires_grad_()
    forward = as_matmul(module) if layout == "matmul" else module
    if forward is None:
        return float("nan")

    def step() -> None:
        module.zero_grad(set_to_none=True)  # fresh gradients each step, as the training loop has them
        x.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            y = forward(x)
        y.float().sum().backward()

    def calls_of_step() -> None:
        for _ in range(calls):
            step()

    return 1e3 / median_rate(calls_of_step, calls, 3, torch.device("cpu"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("entry")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--matmul", action="store_true", help="also time each convolution as one matrix product")
    args = parser.parse_args()
    variants = VARIANTS + (MATMUL if args.matmul else [])
    head = header()
    print(f"{machine_line(head, 'cpu')}; "
          f"`python benchmarks/layers.py {' '.join([args.entry, *(f'--set {o}' for o in args.overrides), *(['--matmul'] if args.matmul else [])])}`\n")
    names = {True: "channels-last", False: "contiguous", "matmul": "as one matmul"}
    print("| layer | input | weights | " + " | ".join(f"{p} {names[layout]} ms" for p, layout in variants) + " |")
    print("|---|---|---|" + "---|" * len(variants))
    totals = [0.0] * len(variants)
    for label, (module, x) in layer_inputs(args.entry, args.overrides).items():
        if args.matmul and (forward := as_matmul(module)) is not None:
            with torch.no_grad():  # the same layer, or the timing means nothing
                torch.testing.assert_close(forward(x), module(x), rtol=1e-4, atol=1e-4)
        times = [milliseconds(module, x, p, layout, args.calls) for p, layout in variants]
        own = {p: t for (p, layout), t in zip(variants, times) if layout is False}  # the layer as it is, contiguous
        totals = [a + (t if t == t else own[p]) for a, t, (p, _) in zip(totals, times, variants)]  # NaN: no matmul form (a linear layer)
        best = min(t for t in times if t == t)
        cells = [f"**{t:.2f}**" if t == best else f"{t:.2f}" if t == t else "–" for t in times]
        print(f"| {label} | {tuple(x.shape)} | {module.weight.numel():,} | " + " | ".join(cells) + " |")
    print("| all | | | " + " | ".join(f"{t:.1f}" for t in totals) + " |")


if __name__ == "__main__":
    main()
