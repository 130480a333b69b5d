"""STL-10 from its official binary files (`stl10_binary/`).

Each image is 3 planes of 96x96 bytes stored column-major (MATLAB order), so the file reads as
(N, C, W, H) and a transpose of the last two axes gives (N, C, H, W). Labels in `*_y.bin` are
1..10 and become 0..9. `unlabeled_X.bin` (2.76 GB) has no labels. All image files are
memory-mapped: nothing is read until an image is indexed, unless `in_memory` asks for a copy.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet

log = logging.getLogger(__name__)

FOLDER = "stl10_binary"
SIDE = 96
IMAGE_BYTES = 3 * SIDE * SIDE
SPLITS = ("train", "test", "unlabeled")
LABELED = ("train", "test")
CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
NUM_FOLDS = 10


def locate(root: Path) -> Path:
    """The `stl10_binary` folder: `root` itself or `root/stl10_binary`."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: STL-10 root folder does not exist")
    for folder in (root, root / FOLDER):
        if (folder / "train_X.bin").is_file() or (folder / "unlabeled_X.bin").is_file():
            log.debug("STL-10: found the binary files in %s", folder)
            return folder
    raise DatasetError(f"{root}: no STL-10 found: expected {FOLDER}/ with train_X.bin in it")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise DatasetError(f"stl10: unknown split {split!r}; expected one of {SPLITS}")


def image_file(folder: Path, split: str) -> Path:
    """`<split>_X.bin` in `folder`."""
    _check_split(split)
    return folder / f"{split}_X.bin"


def label_file(folder: Path, split: str) -> Path:
    """`<split>_y.bin`; raises DatasetError for "unlabeled", which has none."""
    _check_split(split)
    if split not in LABELED:
        raise DatasetError(f"{FOLDER}: split {split!r} has no labels (there is no {split}_y.bin)")
    return folder / f"{split}_y.bin"


def count_images(path: Path) -> int:
    """Number of whole images in an `*_X.bin`; raises DatasetError on a missing or cut file."""
    rel = f"{FOLDER}/{path.name}"
    if not path.is_file():
        raise DatasetError(f"{rel}: missing")
    size = path.stat().st_size
    if size == 0 or size % IMAGE_BYTES:
        raise DatasetError(f"{rel}: {size} bytes, not a whole number of {IMAGE_BYTES}-byte images")
    return size // IMAGE_BYTES


def read_images(path: Path, in_memory: bool = False) -> torch.Tensor:
    """Images of one `*_X.bin` as (N, 3, 96, 96) uint8; a memory-mapped, strided view unless
    `in_memory`, then a contiguous copy in RAM."""
    count = count_images(path)
    # Copy-on-write keeps the tensor writable for torch without ever touching the file.
    raw = np.memmap(path, dtype=np.uint8, mode="c", shape=(count, 3, SIDE, SIDE))
    images = torch.from_numpy(raw).transpose(2, 3)
    return images.contiguous() if in_memory else images


def read_labels(folder: Path, split: str, count: int) -> torch.Tensor:
    """Labels of a labeled split as (count,) int64 in 0..9."""
    path = label_file(folder, split)
    rel = f"{FOLDER}/{path.name}"
    if not path.is_file():
        raise DatasetError(f"{rel}: missing")
    size = path.stat().st_size
    if size != count:
        raise DatasetError(f"{rel}: {size} bytes, expected {count} (one per image in {split}_X)")
    y = np.fromfile(path, dtype=np.uint8).astype(np.int64)
    bad = np.flatnonzero((y < 1) | (y > len(CLASSES)))
    if bad.size:
        raise DatasetError(f"{rel}: label {int(y[bad[0]])} at index {int(bad[0])}, expected 1..10")
    return torch.from_numpy(y - 1)


def read_classes(folder: Path) -> tuple[str, ...]:
    """Names from class_names.txt, or the standard ten when it is absent."""
    path = folder / "class_names.txt"
    if not path.is_file():
        return CLASSES
    names = tuple(n.strip() for n in path.read_text(encoding="utf-8").splitlines() if n.strip())
    if len(names) != len(CLASSES):
        raise DatasetError(f"{FOLDER}/class_names.txt: {len(names)} names, expected 10")
    return names


def read_folds(folder: Path, num_train: int) -> list[np.ndarray]:
    """The 10 folds of fold_indices.txt, each an int64 array of 0-based indices into train."""
    path = folder / "fold_indices.txt"
    rel = f"{FOLDER}/fold_indices.txt"
    if not path.is_file():
        raise DatasetError(f"{rel}: missing")
    lines = [ln for ln in path.read_text(encoding="ascii").splitlines() if ln.strip()]
    if len(lines) != NUM_FOLDS:
        raise DatasetError(f"{rel}: {len(lines)} lines, expected {NUM_FOLDS}")
    folds = []
    for number, line in enumerate(lines, start=1):
        try:
            idx = np.array([int(t) for t in line.split()], dtype=np.int64)
        except ValueError as exc:
            raise DatasetError(f"{rel} line {number}: not integers ({exc})") from exc
        if idx.size and (idx.min() < 0 or idx.max() >= num_train):
            raise DatasetError(f"{rel} line {number}: index out of range 0..{num_train - 1}")
        folds.append(idx)
    return folds


def source_files(root: Path, split: str) -> list[Path]:
    """The files that `load_stl10(root, split)` reads."""
    folder = locate(root)
    images = image_file(folder, split)
    return [images, label_file(folder, split)] if split in LABELED else [images]


def load_stl10(
    root: Path, split: str, *, fold: int | None = None, in_memory: bool = False
) -> ImageSet:
    """STL-10 `split` ("train" 5k, "test" 8k, "unlabeled" 100k) -> ImageSet of
    (N, 3, 96, 96) uint8, labels 0..9 or None for "unlabeled".

    Args:
        fold: 0..9 selects the 1000 train images of that line of fold_indices.txt (train only).
        in_memory: copy the images into RAM instead of memory-mapping the file.
    """
    folder = locate(root)
    images = read_images(image_file(folder, split), in_memory)
    labels = read_labels(folder, split, len(images)) if split in LABELED else None
    if fold is not None:
        if split != "train":
            raise DatasetError(f"stl10: fold selects train images; split {split!r} has no folds")
        if not 0 <= fold < NUM_FOLDS:
            raise DatasetError(f"stl10: fold {fold} out of range 0..{NUM_FOLDS - 1}")
        index = torch.from_numpy(read_folds(folder, len(images))[fold])
        images = images[index]
        labels = None if labels is None else labels[index]
    log.info(
        "STL-10 %s: %d images in %s (%s)",
        split,
        len(images),
        folder,
        "in RAM" if in_memory else "memory-mapped",
    )
    return ImageSet(images, labels, read_classes(folder))
