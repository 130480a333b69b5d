"""Two augmented views of MNIST digits for the linear CNN of Figure 4b (spec 11.1).

Each view is a random resized crop to 16x16 (area scale 0.15-1, aspect 3/4-4/3), normalised with
MNIST's mean and std, then randomly erased: with probability 1/2 a box covering 4-16 % of the
image, aspect 0.3-3.3, is set to 0 (torchvision's RandomErasing defaults, applied after
normalisation as in the official code). Everything is batched torch; every draw comes from
the given generator.
"""

from __future__ import annotations

import math

import torch

from localssl.data.augment import random_resized_crop
from localssl.theory.patches import MNIST_MEAN, MNIST_STD

CROP_SIZE = 16
CROP_SCALE = (0.15, 1.0)
ERASE_P = 0.5
ERASE_SCALE = (0.04, 0.16)
ERASE_RATIO = (0.3, 3.3)


def random_erasing(
    x: torch.Tensor,
    generator: torch.Generator,
    p: float = ERASE_P,
    scale: tuple[float, float] = ERASE_SCALE,
    ratio: tuple[float, float] = ERASE_RATIO,
) -> torch.Tensor:
    """Zero one random box per image, each image with probability p.

    Args:
        x: (B, C, H, W).
    Returns:
        (B, C, H, W), a new tensor.
    """
    batch, _, height, width = x.shape
    area = height * width * _uniform(batch, *scale, generator)
    log_ratio = _uniform(batch, math.log(ratio[0]), math.log(ratio[1]), generator)
    aspect = torch.exp(log_ratio)
    box_h = torch.sqrt(area * aspect).round().clamp(1, height - 1)
    box_w = torch.sqrt(area / aspect).round().clamp(1, width - 1)
    top = torch.floor(_uniform(batch, 0, 1, generator) * (height - box_h + 1))
    left = torch.floor(_uniform(batch, 0, 1, generator) * (width - box_w + 1))
    erase = torch.rand(batch, generator=generator) < p

    rows = torch.arange(height).view(1, -1, 1)
    cols = torch.arange(width).view(1, 1, -1)
    inside = (
        (rows >= top.view(-1, 1, 1))
        & (rows < (top + box_h).view(-1, 1, 1))
        & (cols >= left.view(-1, 1, 1))
        & (cols < (left + box_w).view(-1, 1, 1))
        & erase.view(-1, 1, 1)
    )
    return x.masked_fill(inside.unsqueeze(1), 0.0)


def two_views(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Two independent views of each image, stacked as [first views; second views].

    Args:
        images: (B, 1, 28, 28) uint8.
    Returns:
        (2B, 1, 16, 16) float32, normalised.
    """
    x = images.float() / 255
    views = []
    for _ in range(2):
        view = random_resized_crop(x, CROP_SIZE, CROP_SCALE, 0.0, generator)
        view = (view - MNIST_MEAN) / MNIST_STD
        views.append(random_erasing(view, generator))
    return torch.cat(views)


def _uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=generator) * (high - low) + low
