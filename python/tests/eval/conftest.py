"""Fixtures of the evaluation tests: a paper preset shrunk to toy size, resolved by the zod
schema, and a synthetic CIFAR-10 in the real file format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from node_eval import eval_typescript_json

from localssl.data.synthetic import write_synthetic

# The smoke scale of `localssl table` (src/tables/scale.ts), with one thread and two probe epochs.
_RESOLVE = """
import { loadConfig, parseOverride } from './src/config/load.ts';
const overrides = ['model.widthMultiplier=0.03125', 'train.epochs=1', 'train.batchSize=16',
  'probe.epochs=2', 'probe.batchSize=16', 'device=cpu', 'precision=fp32', 'threads=1',
  'data.root=/placeholder'].map(parseOverride);
process.stdout.write(JSON.stringify(loadConfig('configs/paper/clapp-pp-cifar10.yaml', overrides)));
"""


@pytest.fixture(scope="session")
def smoke_config() -> dict[str, Any]:
    """configs/paper/clapp-pp-cifar10.yaml at smoke size, resolved; data.root to be filled in."""
    return eval_typescript_json(_RESOLVE, "the preset")


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A structured synthetic CIFAR-10: 40 train and 20 test images in the python format."""
    root = tmp_path_factory.mktemp("cifar")
    write_synthetic("cifar10", root, images=40, seed=0)
    return root
