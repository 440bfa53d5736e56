"""``ganzoo translate``: run a trained image-to-image model on image files."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from rich.console import Console
from torchvision.transforms.v2 import functional as TF

from ganzoo import CommandSpec, ConfigError, load_checkpoint
from ganzoo.api import process_image_files
from ganzoo.data import to_model_range


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
    parser.add_argument("inputs", type=Path, metavar="INPUT", help="an image, or a folder of images")
    parser.add_argument("--out", type=Path, required=True, help="output image (for one input) or folder")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs-dir", type=Path)


@torch.no_grad()
def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    loaded = load_checkpoint(args.source, device=args.device, runs_dir=args.runs_dir, registry=args.registry)
    model = loaded.model
    if not hasattr(model, "translate"):
        raise ConfigError(f"entry '{loaded.entry.name}' (model {loaded.entry.model}) does not translate images")
    info = loaded.info
    size = [info.input_height, info.input_width]
    device = next(model.parameters()).device

    def translate(path: Path, pixels: torch.Tensor) -> torch.Tensor:
        if list(pixels.shape[1:]) != size:
            console.print(f"{path.name}: resized from {pixels.shape[2]}x{pixels.shape[1]} to the model's input size "
                          f"{size[1]}x{size[0]}", highlight=False)
            pixels = TF.resize(pixels, size, antialias=True)
        return model.translate(to_model_range(pixels[None].to(device)), loaded.generator)

    written = process_image_files(args.inputs, args.out, translate, info.input_channels)
    where = written[0] if args.inputs.is_file() else f"{len(written)} images in {args.out}"
    console.print(f"translated with {loaded.entry.name} (step {loaded.step}) -> {where}", highlight=False)
    return 0


COMMAND = CommandSpec("translate", "translate an image (or a folder of images) with a trained image-to-image model",
                      configure, run)
