"""Alignment of local updates with backprop's, per layer (issue: gradient alignment).

For a run trained with a local rule and K fixed batches, both passes see the same augmented
views and the same random draws (negatives and any rule-specific choice), built once:

- local update of layer l: the gradient of layer l's own loss with every layer input detached;
- backprop update of layer l: the gradient of the top layer's loss, backpropagated through the
  whole network, with the same weights and the same B.

The updates are written to a safetensors file; the TypeScript side computes the similarities it
reports from that file. Python computes the same numbers only so a test can compare the two.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Any

import torch

from localssl.build import build_encoder, build_objective
from localssl.checkpoint import load_checkpoint, resolve_checkpoint, write_json_atomic
from localssl.config import Config
from localssl.data.sources import load_images, source
from localssl.device import choose_runtime, seed_everything
from localssl.events import EventChannel
from localssl.models.vgg import VGGEncoder
from localssl.objective import Objective
from localssl.rules.base import Draw
from localssl.train import Views, augment_spec, data_root

log = logging.getLogger(__name__)

# Offset from the run's seed for the alignment batches, so they differ from training draws.
ALIGN_SEED_OFFSET = 1009


def conv_weights(encoder: VGGEncoder) -> list[torch.Tensor]:
    """The weight of each layer's convolution, (C_l, C_{l-1}, 3, 3)."""
    return [layer[0].weight for layer in encoder.layers]  # type: ignore[index]


def layer_updates(
    objective: Objective, encoder: VGGEncoder, x: torch.Tensor, draw: Draw
) -> tuple[list[torch.Tensor | None], list[torch.Tensor]]:
    """Local and backprop weight gradients of every layer for one batch.

    Args:
        x: (2B, C, H, W) normalised views, [view 1; view 2].
        draw: the step's random choices, shared by both passes.
    Returns:
        (local, bp): per layer, the conv weight gradient shaped like the weight; local is None
        for a layer without a loss of its own.
    """
    family, weights = objective.family, conv_weights(encoder)
    inputs = family.encoder_input(x)
    top = family.num_layers - 1

    outputs = encoder(inputs, detach_inputs=True)
    acts = {-1: inputs, **dict(enumerate(outputs))}
    local: list[torch.Tensor | None] = []
    for layer in range(family.num_layers):
        loss = family.layer_loss(layer, acts, draw, encoder)
        if loss is None:
            local.append(None)
            continue
        (grad,) = torch.autograd.grad(loss, weights[layer], retain_graph=True)
        local.append(grad.detach())

    outputs = encoder(inputs)
    acts = {-1: inputs, **dict(enumerate(outputs))}
    top_loss = family.layer_loss(top, acts, draw, encoder)
    if top_loss is None:
        raise ValueError("align needs a loss on the top layer to backpropagate")
    bp = [g.detach() for g in torch.autograd.grad(top_loss, weights)]
    return local, bp


