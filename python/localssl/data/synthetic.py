"""Small generated datasets in the exact on-disk formats of CIFAR-10, STL-10 and Tiny ImageNet.

They stand in for the real files where those cannot be had (CI machines, smoke-scale tables):
every loader, the cache, `check_dataset` and the training pipeline read them as they read the
real thing. Two kinds of pixels:

- random (the default of the writers): uniform noise, for format tests that compare pixels;
- structured: every class has its own smooth colour layout plus per-image noise, so a probe can
  beat chance and a label shuffled against its image shows up as chance accuracy.

Each writer returns what it wrote as {split: (images (N, 3, H, W) uint8, labels (N,) or None)}.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from localssl.data.errors import DatasetError

Split = tuple[np.ndarray, "np.ndarray | None"]
Labeled = tuple[np.ndarray, np.ndarray]

CIFAR_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip
STL_NAMES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
MARKER = ".localssl-synthetic.json"
WNIDS = ["n09999999", "n01443537", "n04067472", "n02123045", "n03100240"]  # deliberately unsorted


# ---------------------------------------------------------------- Python-2 pickles (CIFAR python)


def _py2_str(value: str | bytes) -> bytes:
    raw = value.encode("latin1") if isinstance(value, str) else value
    if len(raw) < 256:
        return b"U" + bytes([len(raw)]) + raw  # SHORT_BINSTRING: a Python-2 str
    return b"T" + struct.pack("<i", len(raw)) + raw  # BINSTRING


def _py2_int(value: int) -> bytes:
    if 0 <= value < 256:
        return b"K" + bytes([value])
    if 0 <= value < 65536:
        return b"M" + struct.pack("<H", value)
    return b"J" + struct.pack("<i", value)


def _py2_array(array: np.ndarray) -> bytes:
    """A uint8 array exactly as Python-2 numpy pickles it (global numpy.core.multiarray)."""
    dtype_state = _py2((3, "|", None, None, None, -1, -1, 0))
    dtype = b"cnumpy\ndtype\n" + _py2(("u1", 0, 1)) + b"R" + dtype_state + b"b"
    head = b"cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n" + _py2((0,)) + _py2_str("b")
    state = _py2_int(1) + _py2(tuple(array.shape)) + dtype + b"\x89" + _py2_str(array.tobytes())
    return head + b"\x87R(" + state + b"tb"


def _py2(obj: Any) -> bytes:
    if obj is None:
        return b"N"
    if isinstance(obj, bool):
        return b"\x88" if obj else b"\x89"
    if isinstance(obj, int):
        return _py2_int(obj)
    if isinstance(obj, str | bytes):
        return _py2_str(obj)
    if isinstance(obj, np.ndarray):
        return _py2_array(np.ascontiguousarray(obj, dtype=np.uint8))
    if isinstance(obj, tuple):
        return b"(" + b"".join(_py2(x) for x in obj) + b"t"
    if isinstance(obj, list):
        return b"](" + b"".join(_py2(x) for x in obj) + b"e" if obj else b"]"
    if isinstance(obj, dict):
        items = b"".join(_py2(k) + _py2(v) for k, v in obj.items())
        return b"}(" + items + b"u" if obj else b"}"
    raise TypeError(f"cannot write {type(obj).__name__} as a Python-2 pickle")


def py2_pickle(obj: Any) -> bytes:
    """Protocol-2 pickle bytes as Python 2's cPickle writes them (str keys, not bytes).

    torchvision and our reader load CIFAR batches with encoding="latin1"; a Python-3 pickle with
    bytes keys would not be read by torchvision, so fakes must look like the originals.
    """
    return b"\x80\x02" + _py2(obj) + b"."


# ---------------------------------------------------------------------------------- pixels


def smooth_images(rng: np.random.Generator, count: int, side: int) -> np.ndarray:
    """(count, 3, side, side) uint8 low-frequency images that survive JPEG almost unchanged."""
    coarse = rng.integers(30, 226, size=(count, 3, 4, 4)).astype(np.float32)
    return _upsample(coarse, side)


def _upsample(coarse: np.ndarray, side: int) -> np.ndarray:
    """Bilinear upsampling of (N, 3, 4, 4) float to (N, 3, side, side) uint8."""
    grid = np.linspace(0, 3, side)
    i0 = np.floor(grid).astype(int).clip(0, 2)
    t = (grid - i0)[None, None]
    rows = coarse[:, :, i0] * (1 - t[..., None]) + coarse[:, :, i0 + 1] * t[..., None]
    full = rows[..., i0] * (1 - t[:, :, None]) + rows[..., i0 + 1] * t[:, :, None]
    return full.round().clip(0, 255).astype(np.uint8)


def class_images(
    rng: np.random.Generator, labels: np.ndarray, side: int, num_classes: int
) -> np.ndarray:
    """Structured images: class c has a fixed smooth 4x4 colour layout, each image adds its own
    coarse and pixel noise.

    Args:
        labels: (N,) int in 0..num_classes-1.
    Returns:
        (N, 3, side, side) uint8.
    """
    # The class layouts come from a generator of their own, so every split of one dataset (and
    # every dataset size) shares them: a probe trained on train transfers to test.
    layouts = np.random.default_rng(12345).uniform(40, 215, size=(num_classes, 3, 4, 4))
    coarse = layouts[labels] + rng.normal(0, 18, size=(len(labels), 3, 4, 4))
    images = _upsample(coarse.astype(np.float32), side).astype(np.int16)
    images += rng.integers(-12, 13, size=images.shape, dtype=np.int16)
    return images.clip(0, 255).astype(np.uint8)


def _random_split(rng: np.random.Generator, count: int, side: int) -> Labeled:
    images = rng.integers(0, 256, size=(count, 3, side, side), dtype=np.uint8)
    return images, rng.integers(0, 10, size=count).astype(np.int64)


def _structured_split(rng: np.random.Generator, count: int, side: int) -> Labeled:
    # Balanced labels in shuffled order: every class appears even in a tiny split.
    labels = rng.permutation(np.arange(count) % 10).astype(np.int64)
    return class_images(rng, labels, side, 10), labels


def _split(rng: np.random.Generator, count: int, side: int, structured: bool) -> Labeled:
    return _structured_split(rng, count, side) if structured else _random_split(rng, count, side)


# --------------------------------------------------------------------------------- CIFAR-10


def write_cifar_python(
    root: Path, per_batch: int = 4, test: int = 6, seed: int = 0, structured: bool = False
) -> dict[str, Labeled]:
    """root/cifar-10-batches-py with 5 train batches of `per_batch` images and one test batch."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    out = {
        "train": _split(rng, 5 * per_batch, 32, structured),
        "test": _split(rng, test, 32, structured),
    }
    files = [(f"data_batch_{i + 1}", "train", i) for i in range(5)] + [("test_batch", "test", 0)]
    for name, split, i in files:
        size = per_batch if split == "train" else test
        images, labels = (a[i * size : (i + 1) * size] for a in out[split])
        batch = {
            "batch_label": f"{split} batch",
            "labels": [int(v) for v in labels],
            "data": images.reshape(len(images), 3072),
            "filenames": [f"img_{i}_{k}.png" for k in range(len(images))],
        }
        (folder / name).write_bytes(py2_pickle(batch))
    meta = {"num_cases_per_batch": per_batch, "label_names": CIFAR_NAMES, "num_vis": 3072}
    (folder / "batches.meta").write_bytes(py2_pickle(meta))
    return out


