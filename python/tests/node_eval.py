"""Run a TypeScript snippet with the repository's tsx and parse its JSON output, so Python tests
read configs exactly as the zod schema resolves them."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def eval_typescript_json(script: str, what: str) -> Any:
    """stdout of `tsx --eval script` (run in the repository root) as JSON; `what` names it in a
    failure. Skips the test when node or tsx is missing."""
    tsx = REPO_ROOT / "node_modules" / ".bin" / "tsx"
    if shutil.which("node") is None or not tsx.exists():
        pytest.skip(f"node and tsx are needed to resolve {what}")
    done = subprocess.run([str(tsx), "--eval", script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"resolving {what} failed:\n{done.stderr}")
    return json.loads(done.stdout)
