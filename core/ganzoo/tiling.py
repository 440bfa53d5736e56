"""Tiled inference for image-to-image networks whose output is ``scale`` x their input.

A large input is cut into overlapping tiles of at most ``tile`` x ``tile`` pixels; each
tile's centre (without the ``overlap`` margin, except at the image's edges) goes to the
output. When ``overlap`` is at least the network's receptive radius and the network is
translation-equivariant (convolutions, batch norm in eval mode), the result equals a
one-piece pass while memory stays bounded by the tile size.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor


def tiled(net: Callable[[Tensor], Tensor], x: Tensor, scale: int, tile: int, overlap: int) -> Tensor:
    """``net(x)`` computed tile by tile; ``x`` is (B, C, H, W)."""
    *_, height, width = x.shape
    if height <= tile and width <= tile:
        return net(x)
    step = tile - 2 * overlap
    if step < 1:
        raise ValueError(f"tiles of {tile} pixels cannot overlap by {overlap} on each side: use a larger tile")
    out: Tensor | None = None
    for y0 in range(0, height, step):
        for x0 in range(0, width, step):
            y1, x1 = min(y0 + step, height), min(x0 + step, width)  # the region this tile fills
            ya, xa = max(0, y0 - overlap), max(0, x0 - overlap)  # ... read with its margins
            yb, xb = min(height, y1 + overlap), min(width, x1 + overlap)
            piece = net(x[..., ya:yb, xa:xb])
            if out is None:
                out = piece.new_empty(*piece.shape[:2], height * scale, width * scale)
            out[..., y0 * scale : y1 * scale, x0 * scale : x1 * scale] = (
                piece[..., (y0 - ya) * scale : (y1 - ya) * scale, (x0 - xa) * scale : (x1 - xa) * scale])
    return out
