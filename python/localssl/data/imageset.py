"""The in-memory form every dataset loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ImageSet:
    """Images of one split, decoded once.

    Attributes:
        images: (N, C, H, W) uint8, C = 1 for grey images and 3 for colour.
        labels: (N,) int64 class indices, or None for an unlabeled split.
        classes: class names, index i names label i.
    """

    images: torch.Tensor
    labels: torch.Tensor | None
    classes: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(
                f"images must be (N, C, H, W) uint8, got {self.images.dtype} "
                f"{tuple(self.images.shape)}"
            )
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels must be ({self.images.shape[0]},), got {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    def head(self, count: int | None) -> ImageSet:
        """The first `count` images (all of them when `count` is None)."""
        if count is None or count >= len(self):
            return self
        labels = None if self.labels is None else self.labels[:count]
        return ImageSet(self.images[:count], labels, self.classes)
