"""Every shipped preset: accepted by the engine at full size, trains on MNIST, lowers its loss."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch

from localssl.api import check_config
from localssl.build import build_encoder, build_objective
from localssl.data.sources import load_images, source
from localssl.device import choose_runtime
from localssl.events import EventChannel
from localssl.stop import StopFlag
from localssl.train import Views, augment_spec, train

from .helpers import REPO_ROOT, tiny_config

NAMES = sorted(p.stem for p in (REPO_ROOT / "configs" / "rules").glob("*.yaml"))


def run_events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_issue_presets_are_shipped() -> None:
    assert set(NAMES) >= {
        "clapp-pp-global", "clapp-pp", "clapp-pp-dfb", "clapp-pp-both", "bp-clapp-pp",
        "bp-infonce", "layerwise-infonce", "forward-forward", "clapp-2021",
    }  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_preset_passes_check_config_at_full_size(name: str, presets: dict) -> None:
    report = check_config({"config": presets[name]})
    assert len(report["layer_shapes"]) == 6
    assert report["encoder_parameters"] > 0


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.usefixtures("mnist_root")
def test_preset_trains_on_mnist(name: str, presets: dict, tmp_path: Path) -> None:
    config = tiny_config(presets[name])
    stream = io.StringIO()
    summary = train(config, tmp_path, EventChannel(stream), StopFlag())
    assert math.isfinite(summary["final_loss"])
    assert summary["analysis_mode"] is False
    events = run_events(stream)
    steps = [e for e in events if e["event"] == "step"]
    assert steps and all(math.isfinite(e["loss"]) for e in steps)
    assert events[-1]["event"] == "finished"
    assert (tmp_path / "checkpoints" / "latest.json").exists()


@pytest.mark.parametrize("name", NAMES)
def test_preset_lowers_its_loss_on_a_fixed_batch(name: str, presets: dict, mnist_root: str) -> None:
    """The same two views and the same random draws every step: the loss must come down."""
    config = tiny_config(presets[name], model={"widthMultiplier": 1 / 16})
    runtime = choose_runtime("cpu", "fp32", 1)
    torch.manual_seed(0)
    encoder = build_encoder(config, runtime)
    objective = build_objective(config, encoder, runtime)
    info = source("mnist")
    images = load_images("mnist", mnist_root, "train", config.data.image_size, 16).images
    views = Views(augment_spec(config), config.data.image_size, info.mean, info.std, False)
    x = views(images, torch.Generator().manual_seed(0))
    params = [p for p in [*encoder.parameters(), *objective.parameters()] if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.optimizer.lr)
    losses = []
    for _ in range(10):
        optimizer.zero_grad(set_to_none=True)
        stats = objective.backward(encoder, x, torch.Generator().manual_seed(5))
        optimizer.step()
        losses.append(stats.loss.item())
    assert all(math.isfinite(loss) for loss in losses)
    assert losses[-1] < losses[0], losses


@pytest.mark.usefixtures("mnist_root")
def test_match_bp_run_is_flagged(presets: dict, tmp_path: Path) -> None:
    config = tiny_config(presets["clapp-pp-dfb"], rule={"predictorTraining": "match-bp"})
    stream = io.StringIO()
    summary = train(config, tmp_path, EventChannel(stream), StopFlag())
    events = run_events(stream)
    assert events[0]["event"] == "started" and events[0]["analysis_mode"] is True
    assert summary["analysis_mode"] is True
    assert json.loads((tmp_path / "train.json").read_text())["analysis_mode"] is True
    steps = [e for e in events if e["event"] == "step"]
    assert len(steps[0]["match_errors"]) == 6
