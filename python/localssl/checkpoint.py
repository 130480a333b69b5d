"""Checkpoints: tensors in safetensors, counters and RNG state in JSON, written atomically.

A checkpoint is a folder `checkpoints/epoch-NNNN/` holding `state.safetensors` and
`state.json`. It is written under a temporary name and renamed into place, and only then does
`checkpoints/latest.json` point at it, so a crash never leaves a half-written checkpoint that a
resume could pick up.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from localssl.jsonsafe import sanitize

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, or does not match the model; the message says which."""


@dataclass
class TrainState:
    """Where training stands: completed epochs and optimizer steps."""

    epoch: int
    global_step: int


def write_json_atomic(path: Path, payload: Any) -> None:
    """Write JSON to `path` through a temporary file and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(sanitize(payload), indent=2, allow_nan=False) + "\n")
    os.replace(tmp, path)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict, dict]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, float]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor) and value.dim() > 0:
                tensors[f"optimizer.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = float(value)
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def save_checkpoint(
    run_dir: Path,
    modules: dict[str, nn.Module],
    optimizer: torch.optim.Optimizer,
    state: TrainState,
    generators: dict[str, torch.Generator],
) -> Path:
    """Write `checkpoints/epoch-NNNN/` for the state after `state.epoch` epochs."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{state.epoch:04d}"
    final, tmp = root / name, root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()

    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{prefix}.{key}"] = value.detach().cpu().contiguous()
    opt_tensors, opt_meta = _optimizer_tensors(optimizer)
    tensors.update(opt_tensors)
    for key, gen in generators.items():
        tensors[f"rng.{key}"] = gen.get_state().cpu()
    tensors["rng.torch_global"] = torch.get_rng_state()

    save_file(tensors, str(tmp / "state.safetensors"))
    meta = {"format": FORMAT_VERSION, "epoch": state.epoch, "global_step": state.global_step,
            "optimizer": opt_meta}  # fmt: skip
    write_json_atomic(tmp / "state.json", meta)

    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    write_json_atomic(root / "latest.json", {"epoch": state.epoch, "path": name})
    return final


def resolve_checkpoint(run_dir: Path, which: str | int = "latest") -> Path:
    """The folder of checkpoint `which` ('latest' or an epoch number)."""
    root = run_dir / "checkpoints"
    if which == "latest":
        pointer = root / "latest.json"
        if not pointer.is_file():
            raise CheckpointError(f"{run_dir}: no checkpoint yet (no checkpoints/latest.json)")
        try:
            name = json.loads(pointer.read_text())["path"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise CheckpointError(f"{pointer}: corrupt pointer file") from None
        folder = root / name
    else:
        folder = root / f"epoch-{int(which):04d}"
    if not (folder / "state.safetensors").is_file() or not (folder / "state.json").is_file():
        raise CheckpointError(f"{folder}: checkpoint missing or incomplete")
    return folder


def load_checkpoint(
    folder: Path,
    modules: dict[str, nn.Module],
    optimizer: torch.optim.Optimizer | None = None,
    generators: dict[str, torch.Generator] | None = None,
) -> TrainState:
    """Load a checkpoint into freshly built modules (and optimizer and generators if given)."""
    try:
        tensors = load_file(str(folder / "state.safetensors"))
        meta = json.loads((folder / "state.json").read_text())
    except (OSError, json.JSONDecodeError, Exception) as error:
        raise CheckpointError(f"{folder}: unreadable checkpoint ({error})") from None
    if meta.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{folder}: checkpoint format {meta.get('format')!r} unknown")

    for prefix, module in modules.items():
        expected = module.state_dict()
        found = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        for key, value in expected.items():
            if key not in found:
                raise CheckpointError(f"{folder}: {prefix}.{key} missing; built from another "
                                      "config?")  # fmt: skip
            if found[key].shape != value.shape:
                raise CheckpointError(
                    f"{folder}: {prefix}.{key} has shape {tuple(found[key].shape)}, the model "
                    f"built from this config expects {tuple(value.shape)}"
                )
        extra = sorted(set(found) - set(expected))
        if extra:
            raise CheckpointError(f"{folder}: unexpected tensor {prefix}.{extra[0]}")
        module.load_state_dict(found)

    if optimizer is not None:
        _load_optimizer(optimizer, tensors, meta["optimizer"])
    if generators is not None:
        for key, gen in generators.items():
            gen.set_state(tensors[f"rng.{key}"])
        torch.set_rng_state(tensors["rng.torch_global"])
    return TrainState(epoch=int(meta["epoch"]), global_step=int(meta["global_step"]))


def _load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optimizer."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, scalars in meta["scalars"].items():
        for name, value in scalars.items():
            state.setdefault(int(index), {})[name] = torch.tensor(value)
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
