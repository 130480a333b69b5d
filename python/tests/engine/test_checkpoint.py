"""Checkpoints keep weights, optimizer state and generators; a resumed run continues exactly."""

from __future__ import annotations

import io
from pathlib import Path

import torch
from safetensors.torch import load_file

from localssl.build import build_encoder, build_objective
from localssl.checkpoint import TrainState, load_checkpoint, resolve_checkpoint, save_checkpoint
from localssl.config import config_from_dict
from localssl.device import choose_runtime
from localssl.events import EventChannel
from localssl.stop import StopFlag
from localssl.train import train

from .helpers import BASE_CONFIG, CLAPP_2021_RULE, TINY_RUN, merged, views


def modules_and_optimizer(rule: dict):
    config = config_from_dict(merged(merged(BASE_CONFIG, TINY_RUN), {"rule": rule}))
    runtime = choose_runtime("cpu", "fp32", 1)
    encoder = build_encoder(config, runtime)
    objective = build_objective(config, encoder, runtime)
    params = [p for p in [*encoder.parameters(), *objective.parameters()] if p.requires_grad]
    return encoder, objective, torch.optim.AdamW(params, lr=1e-3)


def test_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    encoder, objective, optimizer = modules_and_optimizer(BASE_CONFIG["rule"])
    x = views(batch=4)
    objective.backward(encoder, x, torch.Generator().manual_seed(0))
    optimizer.step()
    gen = torch.Generator().manual_seed(9)
    gen_state = gen.get_state()
    modules = {"encoder": encoder, "objective": objective}
    folder = save_checkpoint(tmp_path, modules, optimizer, TrainState(1, 1), {"augment": gen})

    torch.manual_seed(1)
    encoder2, objective2, optimizer2 = modules_and_optimizer(BASE_CONFIG["rule"])
    gen2 = torch.Generator().manual_seed(123)
    state = load_checkpoint(resolve_checkpoint(tmp_path), {"encoder": encoder2,
                            "objective": objective2}, optimizer2, {"augment": gen2})  # fmt: skip
    assert folder == resolve_checkpoint(tmp_path) and state == TrainState(1, 1)
    for module, loaded in ((encoder, encoder2), (objective, objective2)):
        for key, value in module.state_dict().items():
            assert torch.equal(value, loaded.state_dict()[key]), key
    saved, restored = optimizer.state_dict()["state"], optimizer2.state_dict()["state"]
    assert saved.keys() == restored.keys()
    for index in saved:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            before, after = (
                torch.as_tensor(saved[index][key]),
                torch.as_tensor(restored[index][key]),
            )
            assert torch.equal(before, after.to(before.dtype)), key
    assert torch.equal(gen2.get_state(), gen_state)


def test_resume_continues_exactly(tmp_path: Path) -> None:
    """Two epochs in one go equal one epoch, a stop, and a resumed second epoch."""
    for rule in (BASE_CONFIG["rule"], CLAPP_2021_RULE):
        size = 64 if rule is CLAPP_2021_RULE else 32
        raw = merged(merged(BASE_CONFIG, TINY_RUN), {"data": {"imageSize": size}})
        raw["rule"] = rule

        straight = run(raw, tmp_path / f"{rule['kind']}-straight", 2, False)
        run(raw, tmp_path / f"{rule['kind']}-resumed", 1, False)
        resumed = run(raw, tmp_path / f"{rule['kind']}-resumed", 2, True)
        assert straight.keys() == resumed.keys()
        for key, value in straight.items():
            assert torch.equal(value, resumed[key]), key


def run(raw: dict, folder: Path, epochs: int, resume: bool) -> dict[str, torch.Tensor]:
    """Train `epochs` epochs in `folder` (resuming if asked); the last checkpoint's tensors."""
    config = config_from_dict(merged(raw, {"train": {"epochs": epochs}}))
    train(config, folder, EventChannel(io.StringIO()), StopFlag(), resume=resume)
    return load_file(str(resolve_checkpoint(folder) / "state.safetensors"))
