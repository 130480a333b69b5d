"""CLAPP 2021's input: a grey image cut into an overlapping grid of patches (paper-spec 6.3)."""

from __future__ import annotations

import torch

# Luminance weights (ITU-R 601), as torchvision's Grayscale uses.
LUMA = (0.299, 0.587, 0.114)


def grid_side(image_size: int, patch: int, stride: int) -> int:
    """Patches per row (and per column) of a square image; 7 for 64 px, 16 px patches, stride 8."""
    return (image_size - patch) // stride + 1 if patch <= image_size else 0


def patchify(x: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    """Cut each image into the patch grid, row by row.

    Args:
        x: (N, C, S, S) images.
    Returns:
        (N * R * R, C, patch, patch), ordered (image, grid row, grid column), R = grid_side.
    """
    tiles = x.unfold(2, patch, stride).unfold(3, patch, stride)  # N, C, R, R, p, p
    tiles = tiles.permute(0, 2, 3, 1, 4, 5)
    return tiles.reshape(-1, x.shape[1], patch, patch)


def grey_input(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...]
) -> tuple[torch.Tensor, tuple[float, ...], tuple[float, ...]]:
    """Luminance images and their normalisation constants; grey images pass unchanged.

    The grey mean is the luminance-weighted channel mean (exact); the grey std is the weighted
    channel std, exact when the channels are perfectly correlated and otherwise an upper bound
    (for STL-10: 0.264 against the 2021 code's measured 0.257).

    Args:
        images: (N, C, H, W) uint8, C = 1 or 3.
    Returns:
        (N, 1, H, W) uint8, (mean,), (std,).
    """
    if images.shape[1] == 1:
        return images, mean, std
    weights = torch.tensor(LUMA, device=images.device).view(1, 3, 1, 1)
    grey = (images.float() * weights).sum(dim=1, keepdim=True).round().clamp(0, 255).byte()
    grey_mean = sum(w * m for w, m in zip(LUMA, mean, strict=True))
    grey_std = sum(w * s for w, s in zip(LUMA, std, strict=True))
    return grey, (grey_mean,), (grey_std,)
