"""Which files back each dataset name, and the per-dataset constants the pipeline needs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch.nn.functional as F

from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet
from localssl.data.mnist import FASHION_CLASSES, MNIST_CLASSES, load_idx_split


@dataclass(frozen=True)
class Source:
    """Constants of one dataset: channels, normalisation, and which split trains what."""

    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    ssl_split: str
    probe_train_split: str
    probe_test_split: str


SOURCES: dict[str, Source] = {
    "mnist": Source(1, (0.1307,), (0.3081,), "train", "train", "test"),
    "fashion-mnist": Source(1, (0.2860,), (0.3530,), "train", "train", "test"),
}


def source(name: str) -> Source:
    if name not in SOURCES:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(SOURCES))}")
    return SOURCES[name]


def fit_size(images: ImageSet, size: int) -> ImageSet:
    """Centre-pad smaller images with zeros (MNIST 28 -> 32) or area-resize larger ones.

    Returns:
        ImageSet with images (N, C, size, size) uint8.
    """
    height, width = images.images.shape[-2:]
    if (height, width) == (size, size):
        return images
    x = images.images
    if height <= size and width <= size:
        top, left = (size - height) // 2, (size - width) // 2
        x = F.pad(x, (left, size - width - left, top, size - height - top))
    else:
        x = F.interpolate(x.float(), size=(size, size), mode="area").round().byte()
    return ImageSet(x.contiguous(), images.labels, images.classes)


def load_images(name: str, root: str, split: str, size: int, count: int | None) -> ImageSet:
    """Load the first `count` images of a split, sized to `size` x `size`."""
    if not Path(root).exists():
        raise DatasetError(f"data.root {root}: no such folder")
    if name == "mnist":
        images = load_idx_split(root, split, MNIST_CLASSES)
    elif name == "fashion-mnist":
        images = load_idx_split(root, split, FASHION_CLASSES)
    else:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(SOURCES))}")
    return fit_size(images.head(count), size)
