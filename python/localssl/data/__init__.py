"""Datasets as uint8 image tensors in memory, plus batched augmentations that run on any device."""
