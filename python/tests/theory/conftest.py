"""Fixtures of the theory-lab tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from localssl.theory.patches import default_mnist_root


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The MNIST IDX files of the npm package; tests that need them skip without them."""
    root = default_mnist_root()
    if not (root / "train-images-idx3-ubyte").is_file():
        pytest.skip(f"MNIST IDX files not found in {root}")
    return root


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Run single-threaded: the lab's small matrices gain nothing from threads, and on a busy
    machine extra threads only wait for each other."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
