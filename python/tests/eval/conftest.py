"""Fixtures of the evaluation tests: a paper preset shrunk to toy size, resolved by the zod
schema, and a synthetic CIFAR-10 in the real file format."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from localssl.data.synthetic import write_synthetic

REPO_ROOT = Path(__file__).resolve().parents[3]

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
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    if shutil.which("node") is None or not tsx.exists():
        pytest.skip("node and tsx are needed to resolve the YAML presets")
    done = subprocess.run([str(tsx), "--eval", _RESOLVE], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"resolving the preset failed:\n{done.stderr}")
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def cifar_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A structured synthetic CIFAR-10: 40 train and 20 test images in the python format."""
    root = tmp_path_factory.mktemp("cifar")
    write_synthetic("cifar10", root, images=40, seed=0)
    return root
