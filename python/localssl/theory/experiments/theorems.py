"""Numerical checks of Theorem 3.1, Theorem 3.3 and Proposition 3.5 (spec section 3).

Every number is computed, nothing is looked up. Each check returns {"passed": bool, ...} with
the quantities it was decided on. B is fitted to its optimum (Newton in span coordinates,
residual ~1e-12) in float64.

- Theorem 3.1: linear MLP with equal widths and orthogonal W, softplus f, same-layer context:
  local and BP weight updates coincide (cosine > 1 - 1e-4 in every layer and batch). Default
  init and random B are reported alongside as controls that visibly fail.
- Theorem 3.3: random linear MLPs with shrinking widths and semi-orthogonal W, linear f:
  ‖g_same - g_bp‖_F ≥ ‖g_dfb - g_bp‖_F in every layer. The same inequality under
  softplus f is reported but not required: it does not hold for every sampled network.
- Proposition 3.5: a linear CNN whose unrolled layers are orthogonal (channels 4, 16, 64, 256,
  so each stride-2 kernel-2 layer maps 256 values to 256): with pool size 1 everywhere the
  local update equals BP; with global pooling it does not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from localssl.theory.experiments.cnn_figure import linear_cnn, view_batches
from localssl.theory.experiments.common import (
    FixedWVariant,
    check_scale,
    run_fixed_w,
    save_gradients,
    variant_result,
)
from localssl.theory.experiments.mlp_figures import FixedWSizes
from localssl.theory.gradients import BatchGradients, batch_gradients
from localssl.theory.loss import (
    Contrast,
    LossSpec,
    b_shapes,
    direct_feedback,
    reference,
    same_layer,
)
from localssl.theory.loss import representations as reps_of
from localssl.theory.models import LayeredNet, TheoryMLP
from localssl.theory.optimum import Problem, fit_b
from localssl.theory.patches import PATCH, default_mnist_root, load_mnist_images, patch_batches
from localssl.theory.progress import Events, NullEvents

COS_TOLERANCE = 1e-4
MARGIN_TOLERANCE = 1e-9
ORTHOGONAL_CHANNELS = (4, 16, 64, 256)


@dataclass(frozen=True)
class TheoremSizes:
    """Sizes of the theorem checks.

    Attributes:
        n_images: MNIST training images for the batches.
        batch_size: images per batch.
        n_networks: random networks sampled for Theorem 3.3.
    """

    n_images: int
    batch_size: int
    n_networks: int


THEOREM_SIZES = {
    "paper": TheoremSizes(n_images=256, batch_size=32, n_networks=20),
    "smoke": TheoremSizes(n_images=32, batch_size=16, n_networks=3),
}


def theorem_3_1(
    batches: Sequence[torch.Tensor], seed: int, events: Events
) -> tuple[dict[str, Any], dict[str, Any], dict[str, torch.Tensor]]:
    """Equal-width linear orthogonal MLP, B at optimum: local = BP in every layer.

    Returns:
        The check, the result entries of its variants, and their kept gradients.
    """
    spec = LossSpec("logsig", 0.01, same_layer(6))
    nets = {
        init: TheoryMLP(
            PATCH * PATCH,
            (128,) * 6,
            init=init,
            generator=torch.Generator().manual_seed(seed),
            dtype=torch.float64,
        )
        for init in ("orthogonal", "default")
    }
    runs = [
        (FixedWVariant("thm31_orthogonal", "Theorem 3.1: all assumptions", spec), "orthogonal"),
        (FixedWVariant("thm31_default_init", "Control: default init", spec), "default"),
        (FixedWVariant("thm31_random_b", "Control: random B", spec, "random"), "orthogonal"),
    ]
    entries, tensors, worst = {}, {}, {}
    for index, (variant, init) in enumerate(runs):
        generator = torch.Generator().manual_seed(seed * 1000 + index)
        alignment, seconds = run_fixed_w(nets[init], batches, variant, generator, events, keep=1)
        entries[variant.name] = variant_result(variant, alignment, seconds)
        tensors.update(alignment.tensors(variant.name))
        worst[variant.name] = min(min(layer) for layer in alignment.weight_cos)
    residuals = [layer["b_residual"]["max"] for layer in entries["thm31_orthogonal"]["layers"]]
    check = {
        "passed": worst["thm31_orthogonal"] > 1 - COS_TOLERANCE,
        "min_weight_cos": worst["thm31_orthogonal"],
        "threshold": 1 - COS_TOLERANCE,
        "max_b_residual": max(residuals),
        "control_min_weight_cos": {
            "default_init": worst["thm31_default_init"],
            "random_b": worst["thm31_random_b"],
        },
    }
    return check, entries, tensors


def _optimal_gradients(net: LayeredNet, x: torch.Tensor, spec: LossSpec) -> BatchGradients:
    with torch.no_grad():
        reps = reps_of(net(x, blocked=True), spec)
    problems = [Problem(r, reference(reps[k])) for r, k in zip(reps, spec.fb_idx, strict=True)]
    zeros = [torch.zeros(shape, dtype=x.dtype) for shape in b_shapes(reps, spec)]
    fit = fit_b(problems, zeros, spec.f, spec.b_decay)
    return batch_gradients(net, x, fit.bs, spec)


def dfb_margins(net: LayeredNet, x: torch.Tensor, f: Contrast, b_decay: float) -> list[float]:
    """(‖g_same - g_bp‖ - ‖g_dfb - g_bp‖) / ‖g_bp‖ per layer, B at its optimum.

    Theorem 3.3 says every entry is ≥ 0. The top layer's entry is 0 up to rounding.
    """
    n = len(net.weights)
    same = _optimal_gradients(net, x, LossSpec(f, b_decay, same_layer(n)))
    dfb = _optimal_gradients(net, x, LossSpec(f, b_decay, direct_feedback(n)))
    out = []
    for g_same, g_dfb, g_bp in zip(same.local_w, dfb.local_w, same.bp_w, strict=True):
        gap = float((g_same - g_bp).norm() - (g_dfb - g_bp).norm())
        out.append(gap / float(g_bp.norm()))
    return out


def shrinking_widths(generator: torch.Generator, n_layers: int = 5) -> list[int]:
    """Random strictly decreasing widths between 128 and 4."""
    pool = torch.randperm(125, generator=generator)[:n_layers] + 4
    return sorted((int(w) for w in pool), reverse=True)


def theorem_3_3(batches: Sequence[torch.Tensor], n_networks: int, seed: int) -> dict[str, Any]:
    """DFB is never further from BP than same-layer context (linear f), on random networks."""
    generator = torch.Generator().manual_seed(seed)
    networks = []
    for index in range(n_networks):
        widths = shrinking_widths(generator)
        net = TheoryMLP(
            PATCH * PATCH, widths, init="orthogonal", generator=generator, dtype=torch.float64
        )
        x = batches[index % len(batches)]
        networks.append(
            {
                "widths": widths,
                "margins_linear_f": dfb_margins(net, x, "linear", 0.01),
                "margins_softplus_f": dfb_margins(net, x, "logsig", 0.01),
            }
        )
    worst_linear = min(min(n["margins_linear_f"]) for n in networks)
    softplus_violations = sum(
        m < -MARGIN_TOLERANCE for n in networks for m in n["margins_softplus_f"]
    )
    return {
        "passed": worst_linear >= -MARGIN_TOLERANCE,
        "worst_margin_linear_f": worst_linear,
        "tolerance": MARGIN_TOLERANCE,
        "softplus_f_violations": softplus_violations,
        "softplus_f_layers_checked": sum(len(n["margins_softplus_f"]) for n in networks),
        "worst_margin_softplus_f": min(min(n["margins_softplus_f"]) for n in networks),
        "networks": networks,
    }


def proposition_3_5(batches: Sequence[torch.Tensor], seed: int) -> dict[str, Any]:
    """Pool size 1 with a full B across positions gives the BP update; global pooling not."""
    spec_patch = LossSpec("logsig", 0.02, same_layer(4), (1, 1, 1, 1))
    spec_global = LossSpec("logsig", 0.02, same_layer(4), (8, 4, 2, 1))
    net = linear_cnn(ORTHOGONAL_CHANNELS, seed)
    narrow = linear_cnn((32, 32, 32, 32), seed)

    def worst(net_: LayeredNet, spec: LossSpec) -> tuple[float, float]:
        cos, rel = 1.0, 0.0
        for x in batches:
            grads = _optimal_gradients(net_, x, spec)
            for g_local, g_bp in zip(grads.local_w, grads.bp_w, strict=True):
                cos = min(cos, float(torch.nn.functional.cosine_similarity(
                    g_local.flatten(), g_bp.flatten(), dim=0)))  # fmt: skip
                rel = max(rel, float((g_local - g_bp).norm() / g_bp.norm()))
        return cos, rel

    patch_cos, patch_rel = worst(net, spec_patch)
    global_cos, global_rel = worst(net, spec_global)
    narrow_cos, _ = worst(narrow, spec_patch)
    return {
        "passed": patch_cos > 1 - COS_TOLERANCE and global_cos < 1 - COS_TOLERANCE,
        "channels": list(ORTHOGONAL_CHANNELS),
        "pool1_min_weight_cos": patch_cos,
        "pool1_max_relative_error": patch_rel,
        "global_pool_min_weight_cos": global_cos,
        "global_pool_max_relative_error": global_rel,
        "threshold": 1 - COS_TOLERANCE,
        "fig4b_channels_pool1_min_weight_cos": narrow_cos,
    }


def theorems(
    scale: str = "paper",
    seed: int = 0,
    events: Events | None = None,
    data_root: str | Path | None = None,
    gradients_path: str | Path | None = None,
) -> dict[str, Any]:
    """Run the three checks.

    Returns:
        {"experiment", "scale", "seed", "passed", "checks": {name: check}, "variants",
        "seconds"}; `variants` holds the Theorem 3.1 runs in the usual per-layer form.
    """
    check_scale(scale)
    events = events or NullEvents()
    sizes = THEOREM_SIZES[scale]
    start = time.perf_counter()
    root = data_root or default_mnist_root()
    images, _ = load_mnist_images(root, "train", sizes.n_images)
    patches = patch_batches(images.double(), sizes.batch_size)
    views = view_batches(FixedWSizes(sizes.n_images, sizes.batch_size, keep=1), seed, root)

    checks: dict[str, Any] = {}
    check, variants, tensors = theorem_3_1(patches, seed, events)
    checks["theorem_3_1"] = check
    events.emit("theory_check", check="theorem_3_1", passed=check["passed"])
    checks["theorem_3_3"] = theorem_3_3(patches, sizes.n_networks, seed)
    events.emit("theory_check", check="theorem_3_3", passed=checks["theorem_3_3"]["passed"])
    checks["proposition_3_5"] = proposition_3_5(views, seed)
    events.emit("theory_check", check="proposition_3_5", passed=checks["proposition_3_5"]["passed"])
    save_gradients(gradients_path, tensors)
    return {
        "experiment": "theorems",
        "scale": scale,
        "seed": seed,
        "passed": all(c["passed"] for c in checks.values()),
        "checks": checks,
        "variants": variants,
        "seconds": time.perf_counter() - start,
    }
