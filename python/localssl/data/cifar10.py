"""CIFAR-10 from its official python-pickle or binary batches.

Layouts accepted under `root` (the first found wins, and the log says which):
  root/cifar-10-batches-py/   data_batch_1..5, test_batch, batches.meta (Python-2 pickles)
  root/cifar-10-batches-bin/  data_batch_1..5.bin, test_batch.bin, batches.meta.txt
  root itself being either of those folders.
Each image row is 1024 R, 1024 G, then 1024 B bytes, each plane 32x32 row-major, so a row
reshaped to (3, 32, 32) is already C, H, W.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet

log = logging.getLogger(__name__)

CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip
PYTHON_FOLDER = "cifar-10-batches-py"
BINARY_FOLDER = "cifar-10-batches-bin"
SPLITS = ("train", "test")
RECORD = 3073
PIXELS = 3072
_BATCHES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}

# Only these globals may appear in a CIFAR batch; anything else means the file is not one, and
# refusing it keeps a planted pickle from running code.
_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("_codecs", "encode"): ("_codecs", "encode"),
}


@dataclass(frozen=True)
class CifarLayout:
    """Where the batches are: `folder` holds them, `fmt` is "python" or "binary"."""

    folder: Path
    fmt: str

    def files(self, split: str) -> list[Path]:
        """The batch files of `split` ("train": 5 files, "test": 1), in order."""
        if split not in _BATCHES:
            raise DatasetError(f"cifar10: unknown split {split!r}; expected one of {SPLITS}")
        suffix = ".bin" if self.fmt == "binary" else ""
        return [self.folder / f"{name}{suffix}" for name in _BATCHES[split]]

    def meta_file(self) -> Path:
        """batches.meta (python) or batches.meta.txt (binary)."""
        return self.folder / ("batches.meta.txt" if self.fmt == "binary" else "batches.meta")

    def rel(self, path: Path) -> str:
        """`path` as "<batch folder name>/<file>" for messages."""
        return f"{self.folder.name}/{path.name}"


def locate(root: Path) -> CifarLayout:
    """Find the CIFAR-10 batches under `root`; raises DatasetError naming what was looked for."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: CIFAR-10 root folder does not exist")
    candidates = [
        (root, "python", "data_batch_1"),
        (root, "binary", "data_batch_1.bin"),
        (root / PYTHON_FOLDER, "python", None),
        (root / BINARY_FOLDER, "binary", None),
    ]
    for folder, fmt, marker in candidates:
        if (folder / marker).is_file() if marker else folder.is_dir():
            log.debug("CIFAR-10: found the %s batches in %s", fmt, folder)
            return CifarLayout(folder, fmt)
    raise DatasetError(
        f"{root}: no CIFAR-10 found: expected {PYTHON_FOLDER}/ or {BINARY_FOLDER}/ in it, "
        "or the batch files themselves"
    )


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        target = _ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"refusing global {module}.{name}")
        return super().find_class(*target)


def read_pickle(path: Path, rel: str) -> dict[str, Any]:
    """Load one Python-2 pickle (str keys via latin1) with only numpy globals allowed."""
    if not path.is_file():
        raise DatasetError(f"{rel}: missing")
    try:
        with path.open("rb") as f:
            obj = _BatchUnpickler(f, encoding="latin1").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{rel}: truncated or not a CIFAR pickle ({exc})") from exc
    if not isinstance(obj, dict):
        raise DatasetError(f"{rel}: expected a pickled dict, got {type(obj).__name__}")
    return obj


def read_python_batch(path: Path, rel: str) -> tuple[np.ndarray, np.ndarray]:
    """One pickle batch -> images (n, 3, 32, 32) uint8 and labels (n,) int64."""
    batch = read_pickle(path, rel)
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or labels is None:
        raise DatasetError(f"{rel}: no 'data' array and 'labels' list in the pickle")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != PIXELS:
        raise DatasetError(f"{rel}: data is {data.dtype} {data.shape}, expected uint8 (n, 3072)")
    y = np.asarray(labels, dtype=np.int64)
    if y.shape != (data.shape[0],):
        raise DatasetError(f"{rel}: {y.size} labels for {data.shape[0]} images")
    _check_labels(y, rel)
    return data.reshape(-1, 3, 32, 32), y


def read_binary_batch(path: Path, rel: str) -> tuple[np.ndarray, np.ndarray]:
    """One .bin batch of 3073-byte records -> images (n, 3, 32, 32) uint8, labels (n,) int64."""
    if not path.is_file():
        raise DatasetError(f"{rel}: missing")
    size = path.stat().st_size
    if size == 0 or size % RECORD:
        raise DatasetError(f"{rel}: {size} bytes, not a whole number of {RECORD}-byte records")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD)
    y = raw[:, 0].astype(np.int64)
    _check_labels(y, rel)
    return raw[:, 1:].reshape(-1, 3, 32, 32), y


def _check_labels(y: np.ndarray, rel: str) -> None:
    bad = np.flatnonzero((y < 0) | (y >= len(CLASSES)))
    if bad.size:
        raise DatasetError(f"{rel}: label {int(y[bad[0]])} at index {int(bad[0])}, expected 0..9")


def read_classes(layout: CifarLayout) -> tuple[str, ...]:
    """Class names from batches.meta(.txt); the standard ten when the file is absent."""
    path = layout.meta_file()
    if not path.is_file():
        log.warning("%s: missing, using the standard CIFAR-10 class names", layout.rel(path))
        return CLASSES
    if layout.fmt == "binary":
        names = [line.strip() for line in path.read_text(encoding="latin1").splitlines()]
    else:
        names = read_pickle(path, layout.rel(path)).get("label_names", [])
    names = [n for n in names if n]
    if len(names) != len(CLASSES):
        raise DatasetError(f"{layout.rel(path)}: {len(names)} class names, expected 10")
    return tuple(names)


def source_files(root: Path, split: str) -> list[Path]:
    """The files that `load_cifar10(root, split)` reads, for cache keys."""
    layout = locate(root)
    meta = layout.meta_file()
    return [*layout.files(split), *([meta] if meta.is_file() else [])]


def load_cifar10(root: Path, split: str) -> ImageSet:
    """CIFAR-10 `split` ("train" or "test") -> ImageSet of (N, 3, 32, 32) uint8, labels 0..9."""
    layout = locate(root)
    reader = read_binary_batch if layout.fmt == "binary" else read_python_batch
    parts = [reader(path, layout.rel(path)) for path in layout.files(split)]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    log.info(
        "CIFAR-10 %s: %d images from the %s batches in %s",
        split,
        len(labels),
        layout.fmt,
        layout.folder,
    )
    return ImageSet(torch.from_numpy(images), torch.from_numpy(labels), read_classes(layout))