def fixed_batches(
    config: Config, images: torch.Tensor, count: int, device: torch.device
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """K batches of the first images of `images` and their two views, drawn from a generator
    seeded from the run's seed: the same every time for the same run.

    Returns:
        K pairs of (2B, C, S, S) views and the (B,) indices of their images.
    """
    info = source(config.data.dataset)
    views = Views(augment_spec(config), config.data.image_size, info.mean, info.std, False)
    gen = torch.Generator(device=device).manual_seed(config.seed + ALIGN_SEED_OFFSET)
    batch = config.train.batch_size
    if count * batch > len(images):
        raise ValueError(f"{count} batches of {batch} need {count * batch} images, the split "
                         f"has {len(images)}")  # fmt: skip
    out = []
    for b in range(count):
        index = torch.arange(b * batch, (b + 1) * batch, device=device)
        out.append((views(images[index], gen), index))
    return out


def digest(*tensors: torch.Tensor) -> str:
    """sha256 of the tensors' bytes, to show two passes saw identical inputs."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    a64, b64 = a.double().flatten(), b.double().flatten()
    return float(a64 @ b64 / (a64.norm() * b64.norm()))


def run_align(
    config: Config, run_dir: Path, checkpoint: str, batches: int, events: EventChannel
) -> dict[str, Any]:
    """Write `align/<checkpoint>/gradients.safetensors` and `meta.json` for a local-rule run."""
    from safetensors.torch import save_file

    seed_everything(config.seed)
    runtime = choose_runtime(config.device, "fp32", config.threads)
    encoder = build_encoder(config, runtime)
    objective = build_objective(config, encoder, runtime)
    if not objective.local:
        raise ValueError(f"{run_dir}: align compares a local rule with backprop, but this run was "
                         "trained with a global rule")  # fmt: skip
    folder = resolve_checkpoint(run_dir, "latest" if checkpoint == "latest" else int(checkpoint))
    load_checkpoint(folder, {"encoder": encoder, "objective": objective})

    info = source(config.data.dataset)
    images = load_images(config.data.dataset, data_root(config), info.probe_test_split,
                         config.data.image_size, None).images.to(runtime.device)  # fmt: skip
    started = time.perf_counter()
    events.emit("align_started", checkpoint=folder.name, batches=batches,
                layers=objective.num_layers)  # fmt: skip

    tensors: dict[str, torch.Tensor] = {}
    python_cosines: list[list[float | None]] = []
    inputs: list[dict[str, str]] = []
    gen = torch.Generator(device=runtime.device).manual_seed(config.seed + ALIGN_SEED_OFFSET + 1)
    for b, (x, index) in enumerate(fixed_batches(config, images, batches, runtime.device)):
        draw = objective.family.draw(x, gen)
        local, bp = layer_updates(objective, encoder, x, draw)
        row: list[float | None] = []
        for layer, (loc, ref) in enumerate(zip(local, bp, strict=True)):
            tensors[f"batch{b}.layer{layer}.bp"] = ref.float().cpu().contiguous()
            if loc is None:
                row.append(None)
                continue
            tensors[f"batch{b}.layer{layer}.local"] = loc.float().cpu().contiguous()
            row.append(cosine(loc, ref))
        python_cosines.append(row)
        inputs.append({"images": digest(index), "views": digest(x),
                       "draw": digest(draw.negatives, *draw.extra.values())})  # fmt: skip
        events.emit("align_batch", batch=b + 1, batches=batches, cosines=row)

    out = run_dir / "align" / folder.name
    out.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out / "gradients.safetensors"))
    meta = {
        "checkpoint": folder.name,
        "batches": batches,
        "batch_size": config.train.batch_size,
        "layers": objective.num_layers,
        "split": info.probe_test_split,
        "inputs": inputs,
        "python_cosines": python_cosines,
        "seconds": time.perf_counter() - started,
    }
    write_json_atomic(out / "meta.json", meta)
    events.emit("align_finished", path=str(out), seconds=meta["seconds"])
    return meta


class LiveAlignment:
    """Alignment measured during training on one held-out batch with fixed views and draws.

    Args:
        images: (N, C, H, W) uint8 held-out images on the training device.
    """

    def __init__(
        self, config: Config, objective: Objective, images: torch.Tensor, device: torch.device
    ) -> None:
        ((self.x, _),) = fixed_batches(config, images, 1, device)
        gen = torch.Generator(device=device).manual_seed(config.seed + ALIGN_SEED_OFFSET + 1)
        self.draw = objective.family.draw(self.x, gen)
        self.objective = objective

    def measure(self, encoder: VGGEncoder) -> dict[str, Any]:
        """Per-layer cosine and norm ratio of local against backprop updates, and the cost."""
        started = time.perf_counter()
        local, bp = layer_updates(self.objective, encoder, self.x, self.draw)
        cosines = [
            None if loc is None else cosine(loc, ref) for loc, ref in zip(local, bp, strict=True)
        ]
        ratios = [
            None if loc is None else float(loc.double().norm() / ref.double().norm())
            for loc, ref in zip(local, bp, strict=True)
        ]
        return {"cosines": cosines, "norm_ratios": ratios,
                "cost_ms": (time.perf_counter() - started) * 1000}  # fmt: skip
