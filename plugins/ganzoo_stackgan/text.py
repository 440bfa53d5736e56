"""Captions as token ids: a word-level tokenizer with a vocabulary built from the training captions.

Id 0 pads, id 1 stands for any word the vocabulary does not hold; encoding returns those
unknown words so that they can be said, not silently dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

PAD, UNKNOWN = 0, 1
_WORD = re.compile(r"[a-z0-9]+")


def words(caption: str) -> list[str]:
    return _WORD.findall(caption.lower())


def build_vocabulary(captions: Iterable[str], min_count: int = 1) -> tuple[str, ...]:
    """Words of the captions seen at least ``min_count`` times, most frequent first (then by name)."""
    counts = Counter(w for c in captions for w in words(c))
    return tuple(w for w, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= min_count)


def encode(captions: Sequence[str], vocabulary: Sequence[str], length: int) -> tuple[Tensor, list[str]]:
    """(N, length) int64 ids (truncated / padded), and the words the vocabulary lacks."""
    index = {w: i + 2 for i, w in enumerate(vocabulary)}
    ids = torch.full((len(captions), length), PAD, dtype=torch.long)
    unknown: list[str] = []
    for row, caption in enumerate(captions):
        tokens = words(caption)[:length]
        for col, w in enumerate(tokens):
            ids[row, col] = index.get(w, UNKNOWN)
            if w not in index and w not in unknown:
                unknown.append(w)
    return ids, unknown
