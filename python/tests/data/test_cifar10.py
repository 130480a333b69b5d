"""CIFAR-10 loaders on fake batches in both official formats."""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import CIFAR_NAMES, py2_pickle, write_cifar_binary, write_cifar_python

from localssl.data.catalog import load_split
from localssl.data.cifar10 import load_cifar10, locate
from localssl.data.errors import DatasetError


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def test_fake_batches_are_python2_pickles_with_str_keys(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    raw = (tmp_path / "cifar-10-batches-py" / "data_batch_1").read_bytes()
    # A Python-2 str reads back as bytes under encoding="bytes", as in the real files.
    assert set(pickle.loads(raw, encoding="bytes")) == {
        b"batch_label",
        b"labels",
        b"data",
        b"filenames",
    }
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in raw


@pytest.mark.parametrize("writer", [write_cifar_python, write_cifar_binary])
def test_both_formats_load_pixel_exact(tmp_path: Path, writer: Callable[[Path], dict]) -> None:
    expected = writer(tmp_path)
    for split, (images, labels) in expected.items():
        data = load_cifar10(tmp_path, split)
        assert data.images.shape == (len(images), 3, 32, 32)
        assert np.array_equal(data.images.numpy(), images)
        assert data.labels is not None and np.array_equal(data.labels.numpy(), labels)
        assert data.classes == tuple(CIFAR_NAMES)


def test_root_may_be_the_batch_folder_itself(tmp_path: Path) -> None:
    expected = write_cifar_python(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    assert locate(tmp_path) == locate(folder)
    assert locate(folder).fmt == "python"
    assert np.array_equal(load_cifar10(folder, "test").images.numpy(), expected["test"][0])


def test_binary_folder_is_found_and_named(tmp_path: Path) -> None:
    write_cifar_binary(tmp_path)
    layout = locate(tmp_path / "cifar-10-batches-bin")
    assert (layout.fmt, layout.folder.name) == ("binary", "cifar-10-batches-bin")


def test_missing_root_and_empty_root(tmp_path: Path) -> None:
    with pytest.raises(
        DatasetError, match=_exact(f"{tmp_path / 'nope'}: CIFAR-10 root folder does not exist")
    ):
        load_cifar10(tmp_path / "nope", "train")
    message = (
        f"{tmp_path}: no CIFAR-10 found: expected cifar-10-batches-py/ or cifar-10-batches-bin/ "
        "in it, or the batch files themselves"
    )
    with pytest.raises(DatasetError, match=_exact(message)):
        load_cifar10(tmp_path, "train")


def test_missing_batch_file(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "data_batch_4").unlink()
    with pytest.raises(DatasetError, match=_exact("cifar-10-batches-py/data_batch_4: missing")):
        load_cifar10(tmp_path, "train")


def test_truncated_pickle(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(
        DatasetError, match=r"^cifar-10-batches-py/data_batch_3: truncated or not a CIFAR pickle"
    ):
        load_cifar10(tmp_path, "train")


def test_truncated_binary_batch(tmp_path: Path) -> None:
    write_cifar_binary(tmp_path)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-1])
    message = (
        "cifar-10-batches-bin/test_batch.bin: 18437 bytes, not a whole number of 3073-byte records"
    )
    with pytest.raises(DatasetError, match=_exact(message)):
        load_cifar10(tmp_path, "test")


def test_label_out_of_range(tmp_path: Path) -> None:
    write_cifar_binary(tmp_path)
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[3073 * 2] = 10
    path.write_bytes(bytes(raw))
    message = "cifar-10-batches-bin/test_batch.bin: label 10 at index 2, expected 0..9"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_cifar10(tmp_path, "test")


class _Planted:
    def __reduce__(self) -> tuple:
        return (print, ("pwned",))


def test_pickle_with_foreign_globals_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_cifar_python(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    path.write_bytes(pickle.dumps({"data": _Planted()}, protocol=2))
    with pytest.raises(DatasetError, match=r"refusing global (__builtin__|builtins)\.print"):
        load_cifar10(tmp_path, "test")
    assert "pwned" not in capsys.readouterr().out


def test_wrong_array_shape(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "test_batch"
    data = np.zeros((2, 3071), dtype=np.uint8)
    path.write_bytes(py2_pickle({"data": data, "labels": [0, 1]}))
    message = "cifar-10-batches-py/test_batch: data is uint8 (2, 3071), expected uint8 (n, 3072)"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_cifar10(tmp_path, "test")


def test_unknown_split(tmp_path: Path) -> None:
    write_cifar_python(tmp_path)
    with pytest.raises(DatasetError, match=r"^cifar10: unknown split 'val'"):
        load_split("cifar10", tmp_path, "val")


def test_load_split_uses_cache(tmp_path: Path) -> None:
    expected = write_cifar_python(tmp_path)
    first = load_split("cifar10", tmp_path, "train")
    second = load_split("cifar10", tmp_path, "train")
    assert (tmp_path / ".localssl-cache").is_dir()
    for data in (first, second):
        assert np.array_equal(data.images.numpy(), expected["train"][0])
        assert data.labels is not None and np.array_equal(data.labels.numpy(), expected["train"][1])
