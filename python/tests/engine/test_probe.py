"""A tiny self-supervised run followed by the linear probe beats chance on MNIST."""

from __future__ import annotations

import io
import json
from pathlib import Path

from localssl.config import config_from_dict
from localssl.events import EventChannel
from localssl.probe import run_probe
from localssl.stop import StopFlag
from localssl.train import train

from .helpers import BASE_CONFIG, TINY_RUN, merged


def test_tiny_train_and_probe_beat_chance(mnist_root: str, tmp_path: Path) -> None:
    raw = merged(merged(BASE_CONFIG, TINY_RUN), {
        "data": {"root": mnist_root, "trainSubset": 128},
        "model": {"widthMultiplier": 1 / 16},
        "train": {"epochs": 1, "maxStepsPerEpoch": 4},
        "probe": {"epochs": 8, "batchSize": 32, "trainSubset": 400, "testSubset": 200},
    })  # fmt: skip
    config = config_from_dict(raw)
    train(config, tmp_path, EventChannel(io.StringIO()), StopFlag())
    result = run_probe(config, tmp_path, "latest", EventChannel(io.StringIO()), StopFlag())
    assert result["test_top1"] > 30.0, result
    assert json.loads((tmp_path / "probe.json").read_text())["test_top1"] == result["test_top1"]
