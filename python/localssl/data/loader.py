"""Batches of uint8 images on the training device, from a set that may not fit there.

Augmentation runs batched on the device (augment.py), so the only data work per step is getting
a batch of raw uint8 pixels onto the device. Two modes:

- resident: the whole set is copied to the device once (MNIST 47 MB, CIFAR-10 150 MB, Tiny
  ImageNet 1.2 GB); a batch is one gather on the device.
- streamed: the set stays on the CPU, usually memory-mapped (STL-10 unlabeled, 2.76 GB); each
  batch is gathered into pinned memory and copied with non_blocking=True, so the copy overlaps
  the previous step's kernels. A ring of pinned buffers, each guarded by a CUDA event, keeps a
  buffer from being refilled while its copy is still in flight.

On the CPU both modes are the same gather, and memory-mapped files stay mapped.
"""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)

# Sets up to this size go to the device whole. STL-10 unlabeled (2.76 GB) is above it on
# purpose: it streams from the page cache at no measurable cost, and a run keeps its device
# memory for the 201 M-parameter B matrices of the spatial rules.
RESIDENT_LIMIT_BYTES = 2 * 1024**3
PINNED_BUFFERS = 3


class DeviceImages:
    """Index batches of a uint8 image set, delivered on `device`.

    Args:
        images: (N, C, H, W) uint8 on the CPU; may be a strided memory-mapped view.
        device: where batches are needed.
        resident: keep the whole set on the device; None decides by `RESIDENT_LIMIT_BYTES`
            (always resident on the CPU, where streaming would only add a copy).
    """

    def __init__(
        self, images: torch.Tensor, device: torch.device, resident: bool | None = None
    ) -> None:
        if images.dtype != torch.uint8 or images.dim() != 4:
            raise ValueError(f"images must be (N, C, H, W) uint8, got {images.dtype} "
                             f"{tuple(images.shape)}")  # fmt: skip
        self.device = device
        self.shape = tuple(images.shape)
        nbytes = images.numel()
        if resident is None:
            resident = device.type == "cpu" or nbytes <= RESIDENT_LIMIT_BYTES
        self.resident = resident
        self._pinned: list[torch.Tensor] = []
        self._ready: list[torch.cuda.Event | None] = []
        self._next = 0
        if self.resident:
            self.images = images.to(device)
            mode = "on the device" if device.type != "cpu" else "in CPU memory"
        else:
            self.images = images
            mode = "streamed from the CPU per batch"
        log.info("%d images (%.2f GB uint8) %s", len(images), nbytes / 1e9, mode)

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def index_device(self) -> torch.device:
        """Where batch indices are cheapest to keep: with the images."""
        return self.images.device

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The images at `index`.

        Args:
            index: (B,) int64, on any device.
        Returns:
            (B, C, H, W) uint8 on `device`, contiguous.
        """
        if self.resident:
            return self.images[index.to(self.images.device)]
        index = index.cpu()
        buffer, ready = self._buffer(len(index))
        if ready is not None:
            ready.synchronize()  # the copy that last read this buffer has finished
        # index_select writes the gathered (and, for STL-10, transposed) images straight into
        # pinned memory: one pass over the bytes, no temporary.
        torch.index_select(self.images, 0, index, out=buffer)
        batch = buffer.to(self.device, non_blocking=True)
        if ready is not None:
            ready.record()
        return batch

    def _buffer(self, batch: int) -> tuple[torch.Tensor, torch.cuda.Event | None]:
        """The next pinned buffer of the ring, shaped for `batch` images."""
        cuda = self.device.type == "cuda"
        if not self._pinned or self._pinned[0].shape[0] < batch:
            shape = (batch, *self.shape[1:])
            self._pinned = [
                torch.empty(shape, dtype=torch.uint8, pin_memory=cuda)
                for _ in range(PINNED_BUFFERS)
            ]
            self._ready = [torch.cuda.Event() if cuda else None for _ in range(PINNED_BUFFERS)]
            self._next = 0
        slot = self._next
        self._next = (self._next + 1) % PINNED_BUFFERS
        return self._pinned[slot][:batch], self._ready[slot]
