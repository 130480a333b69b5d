"""The blur kernel follows the SimCLR rule, or the config's explicit size."""

from __future__ import annotations

import pytest
import torch

from localssl.data.augment import AugmentSpec, blur_kernel_for, gaussian_blur, make_view


def test_kernel_is_a_tenth_of_the_side_rounded_up_to_odd() -> None:
    # paper-spec 8: CIFAR-10 3, Tiny ImageNet 7, STL-10 9.
    assert [blur_kernel_for(s) for s in (32, 64, 96, 28, 224)] == [3, 7, 9, 3, 23]


def test_an_explicit_kernel_is_used_and_checked() -> None:
    gen = torch.Generator().manual_seed(0)
    images = torch.zeros(2, 3, 16, 16)
    images[:, :, 8, 8] = 1.0
    blurred = gaussian_blur(images, 1.0, gen, kernel=5)
    assert (blurred[0, 0] > 0).sum() == 25  # a 5x5 footprint around the lit pixel
    with pytest.raises(ValueError, match="blur kernel 4: must be odd"):
        gaussian_blur(images, 1.0, gen, kernel=4)


def test_the_spec_carries_the_kernel_into_the_view() -> None:
    images = torch.zeros(1, 1, 32, 32, dtype=torch.uint8)
    images[:, :, 16, 16] = 255

    def footprint(kernel: int | None) -> int:
        spec = AugmentSpec((1.0, 1.0), 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, blur_kernel=kernel)
        view = make_view(images, 32, spec, torch.Generator().manual_seed(0))
        return int((view[0, 0] > 1e-6).sum())

    # Same draws (crop, sigma) each time, so only the kernel differs; None is 3 at 32 px.
    assert footprint(3) == footprint(None) < footprint(9)
