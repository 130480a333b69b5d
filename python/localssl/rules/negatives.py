"""Negative samplers: which other image a row is contrasted with; never the positive's image."""

from __future__ import annotations

import torch

NEGATIVE_KINDS = ("next", "random")


def negative_index(rows: int, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Index of each row's negative among 2B stacked rows [view 1; view 2]; never the same image.

    Row j shows image j mod B, so the offset o = (index - i) mod 2B must avoid 0 and B.
    "next" is the paper's choice, the next row (paper-spec 4.1, step 4); "random" draws o
    uniformly among the 2B - 2 allowed offsets.

    Returns:
        (2B,) int64 on the generator's device.
    """
    half = rows // 2
    if half < 2:
        raise ValueError("contrastive rules need a batch of at least 2 images")
    base = torch.arange(rows, device=gen.device)
    if kind == "next":
        return (base + 1) % rows
    offset = torch.randint(1, rows - 1, (rows,), generator=gen, device=gen.device)
    offset = offset + (offset >= half).long()
    return (base + offset) % rows


def other_image(images: int, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Index of another image for each of B images; never the image itself.

    Returns:
        (B,) int64 on the generator's device.
    """
    if images < 2:
        raise ValueError("contrastive rules need a batch of at least 2 images")
    base = torch.arange(images, device=gen.device)
    if kind == "next":
        return (base + 1) % images
    offset = torch.randint(1, images, (images,), generator=gen, device=gen.device)
    return (base + offset) % images
