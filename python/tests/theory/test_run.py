"""run_experiment at smoke scale: result.json shape, safetensors names, progress events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file

from localssl.theory.gradients import cosine
from localssl.theory.run import EXPERIMENTS, GRADIENTS_FILE, RESULT_FILE, run_experiment


class Recorder:
    """Collects emitted events."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def emit(self, event: str, **fields: Any) -> None:
        self.events.append((event, fields))


def _check_layer(entry: dict[str, Any], index: int, with_values: bool) -> None:
    assert entry["layer"] == index + 1
    for key in ("weight_cos", "error_cos"):
        stats = entry[key]
        assert -1.0 <= stats["mean"] <= 1.0 and stats["ci95"] >= 0
        assert ("values" in stats) == with_values


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_smoke_run_writes_result_and_gradients(name: str, tmp_path: Path, mnist_root: Path) -> None:
    events = Recorder()
    result = run_experiment(name, str(tmp_path), "smoke", 0, events, data_root=str(mnist_root))

    on_disk = json.loads((tmp_path / RESULT_FILE).read_text())
    assert on_disk["experiment"] == name and on_disk["scale"] == "smoke" and on_disk["seed"] == 0
    assert on_disk["gradients_file"] == GRADIENTS_FILE
    assert set(on_disk["variants"]) == set(result["variants"])
    names = [e for e, _ in events.events]
    assert names[0] == "theory_start" and names[-1] == "theory_done"

    tensors = load_file(str(tmp_path / GRADIENTS_FILE))
    for variant, entry in on_disk["variants"].items():
        layers = entry["layers"]
        for index, layer in enumerate(layers):
            _check_layer(layer, index, with_values=True)
            local = tensors[f"{variant}/layer{index + 1}/batch0/local"]
            bp = tensors[f"{variant}/layer{index + 1}/batch0/bp"]
            assert local.dtype == torch.float32 and local.shape == bp.shape
            # The file holds what the cosines were computed from (float32 rounding aside).
            assert cosine(local, bp) == pytest.approx(layer["weight_cos"]["values"][0], abs=1e-5)
        assert layers[-1]["weight_cos"]["mean"] == pytest.approx(1.0, abs=1e-6)
        for epoch in entry.get("epochs", []):
            for index, layer in enumerate(epoch["layers"]):
                _check_layer(layer, index, with_values=epoch is entry["epochs"][-1])

    if name == "theorems":
        assert on_disk["passed"] is True
        assert set(on_disk["checks"]) == {"theorem_3_1", "theorem_3_3", "proposition_3_5"}


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="experiment must be one of"):
        run_experiment("fig9", str(tmp_path), "smoke", 0, Recorder())
    with pytest.raises(ValueError, match="scale must be one of"):
        run_experiment("fig2", str(tmp_path), "huge", 0, Recorder())
