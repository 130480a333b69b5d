"""Seeded synthetic two-view batches for the theory-lab tests."""

from __future__ import annotations

import torch


def two_view_batch(m: int, d: int, seed: int, noise: float = 0.5) -> torch.Tensor:
    """(2m, d) float64 batch [first views; second views]: two noisy copies of m points."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(m, d, generator=g, dtype=torch.float64)
    views = [x + noise * torch.randn(m, d, generator=g, dtype=torch.float64) for _ in range(2)]
    return torch.cat(views)


def two_view_images(m: int, side: int, seed: int) -> torch.Tensor:
    """(2m, 1, side, side) float64 image batch of two noisy copies of m random images."""
    return two_view_batch(m, side * side, seed).reshape(2 * m, 1, side, side)
