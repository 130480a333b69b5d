"""DeviceImages: the same batches whether the set is resident or streamed per batch."""

from __future__ import annotations

import pytest
import torch

from localssl.data.loader import PINNED_BUFFERS, DeviceImages


def _strided_set() -> torch.Tensor:
    # Like STL-10's loader: a transposed view of (N, C, W, H) storage.
    storage = torch.randint(0, 256, (10, 3, 8, 8), dtype=torch.uint8,
                            generator=torch.Generator().manual_seed(0))  # fmt: skip
    return storage.transpose(2, 3)


def test_resident_and_streamed_batches_are_equal() -> None:
    images = _strided_set()
    resident = DeviceImages(images, torch.device("cpu"))
    streamed = DeviceImages(images, torch.device("cpu"), resident=False)
    assert resident.resident and not streamed.resident and len(streamed) == 10
    for index in (torch.tensor([3, 1, 4]), torch.tensor([9, 2, 6]), torch.tensor([0, 5, 7, 8])):
        a, b = resident.take(index), streamed.take(index)
        assert torch.equal(a, images[index]) and torch.equal(b, images[index])
        assert b.is_contiguous() and b.dtype == torch.uint8


def test_streamed_batches_cycle_through_the_buffers_without_overwriting_early() -> None:
    images = _strided_set()
    streamed = DeviceImages(images, torch.device("cpu"), resident=False)
    batches = [streamed.take(torch.tensor([i, i + 1])) for i in range(PINNED_BUFFERS)]
    # On the CPU `.to` returns the buffer itself: the ring keeps the last few batches intact.
    for i, batch in enumerate(batches):
        assert torch.equal(batch, images[i : i + 2])


def test_only_uint8_image_sets_are_accepted() -> None:
    with pytest.raises(ValueError, match=r"must be \(N, C, H, W\) uint8"):
        DeviceImages(torch.zeros(2, 3, 4, 4), torch.device("cpu"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_streamed_to_cuda_matches_the_cpu_images() -> None:
    images = _strided_set()
    streamed = DeviceImages(images, torch.device("cuda"), resident=False)
    for _ in range(2 * PINNED_BUFFERS):
        index = torch.randperm(10)[:4]
        assert torch.equal(streamed.take(index).cpu(), images[index])
