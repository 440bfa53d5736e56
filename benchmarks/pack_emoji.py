"""Repack Noto Emoji's 72 px PNGs into the bundled 32 px archive of the datasets plugin.

    python benchmarks/pack_emoji.py ../shared/data/noto-emoji-72
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

from ganzoo_datasets.emoji import BUNDLE


def main(source: Path, side: int = 32) -> None:
    files = sorted(source.glob("emoji_u*.png"))
    rgba = np.stack([np.asarray(Image.open(f).convert("RGBA").resize((side, side), Image.LANCZOS)) for f in files])
    np.savez_compressed(BUNDLE, rgba=rgba, names=np.array([f.stem for f in files]))
    print(f"{len(files)} emoji -> {BUNDLE} ({BUNDLE.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