def write_cifar_binary(
    root: Path, per_batch: int = 4, test: int = 6, seed: int = 1, structured: bool = False
) -> dict[str, Labeled]:
    """root/cifar-10-batches-bin with 3073-byte records."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    out = {
        "train": _split(rng, 5 * per_batch, 32, structured),
        "test": _split(rng, test, 32, structured),
    }
    files = [(f"data_batch_{i + 1}.bin", "train", i) for i in range(5)]
    for name, split, i in [*files, ("test_batch.bin", "test", 0)]:
        size = per_batch if split == "train" else test
        images, labels = (a[i * size : (i + 1) * size] for a in out[split])
        records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(-1, 3072)], 1)
        (folder / name).write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR_NAMES) + "\n\n")
    return out


# ----------------------------------------------------------------------------------- STL-10


def write_stl10(
    root: Path,
    train: int = 10,
    test: int = 8,
    unlabeled: int = 12,
    seed: int = 2,
    structured: bool = False,
) -> dict[str, Split]:
    """root/stl10_binary with column-major planes, labels 1..10 and fold_indices.txt."""
    rng = np.random.default_rng(seed)
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    out: dict[str, Split] = {}
    for split, count in (("train", train), ("test", test), ("unlabeled", unlabeled)):
        images, labels = _split(rng, count, 96, structured)
        # On disk each plane is column-major: (N, C, W, H) in C order.
        (folder / f"{split}_X.bin").write_bytes(
            np.ascontiguousarray(images.transpose(0, 1, 3, 2)).tobytes()
        )
        if split != "unlabeled":
            (folder / f"{split}_y.bin").write_bytes((labels + 1).astype(np.uint8).tobytes())
        out[split] = (images, None if split == "unlabeled" else labels)
    (folder / "class_names.txt").write_text("\n".join(STL_NAMES) + "\n")
    folds = [" ".join(str((k + j) % train) for j in range(3)) for k in range(10)]
    (folder / "fold_indices.txt").write_text("\n".join(folds) + "\n")
    return out


# ---------------------------------------------------------------------------- Tiny ImageNet


def reference_decode(path: Path) -> np.ndarray:
    """What a JPEG decodes to, (3, H, W) uint8 RGB."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).transpose(2, 0, 1)


