"""The two-view augmentation: deterministic for a seed, shapes and ranges kept."""

from __future__ import annotations

import torch

from localssl.config import config_from_dict
from localssl.data.augment import make_view
from localssl.train import augment_spec

from .helpers import BASE_CONFIG, merged

JITTERY = {"flipP": 0.5, "jitterP": 0.8, "grayscaleP": 0.2, "saturation": 0.4, "hue": 0.1}
SPEC = augment_spec(config_from_dict(merged(BASE_CONFIG, {"data": {"augmentation": JITTERY}})))


def images(channels: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(channels)
    return torch.randint(0, 256, (6, channels, 28, 28), generator=gen, dtype=torch.uint8)


def test_same_seed_same_views() -> None:
    for channels in (1, 3):
        x = images(channels)
        first = make_view(x, 32, SPEC, torch.Generator().manual_seed(4))
        second = make_view(x, 32, SPEC, torch.Generator().manual_seed(4))
        assert torch.equal(first, second)
        other = make_view(x, 32, SPEC, torch.Generator().manual_seed(5))
        assert not torch.equal(first, other)


def test_shapes_and_range() -> None:
    for channels in (1, 3):
        view = make_view(images(channels), 32, SPEC, torch.Generator().manual_seed(0))
        assert view.shape == (6, channels, 32, 32)
        assert view.dtype == torch.float32
        assert view.min() >= 0 and view.max() <= 1


def test_two_views_of_one_image_differ() -> None:
    gen = torch.Generator().manual_seed(0)
    x = images(1)
    assert not torch.equal(make_view(x, 32, SPEC, gen), make_view(x, 32, SPEC, gen))
