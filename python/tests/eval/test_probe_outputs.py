"""The probe job with k-NN and per-layer probes switched on: the new files appear, and probe.json
keeps its fields and its numbers."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest

from localssl.config import config_from_dict
from localssl.events import EventChannel
from localssl.probe import run_probe
from localssl.stop import StopFlag

PROBE_FIELDS = {
    "checkpoint", "test_top1", "best_test_top1", "best_epoch", "epochs", "feature_dim", "pools",
    "train_images", "test_images", "seconds", "protocol",
}  # fmt: skip


def _probe(raw: dict[str, Any], run_dir: Path) -> list[dict[str, Any]]:
    run_dir.mkdir()
    stream = io.StringIO()
    run_probe(config_from_dict(raw), run_dir, "none", EventChannel(stream), StopFlag())
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.fixture(scope="module")
def probed(
    smoke_config: dict[str, Any], cifar_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, list[dict[str, Any]]]:
    """The random-init encoder probed twice: extras on (the preset) and off."""
    raw = copy.deepcopy(smoke_config)
    raw["data"]["root"] = str(cifar_root)
    with_extras = tmp_path_factory.mktemp("runs") / "extras"
    events = _probe(raw, with_extras)
    raw["probe"] |= {"knn": False, "perLayer": False}
    plain = tmp_path_factory.mktemp("runs") / "plain"
    _probe(raw, plain)
    return with_extras, plain, events


def test_probe_json_keeps_its_fields_and_numbers(probed: tuple[Path, Path, Any]) -> None:
    with_extras, plain, _ = probed
    a = json.loads((with_extras / "probe-random.json").read_text())
    b = json.loads((plain / "probe-random.json").read_text())
    assert set(a) >= PROBE_FIELDS
    for key in ("test_top1", "best_test_top1", "best_epoch", "feature_dim", "pools"):
        assert a[key] == b[key]
    assert a["protocol"]["crop_scale"] == [0.08, 1]
    assert not (plain / "knn-random.json").exists()
    assert not (plain / "probe-layers-random.json").exists()


def test_per_layer_probes_split_the_same_features(probed: tuple[Path, Path, Any]) -> None:
    with_extras, _, _ = probed
    main = json.loads((with_extras / "probe-random.json").read_text())
    layers = json.loads((with_extras / "probe-layers-random.json").read_text())
    assert [entry["layer"] for entry in layers["layers"]] == [1, 2, 3, 4, 5, 6]
    assert sum(entry["feature_dim"] for entry in layers["layers"]) == main["feature_dim"] == 1024
    assert [entry["pool"] for entry in layers["layers"]] == main["pools"] == [4, 4, 4, 2, 2, 1]
    assert layers["epochs"] == main["epochs"] == 2
    assert all(0 <= entry["test_top1"] <= 100 for entry in layers["layers"])


def test_knn_runs_on_the_probe_features(probed: tuple[Path, Path, Any]) -> None:
    with_extras, _, events = probed
    knn = json.loads((with_extras / "knn-random.json").read_text())
    assert knn["feature_dim"] == 1024 and knn["bank_images"] == 40 and knn["test_images"] == 20
    assert [(r["k"], r["k_used"]) for r in knn["results"]] == [(20, 20), (200, 40)]
    # The synthetic classes are separable, so even random conv features find them.
    assert knn["results"][0]["test_top1"] > 50
    assert "knn_finished" in [event["event"] for event in events]
