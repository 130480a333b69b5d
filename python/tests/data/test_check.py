"""check_dataset on fake files: the clean path and each kind of damage, message by message."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import (
    py2_pickle,
    write_cifar_binary,
    write_cifar_python,
    write_stl10,
    write_tiny_imagenet,
)

from localssl.data.check import check_dataset
from localssl.data.checksums import Expected, md5_file
from localssl.data.errors import DatasetError

CIFAR_FILES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]
STL_FILES = ["train_X.bin", "train_y.bin", "unlabeled_X.bin", "test_X.bin", "test_y.bin"]


def _md5s(folder: Path, names: list[str]) -> dict[str, str]:
    return {name: md5_file(folder / name) for name in names}


def _cifar(tmp_path: Path) -> tuple[Path, Expected]:
    write_cifar_python(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    return folder, Expected({"train": 20, "test": 6}, _md5s(folder, CIFAR_FILES))


def _stl(tmp_path: Path) -> tuple[Path, Expected]:
    write_stl10(tmp_path)
    folder = tmp_path / "stl10_binary"
    return folder, Expected({"train": 10, "test": 8, "unlabeled": 12}, _md5s(folder, STL_FILES))


TINY = Expected({"train": 15, "val": 10, "test": 4}, num_classes=5)


def test_cifar_python_clean_with_md5(tmp_path: Path) -> None:
    _, expected = _cifar(tmp_path)
    report = check_dataset("cifar10", tmp_path, full=True, expected=expected)
    assert report["ok"], report["errors"]
    assert report["layout"] == "python" and report["counts"] == {"train": 20, "test": 6}
    assert report["md5_verified"] == CIFAR_FILES


def test_cifar_md5_mismatch_is_named(tmp_path: Path) -> None:
    folder, expected = _cifar(tmp_path)
    data = np.full((4, 3072), 7, dtype=np.uint8)
    (folder / "data_batch_3").write_bytes(py2_pickle({"data": data, "labels": [1, 2, 3, 4]}))
    got = md5_file(folder / "data_batch_3")
    assert not check_dataset("cifar10", tmp_path, expected=expected)["errors"]  # md5 skipped
    report = check_dataset("cifar10", tmp_path, full=True, expected=expected)
    want = expected.md5["data_batch_3"]
    assert report["errors"] == [f"md5 mismatch for data_batch_3: got {got}, expected {want}"]
    assert "data_batch_3" not in report["md5_verified"]


def test_cifar_official_table_flags_fake_sizes(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    report = check_dataset("cifar10", tmp_path)
    assert report["errors"] == [
        *[f"cifar-10-batches-py/data_batch_{i}: 4 images, expected 10000" for i in range(1, 6)],
        "cifar-10-batches-py/test_batch: missing",
    ]


def test_cifar_binary_sizes(tmp_path: Path) -> None:
    write_cifar_binary(tmp_path)
    path = tmp_path / "cifar-10-batches-bin" / "data_batch_2.bin"
    path.write_bytes(path.read_bytes()[:-1])
    report = check_dataset(
        "cifar10", tmp_path, full=True, expected=Expected({"train": 20, "test": 6})
    )
    assert report["errors"] == [
        "cifar-10-batches-bin/data_batch_2.bin: 12291 bytes, expected 12292"
    ]
    assert report["warnings"][0].startswith("cifar-10-batches-bin: no published per-file md5s")


def test_stl_clean_with_md5(tmp_path: Path) -> None:
    _, expected = _stl(tmp_path)
    report = check_dataset("stl10", tmp_path, full=True, expected=expected)
    assert report["ok"], report["errors"]
    assert report["md5_verified"] == STL_FILES
    assert report["counts"] == {"train": 10, "test": 8, "unlabeled": 12}


def test_stl_size_and_md5_messages(tmp_path: Path) -> None:
    folder, expected = _stl(tmp_path)
    (folder / "train_y.bin").write_bytes((folder / "train_y.bin").read_bytes()[:-1])
    raw = bytearray((folder / "test_X.bin").read_bytes())
    raw[100] ^= 0xFF
    (folder / "test_X.bin").write_bytes(bytes(raw))
    got = md5_file(folder / "test_X.bin")
    report = check_dataset("stl10", tmp_path, full=True, expected=expected)
    assert report["errors"] == [
        "stl10_binary/train_y.bin: 9 bytes, expected 10",
        f"md5 mismatch for test_X.bin: got {got}, expected {expected.md5['test_X.bin']}",
    ]


def test_stl_official_sizes(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    errors = check_dataset("stl10", tmp_path)["errors"]
    assert "stl10_binary/train_y.bin: 10 bytes, expected 5000" in errors
    assert "stl10_binary/unlabeled_X.bin: 331776 bytes, expected 2764800000" in errors


def test_stl_missing_pieces(tmp_path: Path) -> None:
    folder, expected = _stl(tmp_path)
    (folder / "unlabeled_X.bin").unlink()
    (folder / "fold_indices.txt").unlink()
    report = check_dataset("stl10", tmp_path, expected=expected)
    assert report["errors"] == [
        "stl10_binary/unlabeled_X.bin: missing",
        "stl10_binary/fold_indices.txt: missing",
    ]


def test_missing_dataset_folder(tmp_path: Path) -> None:
    report = check_dataset("stl10", tmp_path)
    assert not report["ok"]
    assert report["errors"] == [
        f"{tmp_path}: no STL-10 found: expected stl10_binary/ with train_X.bin in it"
    ]


def test_tiny_clean_and_decoded(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    report = check_dataset("tiny-imagenet", tmp_path, full=True, expected=TINY)
    assert report["ok"], report["errors"]
    assert report["counts"] == {"train": 15, "val": 10, "test": 4}


def test_tiny_problems(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    top = tmp_path / "tiny-imagenet-200"
    (top / "train" / "n01443537" / "images" / "n01443537_2.JPEG").unlink()
    shutil.copy(top / "val" / "images" / "val_0.JPEG", top / "val" / "images" / "val_99.JPEG")
    (top / "train" / "n11111111").mkdir()
    (top / "test" / "images" / "test_1.JPEG").write_bytes(b"junk")
    report = check_dataset("tiny-imagenet", tmp_path, full=True, expected=TINY)
    assert report["errors"] == [
        "tiny-imagenet-200/train/n11111111: not in wnids.txt",
        "tiny-imagenet-200/train/n01443537/images: 2 images, expected 3",
        "tiny-imagenet-200/val/images/val_99.JPEG: not listed in val/val_annotations.txt",
        "tiny-imagenet-200/test/images/test_1.JPEG: cannot decode (cannot identify image file "
        f"'{top / 'test' / 'images' / 'test_1.JPEG'}')",
    ]


def test_tiny_val_balance(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    path = tmp_path / "tiny-imagenet-200" / "val" / "val_annotations.txt"
    lines = path.read_text().splitlines()
    lines[0] = lines[0].replace("n01443537", "n02123045")
    path.write_text("\n".join(lines) + "\n")
    assert check_dataset("tiny-imagenet", tmp_path, expected=TINY)["errors"] == [
        "tiny-imagenet-200/val/val_annotations.txt: class n01443537 has 1 images, expected 2",
        "tiny-imagenet-200/val/val_annotations.txt: class n02123045 has 3 images, expected 2",
    ]


def test_unknown_dataset() -> None:
    with pytest.raises(DatasetError, match=r"^no check for dataset 'imagenet'"):
        check_dataset("imagenet", ".")
