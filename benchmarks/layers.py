"""Where a step's time goes, layer by layer: each convolution and linear layer of an entry,
forward and backward on its real input, in fp32 and in bf16 autocast, each with contiguous
and channels-last tensors.

It tells which layers gain from bf16 on this device and which lose (on a CPU, layers on
maps of 2x2 or 1x1 are bound by reading their weights: casting those every step costs
more than bf16 saves). The inputs are those of one training step of the entry's last
phase; each layer is timed alone (median of 3 timings of ``--calls`` calls, after as many to warm up).

    python benchmarks/layers.py pix2pix-digit-edges
    python benchmarks/layers.py dcgan-mnist-5k --set model_options.g_channels=32
"""

from __future__ import annotations

import argparse
import copy
import tempfile
from pathlib import Path

import torch
from torch import nn

import ganzoo
from common import header, median_rate

VARIANTS = [("fp32", False), ("fp32", True), ("bf16", False), ("bf16", True)]  # (precision, channels-last)


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


def milliseconds(module: nn.Module, x: torch.Tensor, precision: str, channels_last: bool, calls: int) -> float:
    """Median time of one forward and backward pass of ``module`` on ``x``."""
    fmt = torch.channels_last if channels_last and x.dim() == 4 else torch.contiguous_format
    module = module.to(memory_format=fmt).requires_grad_(True).train()
    x = x.to(memory_format=fmt).requires_grad_() if x.dim() == 4 else x.clone().requires_grad_()

    def step() -> None:
        module.zero_grad(set_to_none=True)  # fresh gradients each step, as the training loop has them
        x.grad = None
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            y = module(x)
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
    args = parser.parse_args()
    head = header()
    print(f"{head['date']}, {head['machine']} ({head['threads']} threads), torch {head['torch']}; "
          f"`python benchmarks/layers.py {args.entry}`\n")
    print("| layer | input | weights | " + " | ".join(f"{p} {'channels-last' if cl else 'contiguous'} ms" for p, cl in VARIANTS) + " |")
    print("|---|---|---|" + "---|" * len(VARIANTS))
    totals = [0.0] * len(VARIANTS)
    for label, (module, x) in layer_inputs(args.entry, args.overrides).items():
        times = [milliseconds(module, x, p, cl, args.calls) for p, cl in VARIANTS]
        totals = [a + b for a, b in zip(totals, times)]
        best = min(times)
        cells = [f"**{t:.2f}**" if t == best else f"{t:.2f}" for t in times]
        print(f"| {label} | {tuple(x.shape)} | {module.weight.numel():,} | " + " | ".join(cells) + " |")
    print("| all | | | " + " | ".join(f"{t:.1f}" for t in totals) + " |")


if __name__ == "__main__":
    main()
