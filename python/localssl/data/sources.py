"""What the training and probing jobs need from a dataset, read from the one registry
(localssl.data.catalog): normalisation, which split trains what, and images at the run's size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch.nn.functional as F

from localssl.data.catalog import DATASETS, dataset_info, load_split
from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet


@dataclass(frozen=True)
class Source:
    """Constants of one dataset: channels, normalisation, and which split trains what."""

    channels: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    ssl_split: str
    probe_train_split: str
    probe_test_split: str


def source(name: str) -> Source:
    """The registry entry of dataset `name` as the jobs use it; DatasetError if unknown."""
    info = dataset_info(name)
    return Source(info.channels, info.mean, info.std, info.pretrain_split,
                  info.probe_train_split, info.probe_test_split)  # fmt: skip


def fit_size(images: ImageSet, size: int) -> ImageSet:
    """Centre-pad smaller images with zeros (MNIST 28 -> 32) or area-resize larger ones.

    Returns:
        ImageSet with images (N, C, size, size) uint8; the input itself (a memory map stays one)
        when the images already have that size.
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


def load_images(
    name: str, root: str, split: str, size: int, count: int | None, labels: bool = False
) -> ImageSet:
    """The first `count` images of a split (all when None), sized to `size` x `size`.

    Decoded once and cached as uint8 where the dataset is compressed (CIFAR-10 pickles, Tiny
    ImageNet JPEGs); STL-10's raw files are memory-mapped, so the 2.76 GB unlabeled split is
    read only as batches index it.

    Args:
        labels: raise DatasetError if the split has none.
    Returns:
        ImageSet with images (N, C, size, size) uint8, labels (N,) int64 or None.
    """
    if name not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}")
    if not Path(root).exists():
        raise DatasetError(f"data.root {root}: no such folder")
    images = load_split(name, root, split, require_labels=labels)
    return fit_size(images.head(count), size)
