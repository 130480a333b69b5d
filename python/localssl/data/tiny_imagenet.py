"""Tiny ImageNet (`tiny-imagenet-200/`), read in place from the official zip layout.

Class index convention: label i is the i-th wnid of wnids.txt after sorting, the order
torchvision's ImageFolder gives; wnids.txt itself is not sorted, so its line order is NOT used.
`classes` holds the wnids. Images are listed in sorted file-name order per class (train), in
val_annotations.txt order (val) and in sorted order (test, unlabeled). Grayscale JPEGs become RGB
by repeating the channel. A `val/` folder reorganised into `val/<wnid>/` folders (as some
training scripts do) is read too; nothing is ever moved.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet

log = logging.getLogger(__name__)

FOLDER = "tiny-imagenet-200"
SIDE = 64
SPLITS = ("train", "val", "test")
SUFFIXES = (".jpeg", ".jpg")


def locate(root: Path) -> Path:
    """The `tiny-imagenet-200` folder: `root` itself or `root/tiny-imagenet-200`."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: Tiny ImageNet root folder does not exist")
    for folder in (root, root / FOLDER):
        if (folder / "wnids.txt").is_file():
            log.debug("Tiny ImageNet: found %s", folder)
            return folder
    raise DatasetError(f"{root}: no Tiny ImageNet found: expected {FOLDER}/wnids.txt")


def rel(folder: Path, path: Path) -> str:
    """`path` relative to the dataset's parent, for messages: tiny-imagenet-200/val/..."""
    return str(path.relative_to(folder.parent))


def read_wnids(folder: Path) -> tuple[str, ...]:
    """The class wnids, sorted; raises DatasetError on an empty file or duplicates."""
    path = folder / "wnids.txt"
    if not path.is_file():
        raise DatasetError(f"{rel(folder, path)}: missing")
    wnids = [w.strip() for w in path.read_text(encoding="ascii").splitlines() if w.strip()]
    if not wnids or len(set(wnids)) != len(wnids):
        raise DatasetError(f"{rel(folder, path)}: {len(wnids)} lines, empty or with duplicates")
    return tuple(sorted(wnids))


def images_in(folder: Path, where: Path) -> list[Path]:
    """The JPEGs directly in `where`, sorted by name; DatasetError if the folder is missing."""
    if not where.is_dir():
        raise DatasetError(f"{rel(folder, where)}: missing folder")
    return sorted(p for p in where.iterdir() if p.suffix.lower() in SUFFIXES)


def read_val_annotations(folder: Path, wnids: Sequence[str]) -> list[tuple[Path, int]]:
    """(image path, label) per line of val/val_annotations.txt, each checked to exist."""
    path = folder / "val" / "val_annotations.txt"
    index = {w: i for i, w in enumerate(wnids)}
    items = []
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        where = f"{rel(folder, path)} line {number}"
        if len(fields) < 2:
            raise DatasetError(f"{where}: expected '<file>\\t<wnid>\\t...', got {line!r}")
        if fields[1] not in index:
            raise DatasetError(f"{where}: unknown wnid {fields[1]} (not in wnids.txt)")
        image = folder / "val" / "images" / fields[0]
        if not image.is_file():
            raise DatasetError(f"{rel(folder, image)}: listed in {where} but missing")
        items.append((image, index[fields[1]]))
    return items


def list_split(folder: Path, split: str) -> tuple[list[Path], list[int] | None]:
    """Image paths of `split` and their labels (None for "test")."""
    wnids = read_wnids(folder)
    if split == "train":
        items = [
            (p, i)
            for i, w in enumerate(wnids)
            for p in images_in(folder, folder / split / w / "images")
        ]
    elif split == "val" and (folder / "val" / "val_annotations.txt").is_file():
        items = read_val_annotations(folder, wnids)
    elif split == "val":
        log.info("Tiny ImageNet: no val_annotations.txt, reading val/<wnid>/ folders")
        items = []
        for i, w in enumerate(wnids):
            where = folder / "val" / w
            where = where / "images" if (where / "images").is_dir() else where
            items += [(p, i) for p in images_in(folder, where)]
    elif split == "test":
        items = [(p, -1) for p in images_in(folder, folder / "test" / "images")]
    else:
        raise DatasetError(f"tiny-imagenet: unknown split {split!r}; expected one of {SPLITS}")
    if not items:
        raise DatasetError(f"{rel(folder, folder / split)}: no images")
    paths = [p for p, _ in items]
    return (paths, None) if split == "test" else (paths, [i for _, i in items])


def decode(folder: Path, path: Path) -> np.ndarray:
    """One JPEG -> (3, 64, 64) uint8, grayscale repeated to RGB."""
    try:
        with Image.open(path) as image:
            rgb = np.asarray(image.convert("RGB"))
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetError(f"{rel(folder, path)}: cannot decode ({exc})") from exc
    if rgb.shape != (SIDE, SIDE, 3):
        raise DatasetError(f"{rel(folder, path)}: {rgb.shape[1]}x{rgb.shape[0]}, expected 64x64")
    return rgb.transpose(2, 0, 1)


def decode_all(folder: Path, paths: Sequence[Path], workers: int | None = None) -> np.ndarray:
    """All `paths` -> (N, 3, 64, 64) uint8. PIL releases the GIL while decoding, so threads
    use every core."""
    out = np.empty((len(paths), 3, SIDE, SIDE), dtype=np.uint8)
    workers = workers or min(8, os.cpu_count() or 1)

    def fill(i: int) -> None:
        out[i] = decode(folder, paths[i])
        if (i + 1) % 10000 == 0:
            log.info("Tiny ImageNet: decoded %d / %d images", i + 1, len(paths))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fill, range(len(paths))))
    return out


def source_files(root: Path, split: str) -> list[Path]:
    """Every file `load_tiny_imagenet(root, split)` reads, for cache keys."""
    folder = locate(root)
    paths, _ = list_split(folder, split)
    annotations = folder / "val" / "val_annotations.txt"
    extra = [annotations] if split == "val" and annotations.is_file() else []
    return [folder / "wnids.txt", *extra, *paths]


def load_tiny_imagenet(root: Path, split: str, workers: int | None = None) -> ImageSet:
    """Tiny ImageNet `split` ("train" 100k, "val" 10k, "test" 10k unlabeled) -> ImageSet of
    (N, 3, 64, 64) uint8, labels = index into the sorted wnids (None for "test")."""
    folder = locate(root)
    paths, labels = list_split(folder, split)
    log.info("Tiny ImageNet %s: decoding %d JPEGs in %s", split, len(paths), folder)
    images = torch.from_numpy(decode_all(folder, paths, workers))
    y = None if labels is None else torch.tensor(labels, dtype=torch.int64)
    return ImageSet(images, y, read_wnids(folder))