def _save_jpeg(path: Path, image: np.ndarray, gray: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gray:
        Image.fromarray(image[0]).save(path, "JPEG", quality=95)
    else:
        Image.fromarray(image.transpose(1, 2, 0)).save(path, "JPEG", quality=95)


def write_tiny_imagenet(
    root: Path,
    train: int = 3,
    val: int = 2,
    test: int = 4,
    seed: int = 3,
    structured: bool = False,
) -> dict[str, Any]:
    """root/tiny-imagenet-200 with 5 classes, `train` and `val` images per class; the first train
    image of the first sorted class is a grayscale JPEG. Returns {split: (decoded images,
    labels)}."""
    rng = np.random.default_rng(seed)
    folder = root / "tiny-imagenet-200"
    folder.mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (folder / "words.txt").write_text("".join(f"{w}\tthing {w}\n" for w in WNIDS))
    wnids = sorted(WNIDS)

    def image(label: int) -> np.ndarray:
        if structured:
            return class_images(rng, np.array([label]), 64, len(wnids))[0]
        return smooth_images(rng, 1, 64)[0]

    out: dict[str, Any] = {}
    paths, labels = [], []
    for label, wnid in enumerate(wnids):
        boxes = []
        for k in range(train):
            path = folder / "train" / wnid / "images" / f"{wnid}_{k}.JPEG"
            _save_jpeg(path, image(label), gray=label == 0 and k == 0)
            paths.append(path)
            labels.append(label)
            boxes.append(f"{path.name}\t0\t0\t63\t63\n")
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("".join(boxes))
    out["train"] = (np.stack([reference_decode(p) for p in sorted(paths)]), np.array(labels))
    lines, val_images, val_labels = [], [], []
    for i in range(val * len(wnids)):
        label = i % len(wnids)
        path = folder / "val" / "images" / f"val_{i}.JPEG"
        _save_jpeg(path, image(label), gray=False)
        lines.append(f"{path.name}\t{wnids[label]}\t0\t0\t63\t63\n")
        val_images.append(reference_decode(path))
        val_labels.append(label)
    (folder / "val" / "val_annotations.txt").write_text("".join(lines))
    out["val"] = (np.stack(val_images), np.array(val_labels))
    test_paths = [folder / "test" / "images" / f"test_{i}.JPEG" for i in range(test)]
    for path in test_paths:
        _save_jpeg(path, smooth_images(rng, 1, 64)[0], gray=False)
    out["test"] = (np.stack([reference_decode(p) for p in sorted(test_paths)]), None)
    return out


# ------------------------------------------------------------------------------ one entry


FOLDERS = {
    "cifar10": "cifar-10-batches-py",
    "cifar10-binary": "cifar-10-batches-bin",
    "stl10": "stl10_binary",
    "tiny-imagenet": "tiny-imagenet-200",
}


def write_synthetic(name: str, root: str | Path, images: int = 80, seed: int = 0) -> dict[str, Any]:
    """Write a structured synthetic copy of dataset `name` under `root`, unless one is there.

    Args:
        name: "cifar10" (python pickles), "cifar10-binary", "stl10" or "tiny-imagenet".
        images: size of the self-supervised split (CIFAR and Tiny train, STL-10 unlabeled);
            the held-out split (CIFAR test, Tiny val) and STL-10's train and test get half.
    Returns:
        {"dataset", "root", "folder", "images", "seed", "counts": {split: images}, "written"}
        ("written" is False when an identical copy was already there).
    """
    if name not in FOLDERS:
        raise DatasetError(f"no synthetic writer for {name!r}; known: {', '.join(FOLDERS)}")
    if images < 10:
        raise DatasetError(f"synthetic {name}: at least 10 images, got {images}")
    root = Path(root)
    folder = root / FOLDERS[name]
    counts: dict[str, int]
    writer: Callable[..., Any]
    if name.startswith("cifar10"):
        per_batch, test = images // 5, max(10, images // 2)
        counts = {"train": 5 * per_batch, "test": test}
        writer = write_cifar_binary if name == "cifar10-binary" else write_cifar_python
        args: dict[str, Any] = {"per_batch": per_batch, "test": test}
    elif name == "stl10":
        half = max(10, images // 2)
        counts = {"train": half, "test": half, "unlabeled": images}
        writer, args = write_stl10, {"train": half, "test": half, "unlabeled": images}
    else:
        train, val = max(1, images // len(WNIDS)), max(1, images // (2 * len(WNIDS)))
        counts = {"train": train * len(WNIDS), "val": val * len(WNIDS), "test": 4}
        writer, args = write_tiny_imagenet, {"train": train, "val": val, "test": 4}
    wanted = {"dataset": name, "images": images, "seed": seed, "counts": counts}
    marker = folder / MARKER
    if folder.exists():
        found = json.loads(marker.read_text()) if marker.is_file() else None
        if found != wanted:
            raise DatasetError(
                f"{folder}: exists but is not the synthetic {name} of {images} images, seed "
                f"{seed}; remove it or choose another root"
            )
        return {"root": str(root), "folder": str(folder), "written": False, **wanted}
    # Written beside the final name and renamed, so a crash never leaves half a dataset that a
    # later call would take for complete.
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=root, prefix=f".{folder.name}.writing-"))
    try:
        writer(scratch, seed=seed, structured=True, **args)
        (scratch / folder.name / MARKER).write_text(json.dumps(wanted))
        os.rename(scratch / folder.name, folder)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"root": str(root), "folder": str(folder), "written": True, **wanted}
