"""A negative is never the positive's image, for every sampler."""

from __future__ import annotations

import pytest
import torch

from localssl.rules.clapp2021 import Clapp2021Family
from localssl.rules.negatives import negative_index, other_image

from .helpers import LOCAL_RULES, build, clapp2021, views


@pytest.mark.parametrize("kind", ["next", "random"])
@pytest.mark.parametrize("images", [2, 3, 8, 33])
def test_negative_index_never_the_same_image(kind: str, images: int) -> None:
    gen = torch.Generator().manual_seed(images)
    rows = 2 * images
    for _ in range(50):
        negatives = negative_index(rows, kind, gen)
        positive_image = torch.arange(rows) % images  # row i's positive shows image i mod B
        assert (negatives % images != positive_image).all()
        assert negatives.min() >= 0 and negatives.max() < rows


def test_next_is_the_next_row() -> None:
    assert negative_index(6, "next", torch.Generator()).tolist() == [1, 2, 3, 4, 5, 0]


def test_random_covers_every_other_image() -> None:
    gen = torch.Generator().manual_seed(0)
    seen = torch.stack([negative_index(8, "random", gen) for _ in range(400)])
    offsets = set(((seen - torch.arange(8)) % 8).flatten().tolist())
    assert offsets == {1, 2, 3, 5, 6, 7}  # all but 0 (itself) and 4 (its other view)


@pytest.mark.parametrize("kind", ["next", "random"])
@pytest.mark.parametrize("images", [2, 5, 16])
def test_other_image_never_itself(kind: str, images: int) -> None:
    gen = torch.Generator().manual_seed(images)
    for _ in range(50):
        others = other_image(images, kind, gen)
        assert (others != torch.arange(images)).all()
    if kind == "random" and images > 2:
        seen = torch.stack([other_image(images, kind, gen) for _ in range(200)])
        assert set(seen[:, 0].tolist()) == set(range(1, images))


def test_a_batch_of_one_image_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 images"):
        negative_index(2, "next", torch.Generator())
    with pytest.raises(ValueError, match="at least 2 images"):
        other_image(1, "random", torch.Generator())


@pytest.mark.parametrize("name", list(LOCAL_RULES))
def test_every_rule_draws_other_images(name: str) -> None:
    """The draws each rule makes (negatives, SCFF partners, CLAPP 2021 per-step negatives)."""
    _, objective = build(LOCAL_RULES[name])
    x = views(batch=5)
    images = len(x) // 2
    for seed in range(20):
        draw = objective.family.draw(x, torch.Generator().manual_seed(seed))
        negatives = draw.negatives
        if negatives.dim() == 1:  # rows of the stacked [view 1; view 2] batch
            assert (negatives % images != torch.arange(len(x)) % images).all()
        else:  # CLAPP 2021: (layers, paths, steps, images) image indices
            assert (negatives != torch.arange(images)).all()


def test_clapp_2021_negative_sits_at_the_same_grid_position() -> None:
    """The negative of z at (image, row, column) is another image's z at that same position."""
    _, objective = build(clapp2021())
    family = objective.family
    assert isinstance(family, Clapp2021Family)
    rows = family.rows
    r = torch.arange(4 * rows * rows, dtype=torch.float32).view(4, rows, rows, 1)
    negatives = torch.tensor([2, 0, 3, 1])
    z = r[:, 2:]
    assert torch.equal(z[negatives][0], r[2, 2:])
