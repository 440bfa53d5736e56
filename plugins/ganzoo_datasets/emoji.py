"""``noto-emoji``: 3,583 real colour emoji, bundled (offline), with their emoji group as label.

The images are Google's Noto Emoji (``png/72``, Apache-2.0; ``bundled/README.md`` has the
attribution and ``bundled/LICENSE-noto-emoji.txt`` the licence), stored at 32 x 32 RGBA
(resized from 72 x 72 with Pillow's Lanczos filter, alpha premultiplied) in one
``.npz`` of 5 MB. Loading composes them over ``background`` and resizes them to
``image_size``; every tenth emoji (by code point order) is the ``test`` split.

Labels are emoji groups approximated from code points (:func:`emoji_group`: Unicode
blocks and ranges, close to but not the same as CLDR's groups, whose table is not
available offline). They are unbalanced — "people" holds every skin-tone variant, over
half the set — so the zoo has no conditional emoji entry; the labels serve the domain
feature network that ``ganzoo evaluate`` measures the emoji entry with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganzoo.plugin import ImageData, check_range, resize_images
from ganzoo_datasets.folder import background_rgb

BUNDLE = Path(__file__).with_name("bundled") / "noto-emoji-32.npz"
GROUPS = ("smileys-emotion", "people-body", "animals-nature", "food-drink", "travel-places", "activities", "objects",
          "symbols", "flags")
TEST_EVERY = 10

_RANGES = {  # first code point of the sequence -> group; earlier rules win
    "flags": [(0x1F1E6, 0x1F1FF), (0x1F3F3, 0x1F3F4), (0x1F3C1, 0x1F3C1), (0x1F6A9, 0x1F6A9), (0x1F38C, 0x1F38C)],
    "smileys-emotion": [(0x1F600, 0x1F644), (0x1F910, 0x1F917), (0x1F920, 0x1F92F), (0x1F970, 0x1F97A), (0x1F9D0, 0x1F9D0),
                        (0x2639, 0x263A), (0x1F479, 0x1F480), (0x1F4A9, 0x1F4A9), (0x1F648, 0x1F64A), (0x1F48B, 0x1F49F),
                        (0x1F4A2, 0x1F4AD), (0x2763, 0x2764), (0x1F5A4, 0x1F5A4), (0x1F90D, 0x1F90E), (0x1FA75, 0x1FA77),
                        (0x1FAE0, 0x1FAE8)],
    "people-body": [(0x1F466, 0x1F478), (0x1F481, 0x1F487), (0x1F645, 0x1F647), (0x1F64B, 0x1F64F), (0x1F9D1, 0x1F9DF),
                    (0x1F442, 0x1F450), (0x1F574, 0x1F57A), (0x1F590, 0x1F596), (0x270A, 0x270D), (0x261D, 0x261D),
                    (0x1F918, 0x1F91F), (0x1F930, 0x1F93E), (0x1F9B0, 0x1F9BF), (0x1F6B4, 0x1F6B6), (0x1F3C2, 0x1F3CC),
                    (0x1F6C0, 0x1F6C0), (0x1F6CC, 0x1F6CC), (0x1FAC3, 0x1FAC5), (0x1FAF0, 0x1FAF8), (0x1F463, 0x1F464),
                    (0x1F5E3, 0x1F5E3), (0x1F9CD, 0x1F9CF), (0x1F90C, 0x1F90C), (0x1F977, 0x1F977), (0x1FAE6, 0x1FAE6)],
    "animals-nature": [(0x1F400, 0x1F43F), (0x1F980, 0x1F9AE), (0x1F330, 0x1F344), (0x1F490, 0x1F490), (0x1F4AE, 0x1F4AE),
                       (0x1F3F5, 0x1F3F5), (0x1F940, 0x1F940), (0x1FAB0, 0x1FABF), (0x1F54A, 0x1F54A), (0x1F577, 0x1F578),
                       (0x2618, 0x2618)],
    "food-drink": [(0x1F345, 0x1F37F), (0x1F950, 0x1F96F), (0x1F9C0, 0x1F9CB), (0x1FAD0, 0x1FADB), (0x2615, 0x2615),
                   (0x1F32D, 0x1F32F), (0x1F942, 0x1F944)],
    "travel-places": [(0x1F680, 0x1F6FF), (0x1F3D4, 0x1F3DF), (0x1F300, 0x1F320), (0x1F5FA, 0x1F5FF), (0x26F0, 0x26FD),
                      (0x1F3E0, 0x1F3F0), (0x2600, 0x2604), (0x26C4, 0x26C8), (0x2708, 0x2708), (0x1F321, 0x1F32C),
                      (0x1F6E0, 0x1F6F3), (0x1F9ED, 0x1F9ED), (0x1F3CD, 0x1F3CE), (0x231A, 0x231B), (0x23F0, 0x23F3)],
    "activities": [(0x1F380, 0x1F393), (0x1F3A0, 0x1F3C1), (0x26BD, 0x26BE), (0x1F3CF, 0x1F3D3), (0x1F93F, 0x1F94F),
                   (0x1F9E9, 0x1F9E9), (0x1F3AE, 0x1F3B4), (0x1F0CF, 0x1F0CF), (0x1F004, 0x1F004), (0x1FA80, 0x1FA8F),
                   (0x26F3, 0x26F3), (0x1F397, 0x1F39F), (0x265F, 0x265F)],
    "symbols": [(0x0000, 0x00FF), (0x2000, 0x25FF), (0x1F170, 0x1F251), (0x1F500, 0x1F53D), (0x1F7E0, 0x1F7F0),
                (0x3030, 0x3299), (0x2640, 0x2642), (0x2648, 0x2653), (0x267B, 0x267F), (0x2695, 0x269B), (0x26A0, 0x26AB),
                (0x2705, 0x2705), (0x2714, 0x2797), (0x27A1, 0x27BF), (0x2934, 0x2B55), (0x1F4AF, 0x1F4AF),
                (0x1F549, 0x1F549), (0x1F6D0, 0x1F6D0), (0x1F6AB, 0x1F6AD), (0x1F6AE, 0x1F6AF), (0x262E, 0x262F),
                (0x2620, 0x262A), (0x2638, 0x2638), (0x269C, 0x269C), (0x2622, 0x2623)],
}
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_PEOPLE_PARTS = set(range(0x1F466, 0x1F46A)) | {0x1F9D1}  # boy, girl, man, woman, person: in any ZWJ sequence


def emoji_group(codepoints: tuple[int, ...]) -> int:
    """The group (index into :data:`GROUPS`) of an emoji given by its code points."""
    if any(c in _SKIN_TONES for c in codepoints) or any(c in _PEOPLE_PARTS for c in codepoints):
        return GROUPS.index("people-body")
    first = codepoints[0]
    for name, ranges in _RANGES.items():
        if any(lo <= first <= hi for lo, hi in ranges):
            return GROUPS.index(name)
    return GROUPS.index("objects")


def codepoints_of(name: str) -> tuple[int, ...]:
    """``emoji_u1f469_200d_1f52c`` -> (0x1F469, 0x200D, 0x1F52C)."""
    return tuple(int(part, 16) for part in name.removeprefix("emoji_u").split("_"))


@dataclass(frozen=True)
class EmojiConfig:
    image_size: int = 32  # side of the images the model sees (stored at 32: larger is upsampled)
    background: str = "white"  # colour the transparent pixels are composed over (a name or #rrggbb)
    limit: int = 0  # use only the first `limit` emoji of the split (0: all)

    def __post_init__(self) -> None:
        check_range("dataset_options.image_size", self.image_size, 4, 256)
        check_range("dataset_options.limit", self.limit, 0)
        background_rgb(self.background)


def compose(rgba: torch.Tensor, background: tuple[int, int, int]) -> torch.Tensor:
    """(N, 4, H, W) uint8 -> (N, 3, H, W) uint8 over an opaque ``background``."""
    alpha = rgba[:, 3:].float() / 255
    ground = torch.tensor(background, dtype=torch.float32)[None, :, None, None]
    return (rgba[:, :3].float() * alpha + ground * (1 - alpha)).round().clamp(0, 255).to(torch.uint8)


def load_emoji(config: EmojiConfig, root: Path, split: str = "train") -> ImageData:
    with np.load(BUNDLE, allow_pickle=False) as bundle:
        rgba, names = torch.from_numpy(bundle["rgba"]).permute(0, 3, 1, 2), bundle["names"].tolist()  # (N, 4, 32, 32)
    held_out = torch.arange(len(names)) % TEST_EVERY == TEST_EVERY - 1
    keep = held_out if split == "test" else ~held_out
    images = compose(rgba[keep], background_rgb(config.background))
    labels = torch.tensor([emoji_group(codepoints_of(n)) for n, k in zip(names, keep.tolist()) if k])
    if config.limit:
        images, labels = images[: config.limit], labels[: config.limit]
    images = resize_images(images, config.image_size)
    return ImageData({"image": images.contiguous(), "label": labels}, num_classes=len(GROUPS), class_names=GROUPS)
