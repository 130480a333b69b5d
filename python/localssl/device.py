"""Device, precision and thread choices, made once per process from the config."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """Where and how tensors are computed."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    channels_last: bool
    threads: int

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """bf16 autocast on CUDA when chosen; a no-op elsewhere (bf16 is 10-26x slower on CPU)."""
        if self.autocast_dtype is None:
            yield
            return
        with torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype):
            yield

    def describe(self) -> dict[str, object]:
        name = torch.cuda.get_device_name(self.device) if self.device.type == "cuda" else "cpu"
        return {
            "device": str(self.device),
            "device_name": name,
            "precision": "bf16" if self.autocast_dtype is not None else "fp32",
            "channels_last": self.channels_last,
            "threads": self.threads,
        }


def choose_runtime(device: str, precision: str, threads: int | None) -> Runtime:
    """Resolve `auto` choices: CUDA when present, bf16 autocast and channels_last only on CUDA."""
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' requested but torch.cuda.is_available() is False")
    use_cuda = device == "cuda" or (device == "auto" and torch.cuda.is_available())
    chosen = torch.device("cuda" if use_cuda else "cpu")

    if precision == "bf16" and not use_cuda:
        log.warning("bf16 on CPU is much slower than fp32; using it because the config asks")
    bf16 = precision == "bf16" or (precision == "auto" and use_cuda)

    count = threads or os.cpu_count() or 1
    torch.set_num_threads(count)
    if use_cuda:
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return Runtime(chosen, torch.bfloat16 if bf16 else None, use_cuda, count)


def seed_everything(seed: int) -> None:
    """Seed the global generators; data order and augmentation use their own generators."""
    import random

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
