"""Shared machinery of the fixed-W experiments (Figures 2, 3a, 4b and the theorem checks).

W is frozen. For every batch, B is fitted to its optimum on that batch (or held at a random
draw), then the local and BP gradients of the batch are compared layer by layer.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from safetensors.torch import save_file

from localssl.theory.alignment import Alignment
from localssl.theory.gradients import batch_gradients
from localssl.theory.loss import LossSpec, b_shapes, random_b, reference, representations
from localssl.theory.models import LayeredNet
from localssl.theory.optimum import (
    FitSettings,
    Problem,
    fit_b,
    stationarity_residual,
)
from localssl.theory.progress import Events

log = logging.getLogger(__name__)

Scale = Literal["smoke", "paper"]
SCALES: tuple[str, ...] = ("smoke", "paper")
BMode = Literal["optimal", "random"]


def check_scale(scale: str) -> None:
    """Raise for an unknown scale name."""
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")


@dataclass(frozen=True)
class FixedWVariant:
    """One curve of a fixed-W figure.

    Attributes:
        name: key in result.json and prefix in the safetensors file.
        label: the figure legend.
        spec: loss settings.
        b_mode: 'optimal' fits every B^l per batch; 'random' keeps B^l (l < L) at one seeded
            random draw and fits only B^L, which the BP gradient needs.
    """

    name: str
    label: str
    spec: LossSpec
    b_mode: BMode = "optimal"


def run_fixed_w(
    net: LayeredNet,
    batches: Sequence[torch.Tensor],
    variant: FixedWVariant,
    generator: torch.Generator,
    events: Events,
    keep: int = 0,
    settings: FitSettings | None = None,
) -> tuple[Alignment, dict[str, float]]:
    """Compare local and BP gradients over batches with B at its optimum (or random).

    Every fit starts from B = 0 (all scores 0), from where Newton needs about ten steps; the
    optimum is unique, so the start only changes the run time. The top layer's B^L is fitted
    once and serves both the local top-layer loss and the BP loss, which are the same loss
    (the official code fits it in an end-to-end model and copies it over).

    Args:
        net: network with frozen weights (they still require grad for the gradients).
        batches: inputs, each stacked as [first views; second views].
        variant: loss settings and B mode.
        generator: seeded source of the random B ('random' mode).
        events: progress receiver; gets one `theory_batch` per batch.
        keep: number of leading batches whose gradients are kept.
        settings: how B is fitted (defaults when None).
    Returns:
        The alignment record and timings in seconds ('fit', 'gradients').
    """
    spec = variant.spec
    alignment = Alignment(spec.n_layers, keep)
    seconds = {"fit": 0.0, "gradients": 0.0}
    fixed: list[torch.Tensor] | None = None

    for index, x in enumerate(batches):
        with torch.no_grad():
            reps = representations(net(x, blocked=True), spec)
        problems = [Problem(r, reference(reps[k])) for r, k in zip(reps, spec.fb_idx, strict=True)]
        zeros = [torch.zeros(shape, dtype=x.dtype) for shape in b_shapes(reps, spec)]
        if fixed is None:
            fixed = random_b(b_shapes(reps, spec), generator, dtype=x.dtype)

        # B^l at its optimum, or random B^l with B^L fitted.
        start = time.perf_counter()
        if variant.b_mode == "optimal":
            fit = fit_b(problems, zeros, spec.f, spec.b_decay, settings)
            bs = fit.bs
            residuals = fit.residuals
        else:
            fit = fit_b(problems[-1:], zeros[-1:], spec.f, spec.b_decay, settings)
            bs = [*fixed[:-1], fit.bs[0]]
            residuals = [
                stationarity_residual(p, b, spec.f, spec.b_decay)
                for p, b in zip(problems[:-1], fixed[:-1], strict=True)
            ] + fit.residuals
        seconds["fit"] += time.perf_counter() - start

        # Local and BP gradients with those B's.
        start = time.perf_counter()
        grads = batch_gradients(net, x, bs, spec)
        alignment.add(grads, residuals)
        seconds["gradients"] += time.perf_counter() - start

        events.emit(
            "theory_batch",
            variant=variant.name,
            batch=index + 1,
            batches=len(batches),
            fit_evaluations=fit.evaluations,
            worst_residual=max(fit.residuals),
        )
    return alignment, seconds


def variant_result(
    variant: FixedWVariant, alignment: Alignment, seconds: dict[str, float]
) -> dict[str, Any]:
    """The result.json entry of a fixed-W variant."""
    spec = variant.spec
    return {
        "label": variant.label,
        "settings": {
            "f": spec.f,
            "b_decay": spec.b_decay,
            "fb_idx": [k + 1 for k in spec.fb_idx],
            "pools": list(spec.pools) if spec.pools else None,
            "b_mode": variant.b_mode,
        },
        "n_batches": alignment.n_batches,
        "layers": alignment.summary(),
        "seconds": {**seconds, "total": sum(seconds.values())},
    }


def run_variants(
    experiment: str,
    cases: Sequence[tuple[FixedWVariant, LayeredNet]],
    batches: Sequence[torch.Tensor],
    seed: int,
    events: Events,
    keep: int,
    settings: FitSettings | None = None,
) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Run each (variant, network) pair on the same batches.

    Returns:
        {variant name: result entry} and the kept gradient tensors of all variants.
    """
    results: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    for case_index, (variant, net) in enumerate(cases):
        events.emit("theory_variant", experiment=experiment, variant=variant.name, status="start")
        generator = torch.Generator().manual_seed(seed * 1000 + case_index)
        alignment, seconds = run_fixed_w(net, batches, variant, generator, events, keep, settings)
        results[variant.name] = variant_result(variant, alignment, seconds)
        tensors.update(alignment.tensors(variant.name))
        means = alignment.layer_means()
        log.info("%s/%s: weight cos per layer %s", experiment, variant.name, _fmt(means))
        events.emit(
            "theory_variant",
            experiment=experiment,
            variant=variant.name,
            status="done",
            weight_cos=means,
            seconds=results[variant.name]["seconds"]["total"],
        )
    return results, tensors


def save_gradients(path: str | Path | None, tensors: dict[str, torch.Tensor]) -> None:
    """Write gradient tensors to a safetensors file (nothing when `path` is None)."""
    if path is None:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={"format": "localssl-theory-gradients/1"})


def _fmt(values: Sequence[float]) -> str:
    return "[" + ", ".join("nan" if math.isnan(v) else f"{v:.4f}" for v in values) + "]"
