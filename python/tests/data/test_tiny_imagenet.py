"""Tiny ImageNet loader on fake JPEGs in the official zip layout."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from dataset_fakes import WNIDS, smooth_images, write_tiny_imagenet
from PIL import Image

from localssl.data.catalog import load_split
from localssl.data.errors import DatasetError
from localssl.data.tiny_imagenet import load_tiny_imagenet


def _exact(message: str) -> str:
    return "^" + re.escape(message) + "$"


def test_splits_match_a_reference_decode(tmp_path: Path) -> None:
    expected = write_tiny_imagenet(tmp_path)
    for split, (images, labels) in expected.items():
        data = load_tiny_imagenet(tmp_path, split, workers=2)
        assert data.images.shape == (len(images), 3, 64, 64)
        assert np.array_equal(data.images.numpy(), images)
        if labels is None:
            assert data.labels is None
        else:
            assert data.labels is not None and np.array_equal(data.labels.numpy(), labels)


def test_classes_are_the_sorted_wnids(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    data = load_tiny_imagenet(tmp_path, "train")
    assert data.classes == tuple(sorted(WNIDS)) != tuple(WNIDS)
    assert data.labels is not None and data.labels[:3].tolist() == [0, 0, 0]


def test_grayscale_jpeg_becomes_rgb(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    first = load_tiny_imagenet(tmp_path, "train").images[0]
    assert first.shape == (3, 64, 64)
    assert np.array_equal(first[0], first[1]) and np.array_equal(first[1], first[2])


def test_pixels_are_close_to_the_source_image(tmp_path: Path) -> None:
    folder = tmp_path / "tiny-imagenet-200"
    write_tiny_imagenet(tmp_path)
    source = smooth_images(np.random.default_rng(7), 1, 64)[0]
    Image.fromarray(source.transpose(1, 2, 0)).save(
        folder / "test" / "images" / "test_0.JPEG", quality=95
    )
    decoded = load_tiny_imagenet(tmp_path, "test").images[0].numpy().astype(int)
    # JPEG is lossy, but a transposed or channel-swapped decode would be far off.
    assert np.abs(decoded - source).mean() < 3


def test_val_is_read_in_place(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    load_tiny_imagenet(tmp_path, "val")
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert before == after


def test_reorganised_val_folders_are_read(tmp_path: Path) -> None:
    expected = write_tiny_imagenet(tmp_path)
    val = tmp_path / "tiny-imagenet-200" / "val"
    for line in (val / "val_annotations.txt").read_text().splitlines():
        name, wnid = line.split("\t")[:2]
        (val / wnid / "images").mkdir(parents=True, exist_ok=True)
        shutil.move(val / "images" / name, val / wnid / "images" / name)
    (val / "val_annotations.txt").unlink()
    data = load_tiny_imagenet(tmp_path, "val")
    assert data.labels is not None
    assert sorted(data.labels.tolist()) == sorted(expected["val"][1].tolist())


def test_unknown_wnid_in_annotations(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    path = tmp_path / "tiny-imagenet-200" / "val" / "val_annotations.txt"
    lines = path.read_text().splitlines()
    lines[3] = lines[3].replace(lines[3].split("\t")[1], "n00000000")
    path.write_text("\n".join(lines) + "\n")
    message = (
        "tiny-imagenet-200/val/val_annotations.txt line 4: "
        "unknown wnid n00000000 (not in wnids.txt)"
    )
    with pytest.raises(DatasetError, match=_exact(message)):
        load_tiny_imagenet(tmp_path, "val")


def test_listed_val_image_missing(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    (tmp_path / "tiny-imagenet-200" / "val" / "images" / "val_5.JPEG").unlink()
    message = (
        "tiny-imagenet-200/val/images/val_5.JPEG: listed in "
        "tiny-imagenet-200/val/val_annotations.txt line 6 but missing"
    )
    with pytest.raises(DatasetError, match=_exact(message)):
        load_tiny_imagenet(tmp_path, "val")


def test_corrupt_jpeg(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    path = tmp_path / "tiny-imagenet-200" / "test" / "images" / "test_2.JPEG"
    path.write_bytes(b"not a jpeg")
    with pytest.raises(
        DatasetError, match=r"^tiny-imagenet-200/test/images/test_2\.JPEG: cannot decode"
    ):
        load_tiny_imagenet(tmp_path, "test")


def test_missing_class_folder(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    shutil.rmtree(tmp_path / "tiny-imagenet-200" / "train" / "n02123045")
    message = "tiny-imagenet-200/train/n02123045/images: missing folder"
    with pytest.raises(DatasetError, match=_exact(message)):
        load_tiny_imagenet(tmp_path, "train")


def test_test_split_has_no_labels(tmp_path: Path) -> None:
    write_tiny_imagenet(tmp_path)
    with pytest.raises(DatasetError, match=r"^tiny-imagenet: split 'test' has no labels"):
        load_split("tiny-imagenet", tmp_path, "test", require_labels=True)
