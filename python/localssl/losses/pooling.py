"""Pooling of an activity into the vector the loss reads (paper-spec 4.1, step 2).

A kernel of None means the global spatial mean (C values); an integer k means k x k average
patches, flattened channel-major (C * (H/k) * (W/k) values), so that B can learn dependencies
across positions (paper-spec 3.3); k = 1 keeps every unit.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from localssl.config import PoolingConfig


def pool_flat(h: torch.Tensor, kernel: int | None) -> torch.Tensor:
    """Average-pool in kernel x kernel patches (None: over the whole map), flatten channel-major.

    Args:
        h: (N, C, H, W) activity.
    Returns:
        (N, C * (H // k) * (W // k)), or (N, C) for global pooling.
    """
    if kernel is None:
        return h.mean(dim=(2, 3))
    if kernel == 1:
        return h.flatten(1)
    return F.avg_pool2d(h, kernel).flatten(1)


def pooled_dim(shape: tuple[int, int, int], kernel: int | None) -> int:
    """Length of `pool_flat`'s output for an activity of shape (C, H, W)."""
    channels, height, width = shape
    return channels if kernel is None else channels * (height // kernel) * (width // kernel)


def layer_kernels(
    pooling: PoolingConfig, shapes: list[tuple[int, int, int]], what: str = "layer"
) -> list[int | None]:
    """The pooling kernel of every layer, checked against the layers' map sizes.

    Args:
        shapes: (C_l, H_l, W_l) per layer.
        what: how to name a map in messages ("layer", or "the patch encoding of layer").
    Raises:
        ValueError naming `rule.pooling.kernels.<l>` for a kernel that does not fit its map.
    """
    if pooling.kind == "global":
        return [None] * len(shapes)
    if pooling.kind == "none":
        return [1] * len(shapes)
    given = tuple(pooling.kernels or ())
    if len(given) != len(shapes):
        raise ValueError(f"rule.pooling.kernels: needs one kernel per layer ({len(shapes)}), "
                         f"got {len(given)}")  # fmt: skip
    for layer, (kernel, (_, height, width)) in enumerate(zip(given, shapes, strict=True)):
        if kernel > min(height, width):
            raise ValueError(
                f"rule.pooling.kernels.{layer}: kernel {kernel} is larger than {what} "
                f"{layer + 1}'s {height}x{width} map"
            )
        if height % kernel or width % kernel:
            raise ValueError(
                f"rule.pooling.kernels.{layer}: kernel {kernel} does not divide {what} "
                f"{layer + 1}'s {height}x{width} map, so its border would be dropped"
            )
    kernels: list[int | None] = [*given]
    return kernels
