"""The dataset registry and load_split."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from dataset_fakes import write_stl10, write_tiny_imagenet

from localssl.data import tiny_imagenet
from localssl.data.catalog import DATASETS, DatasetInfo, dataset_info, load_split, register
from localssl.data.errors import DatasetError
from localssl.data.imageset import ImageSet


def test_paper_constants() -> None:
    cifar, stl, tiny = DATASETS["cifar10"], DATASETS["stl10"], DATASETS["tiny-imagenet"]
    assert cifar.mean == pytest.approx((0.4914, 0.4824, 0.4467), abs=1e-4)
    assert cifar.std == pytest.approx((0.2471, 0.2435, 0.2616), abs=1e-4)
    assert (stl.mean, stl.std) == ((0.4313, 0.4156, 0.3663), (0.2683, 0.2610, 0.2687))
    assert (tiny.mean, tiny.std) == ((0.4802, 0.4481, 0.3975), (0.2302, 0.2265, 0.2262))
    roles = [
        (d.pretrain_split, d.probe_train_split, d.probe_test_split) for d in (cifar, stl, tiny)
    ]
    assert roles == [
        ("train", "train", "test"),
        ("unlabeled", "train", "test"),
        ("train", "train", "val"),
    ]
    assert [d.crop_scale for d in (cifar, stl, tiny)] == [(0.25, 1.0), (0.08, 1.0), (0.08, 1.0)]
    assert [(d.image_size, d.num_classes) for d in (cifar, stl, tiny)] == [
        (32, 10),
        (96, 10),
        (64, 200),
    ]
    for info in (cifar, stl, tiny):
        kernel = int(0.1 * info.image_size)
        assert info.blur_kernel == kernel + (kernel % 2 == 0)  # rounded up to odd: 3, 9, 7
        assert info.channels == len(info.mean) == len(info.std) == 3
        assert set(info.labeled_splits) <= set(info.splits)
        assert {info.pretrain_split, info.probe_train_split, info.probe_test_split} <= set(
            info.splits
        )


def test_registry_is_extensible(tmp_path: Path) -> None:
    def load(_root: Path, _split: str) -> ImageSet:
        return ImageSet(
            torch.zeros(2, 1, 28, 28, dtype=torch.uint8), torch.tensor([0, 1]), ("a", "b")
        )

    info = DatasetInfo(
        name="toy", splits=("train",), labeled_splits=("train",), image_size=28, channels=1,
        num_classes=2, mean=(0.1307,), std=(0.3081,), pretrain_split="train",
        probe_train_split="train", probe_test_split="train", blur_kernel=3,
        crop_scale=(0.08, 1.0), load=load,
    )  # fmt: skip
    register(info)
    try:
        assert dataset_info("toy") is info
        assert len(load_split("toy", tmp_path, "train")) == 2
        assert not (tmp_path / ".localssl-cache").exists()  # no `sources`: never cached
    finally:
        del DATASETS["toy"]


def test_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"^unknown dataset 'imagenet'; known: "):
        load_split("imagenet", tmp_path, "train")
    message = "tiny-imagenet: unknown split 'valid'; expected one of ('train', 'val', 'test')"
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        load_split("tiny-imagenet", tmp_path, "valid")
    with pytest.raises(DatasetError, match=r"^cifar10: unknown option\(s\) fold; accepted: none$"):
        load_split("cifar10", tmp_path, "train", fold=1)


def test_stl_is_memory_mapped_not_cached(tmp_path: Path) -> None:
    expected = write_stl10(tmp_path)
    data = load_split("stl10", tmp_path, "unlabeled")
    assert np.array_equal(data.images.numpy(), expected["unlabeled"][0])
    assert not (tmp_path / ".localssl-cache").exists()


def test_tiny_cache_hit_and_invalidation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = write_tiny_imagenet(tmp_path)
    cache = tmp_path / "cache"
    first = load_split("tiny-imagenet", tmp_path, "train", cache_dir=cache)

    def no_decode(*_args: object) -> np.ndarray:
        raise AssertionError("decoded again despite a valid cache")

    monkeypatch.setattr(tiny_imagenet, "decode_all", no_decode)
    second = load_split("tiny-imagenet", tmp_path, "train", cache_dir=cache)
    for data in (first, second):
        assert np.array_equal(data.images.numpy(), expected["train"][0])
        assert data.classes == tuple(sorted(data.classes))
    monkeypatch.undo()
    image = next((tmp_path / "tiny-imagenet-200" / "train").rglob("*.JPEG"))
    stat = image.stat()
    os.utime(image, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # same bytes, new mtime
    monkeypatch.setattr(tiny_imagenet, "decode_all", no_decode)
    with pytest.raises(AssertionError, match="decoded again"):
        load_split("tiny-imagenet", tmp_path, "train", cache_dir=cache)
