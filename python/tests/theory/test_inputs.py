"""MNIST patch pairs and the two-view crops of the CNN runs."""

from __future__ import annotations

import torch

from localssl.theory.patches import patch_batches, patch_pairs
from localssl.theory.views import random_erasing, two_views


def test_patch_pairs_put_top_and_bottom_of_one_column_half_a_batch_apart() -> None:
    images = torch.arange(3 * 28 * 28, dtype=torch.float32).reshape(3, 1, 28, 28)
    x = patch_pairs(images)
    assert x.shape == (12, 196)
    for column in range(2):
        for b in range(3):
            i = column * 3 + b
            top = images[b, 0, :14, column * 14 : column * 14 + 14].flatten()
            bottom = images[b, 0, 14:, column * 14 : column * 14 + 14].flatten()
            torch.testing.assert_close(x[i], top)
            torch.testing.assert_close(x[i + 6], bottom)


def test_patch_batches_are_sequential_and_drop_the_remainder() -> None:
    images = torch.randn(10, 1, 28, 28)
    batches = patch_batches(images, 4)
    assert [tuple(b.shape) for b in batches] == [(16, 196), (16, 196)]
    torch.testing.assert_close(batches[1], patch_pairs(images[4:8]))


def test_two_views_are_seeded_crops_of_the_same_images() -> None:
    images = torch.randint(0, 256, (5, 1, 28, 28), dtype=torch.uint8)
    a = two_views(images, torch.Generator().manual_seed(0))
    b = two_views(images, torch.Generator().manual_seed(0))
    assert a.shape == (10, 1, 16, 16)
    torch.testing.assert_close(a, b)
    assert not torch.equal(a[:5], a[5:])  # the two views are drawn independently


def test_random_erasing_zeroes_one_box_of_the_expected_size() -> None:
    x = torch.ones(400, 1, 16, 16)
    out = random_erasing(x, torch.Generator().manual_seed(0))
    erased = (out == 0).flatten(1).sum(dim=1).float() / 256
    hit = erased > 0
    assert 0.4 < hit.float().mean() < 0.6  # p = 1/2
    assert erased[hit].min() >= 0.01 and erased[hit].max() <= 0.25  # ~4-16 % after rounding
