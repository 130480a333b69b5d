"""STL-10 loader on fake column-major binary files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import write_stl10

from localssl.data.catalog import load_split
from localssl.data.errors import DatasetError
from localssl.data.stl10 import label_file, load_stl10, read_folds


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def test_all_splits_load_pixel_exact(tmp_path: Path) -> None:
    expected = write_stl10(tmp_path)
    for split, (images, labels) in expected.items():
        data = load_stl10(tmp_path, split)
        assert data.images.shape == (len(images), 3, 96, 96)
        assert np.array_equal(data.images.numpy(), images)
        if labels is None:
            assert data.labels is None
        else:
            assert data.labels is not None and np.array_equal(data.labels.numpy(), labels)
    assert load_stl10(tmp_path, "train").classes[:3] == ("airplane", "bird", "car")


def test_planes_are_transposed_from_column_major(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    raw = np.fromfile(tmp_path / "stl10_binary" / "train_X.bin", dtype=np.uint8)
    image = load_stl10(tmp_path, "train").images[0].numpy()
    # Byte 1 of the file is row 1, column 0 of the red plane (MATLAB order).
    assert raw[1] == image[0, 1, 0] and raw[96] == image[0, 0, 1]


def test_memory_mapped_by_default_and_copied_on_request(tmp_path: Path) -> None:
    expected = write_stl10(tmp_path)
    mapped = load_stl10(tmp_path, "unlabeled")
    assert not mapped.images.is_contiguous()  # a view of the file, nothing copied
    copied = load_stl10(tmp_path, "unlabeled", in_memory=True)
    assert copied.images.is_contiguous()
    assert np.array_equal(copied.images.numpy(), expected["unlabeled"][0])
    copied.images[0] = 0  # a private copy: the file is untouched
    assert np.array_equal(
        load_stl10(tmp_path, "unlabeled").images.numpy(), expected["unlabeled"][0]
    )


def test_root_may_be_the_binary_folder(tmp_path: Path) -> None:
    expected = write_stl10(tmp_path)
    data = load_stl10(tmp_path / "stl10_binary", "test")
    assert np.array_equal(data.images.numpy(), expected["test"][0])


def test_unlabeled_has_no_labels_and_says_so(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    message = "stl10_binary: split 'unlabeled' has no labels (there is no unlabeled_y.bin)"
    with pytest.raises(DatasetError, match=_exact(message)):
        label_file(tmp_path / "stl10_binary", "unlabeled")
    message = "stl10: split 'unlabeled' has no labels; labeled splits: ('train', 'test')"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_split("stl10", tmp_path, "unlabeled", require_labels=True)
    assert load_split("stl10", tmp_path, "unlabeled").labels is None


def test_folds_select_zero_based_train_indices(tmp_path: Path) -> None:
    expected = write_stl10(tmp_path)
    folds = read_folds(tmp_path / "stl10_binary", 10)
    assert len(folds) == 10 and folds[9].tolist() == [9, 0, 1]
    data = load_split("stl10", tmp_path, "train", fold=9)
    images, labels = expected["train"]
    assert np.array_equal(data.images.numpy(), images[[9, 0, 1]])
    assert data.labels is not None and labels is not None
    assert np.array_equal(data.labels.numpy(), labels[[9, 0, 1]])


def test_fold_errors(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    with pytest.raises(DatasetError, match=_exact("stl10: fold 10 out of range 0..9")):
        load_stl10(tmp_path, "train", fold=10)
    with pytest.raises(DatasetError, match=r"^stl10: fold selects train images"):
        load_stl10(tmp_path, "test", fold=0)
    path = tmp_path / "stl10_binary" / "fold_indices.txt"
    path.write_text(path.read_text().replace("9 0 1", "9 0 10"))
    message = "stl10_binary/fold_indices.txt line 10: index out of range 0..9"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_stl10(tmp_path, "train", fold=0)


def test_wrong_label_file_size(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    path = tmp_path / "stl10_binary" / "train_y.bin"
    path.write_bytes(path.read_bytes()[:-1])
    message = "stl10_binary/train_y.bin: 9 bytes, expected 10 (one per image in train_X)"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_stl10(tmp_path, "train")


def test_truncated_image_file(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    path = tmp_path / "stl10_binary" / "test_X.bin"
    path.write_bytes(path.read_bytes()[:-5])
    message = "stl10_binary/test_X.bin: 221179 bytes, not a whole number of 27648-byte images"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_stl10(tmp_path, "test")


def test_label_zero_is_rejected(tmp_path: Path) -> None:
    write_stl10(tmp_path)
    path = tmp_path / "stl10_binary" / "test_y.bin"
    path.write_bytes(b"\x00" + path.read_bytes()[1:])
    with pytest.raises(
        DatasetError, match=_exact("stl10_binary/test_y.bin: label 0 at index 0, expected 1..10")
    ):
        load_stl10(tmp_path, "test")


def test_missing_folder(tmp_path: Path) -> None:
    message = f"{tmp_path}: no STL-10 found: expected stl10_binary/ with train_X.bin in it"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_stl10(tmp_path, "train")
