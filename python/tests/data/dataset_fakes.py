"""Small fake files in the exact on-disk formats of CIFAR-10, STL-10 and Tiny ImageNet.

Each writer returns the arrays it wrote as {split: (images (N, 3, H, W) uint8, labels or None)},
so loaders can be compared pixel for pixel.
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

Split = tuple[np.ndarray, "np.ndarray | None"]
Labeled = tuple[np.ndarray, np.ndarray]

CIFAR_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
]  # fmt: skip


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
    """Protocol-2 pickle bytes as Python 2's cPickle writes them (str keys, not bytes)."""
    return b"\x80\x02" + _py2(obj) + b"."


def _random_split(rng: np.random.Generator, count: int, side: int) -> Labeled:
    images = rng.integers(0, 256, size=(count, 3, side, side), dtype=np.uint8)
    return images, rng.integers(0, 10, size=count).astype(np.int64)


def write_cifar_python(
    root: Path, per_batch: int = 4, test: int = 6, seed: int = 0
) -> dict[str, Labeled]:
    """root/cifar-10-batches-py with 5 train batches of `per_batch` images and one test batch."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    out = {"train": _random_split(rng, 5 * per_batch, 32), "test": _random_split(rng, test, 32)}
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
    root: Path, per_batch: int = 4, test: int = 6, seed: int = 1
) -> dict[str, Labeled]:
    """root/cifar-10-batches-bin with 3073-byte records."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True)
    out = {"train": _random_split(rng, 5 * per_batch, 32), "test": _random_split(rng, test, 32)}
    files = [(f"data_batch_{i + 1}.bin", "train", i) for i in range(5)]
    for name, split, i in [*files, ("test_batch.bin", "test", 0)]:
        size = per_batch if split == "train" else test
        images, labels = (a[i * size : (i + 1) * size] for a in out[split])
        records = np.concatenate([labels.astype(np.uint8)[:, None], images.reshape(-1, 3072)], 1)
        (folder / name).write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR_NAMES) + "\n\n")
    return out


def write_stl10(
    root: Path, train: int = 10, test: int = 8, unlabeled: int = 12, seed: int = 2
) -> dict[str, Split]:
    """root/stl10_binary with column-major planes, labels 1..10 and fold_indices.txt."""
    rng = np.random.default_rng(seed)
    folder = root / "stl10_binary"
    folder.mkdir(parents=True)
    out: dict[str, Split] = {}
    for split, count in (("train", train), ("test", test), ("unlabeled", unlabeled)):
        images, labels = _random_split(rng, count, 96)
        # On disk each plane is column-major: (N, C, W, H) in C order.
        (folder / f"{split}_X.bin").write_bytes(
            np.ascontiguousarray(images.transpose(0, 1, 3, 2)).tobytes()
        )
        if split != "unlabeled":
            (folder / f"{split}_y.bin").write_bytes((labels + 1).astype(np.uint8).tobytes())
        out[split] = (images, None if split == "unlabeled" else labels)
    names = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
    (folder / "class_names.txt").write_text("\n".join(names) + "\n")
    folds = [" ".join(str((k + j) % train) for j in range(3)) for k in range(10)]
    (folder / "fold_indices.txt").write_text("\n".join(folds) + "\n")
    return out


def smooth_images(rng: np.random.Generator, count: int, side: int) -> np.ndarray:
    """(count, 3, side, side) uint8 low-frequency images that survive JPEG almost unchanged."""
    coarse = rng.integers(30, 226, size=(count, 3, 4, 4)).astype(np.float32)
    grid = np.linspace(0, 3, side)
    i0 = np.floor(grid).astype(int).clip(0, 2)
    t = (grid - i0)[None, None]
    rows = coarse[:, :, i0] * (1 - t[..., None]) + coarse[:, :, i0 + 1] * t[..., None]
    full = rows[..., i0] * (1 - t[:, :, None]) + rows[..., i0 + 1] * t[:, :, None]
    return full.round().astype(np.uint8)


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


WNIDS = ["n09999999", "n01443537", "n04067472", "n02123045", "n03100240"]  # deliberately unsorted


def write_tiny_imagenet(
    root: Path, train: int = 3, val: int = 2, test: int = 4, seed: int = 3
) -> dict[str, Any]:
    """root/tiny-imagenet-200 with 5 classes; the first train image of the first sorted class is
    a grayscale JPEG. Returns {split: (decoded images, labels)} plus "source" arrays."""
    rng = np.random.default_rng(seed)
    folder = root / "tiny-imagenet-200"
    folder.mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    (folder / "words.txt").write_text("".join(f"{w}\tthing {w}\n" for w in WNIDS))
    wnids = sorted(WNIDS)
    out: dict[str, Any] = {}
    paths, labels = [], []
    for label, wnid in enumerate(wnids):
        boxes = []
        for k in range(train):
            path = folder / "train" / wnid / "images" / f"{wnid}_{k}.JPEG"
            _save_jpeg(path, smooth_images(rng, 1, 64)[0], gray=label == 0 and k == 0)
            paths.append(path)
            labels.append(label)
            boxes.append(f"{path.name}\t0\t0\t63\t63\n")
        (folder / "train" / wnid / f"{wnid}_boxes.txt").write_text("".join(boxes))
    out["train"] = (np.stack([reference_decode(p) for p in sorted(paths)]), np.array(labels))
    lines, val_images, val_labels = [], [], []
    for i in range(val * len(wnids)):
        label = i % len(wnids)
        path = folder / "val" / "images" / f"val_{i}.JPEG"
        _save_jpeg(path, smooth_images(rng, 1, 64)[0], gray=False)
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


def tar_gz(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` as a .tar.gz holding `<folder name>/...`, plus raw `extra` members by name."""
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
        for name, data in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return archive


def zip_folder(folder: Path, archive: Path, extra: dict[str, bytes] | None = None) -> Path:
    """`folder` as a .zip holding `<folder name>/...`, plus raw `extra` members by name."""
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            zf.write(path, str(path.relative_to(folder.parent)))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return archive
