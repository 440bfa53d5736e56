"""``ganzoo upscale``: super-resolve image files of any size with a trained model, tile by tile."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from rich.console import Console

from ganzoo import CommandSpec, ConfigError, load_checkpoint
from ganzoo.api import process_image_files
from ganzoo.data import to_model_range


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="ENTRY-or-CHECKPOINT")
    parser.add_argument("inputs", type=Path, metavar="INPUT", help="an image, or a folder of images")
    parser.add_argument("--out", type=Path, required=True, help="output image (for one input) or folder")
    parser.add_argument("--tile", type=int, default=128, help="largest tile side in input pixels (default 128; 0: one piece)")
    parser.add_argument("--overlap", type=int, default=-1,
                        help="tile overlap in input pixels (default: the network's receptive radius, exact)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs-dir", type=Path)


@torch.no_grad()
def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    loaded = load_checkpoint(args.source, device=args.device, runs_dir=args.runs_dir, registry=args.registry)
    model = loaded.model
    if not hasattr(model, "upscale"):
        raise ConfigError(f"entry '{loaded.entry.name}' (model {loaded.entry.model}) does not upscale images")
    if args.tile < 0:
        raise ConfigError("--tile must be 0 (one piece) or a positive number of pixels")
    device = next(model.parameters()).device

    def upscale(path: Path, pixels: torch.Tensor) -> torch.Tensor:
        return model.upscale(to_model_range(pixels[None].to(device)), loaded.generator, args.tile, args.overlap)

    written = process_image_files(args.inputs, args.out, upscale, loaded.info.input_channels)
    where = written[0] if args.inputs.is_file() else f"{len(written)} images in {args.out}"
    console.print(f"upscaled {model.scale}x with {loaded.entry.name} (step {loaded.step}) -> {where}", highlight=False)
    return 0


COMMAND = CommandSpec("upscale", "super-resolve an image (or a folder of images) with a trained SR model", configure, run)
