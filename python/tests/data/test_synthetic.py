"""Synthetic datasets in the real formats: what check_dataset and the loaders make of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from localssl.data import synthetic
from localssl.data.catalog import load_split
from localssl.data.check import check_dataset
from localssl.data.checksums import Expected
from localssl.data.errors import DatasetError


@pytest.mark.parametrize(
    ("name", "checked", "counts"),
    [
        ("cifar10", "cifar10", {"train": 40, "test": 20}),
        ("cifar10-binary", "cifar10", {"train": 40, "test": 20}),
        ("stl10", "stl10", {"train": 20, "test": 20, "unlabeled": 40}),
        ("tiny-imagenet", "tiny-imagenet", {"train": 40, "val": 20, "test": 4}),
    ],
)
def test_every_format_passes_the_full_check(
    tmp_path: Path, name: str, checked: str, counts: dict[str, int]
) -> None:
    written = synthetic.write_synthetic(name, tmp_path, images=40, seed=1)
    assert written["written"] and written["counts"] == counts
    classes = 5 if checked == "tiny-imagenet" else 10
    report = check_dataset(checked, tmp_path, full=True, expected=Expected(counts, {}, classes))
    assert report["ok"], report["errors"]
    assert report["counts"] == counts


def test_structured_classes_are_learnable_from_train_to_test(tmp_path: Path) -> None:
    synthetic.write_synthetic("cifar10", tmp_path, images=100, seed=0)
    train = load_split("cifar10", tmp_path, "train", use_cache=False)
    test = load_split("cifar10", tmp_path, "test", use_cache=False)
    assert train.labels is not None and test.labels is not None
    assert sorted(set(train.labels.tolist())) == list(range(10))
    # Nearest class mean of the train images classifies the test images.
    x_train, x_test = train.images.float().flatten(1), test.images.float().flatten(1)
    means = torch.stack([x_train[train.labels == c].mean(0) for c in range(10)])
    predicted = torch.cdist(x_test, means).argmin(1)
    assert (predicted == test.labels).float().mean() > 0.8


def test_an_identical_copy_is_reused_and_a_different_one_refused(tmp_path: Path) -> None:
    first = synthetic.write_synthetic("stl10", tmp_path, images=20, seed=0)
    again = synthetic.write_synthetic("stl10", tmp_path, images=20, seed=0)
    assert first["written"] and not again["written"]
    with pytest.raises(DatasetError, match="is not the synthetic stl10 of 30 images, seed 0"):
        synthetic.write_synthetic("stl10", tmp_path, images=30, seed=0)
    assert [p.name for p in tmp_path.iterdir()] == ["stl10_binary"]


def test_unknown_names_and_tiny_sizes_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no synthetic writer for 'mnist'"):
        synthetic.write_synthetic("mnist", tmp_path)
    with pytest.raises(DatasetError, match="at least 10 images"):
        synthetic.write_synthetic("cifar10", tmp_path, images=5)


def test_random_writers_are_unchanged_for_the_format_tests(tmp_path: Path) -> None:
    out = synthetic.write_cifar_binary(tmp_path, per_batch=2, test=3, seed=1)
    rng = np.random.default_rng(1)
    expected = rng.integers(0, 256, size=(10, 3, 32, 32), dtype=np.uint8)
    assert np.array_equal(out["train"][0], expected)
