"""Figure 4b: 2D spatial dependence in a fixed linear CNN, B at its optimum (spec 11.2).

Four stride-2 kernel-2 convolutions with 32 channels (16x16 input, maps 8, 4, 2, 1) and
orthogonal init, on two random-resized-crop views of MNIST digits. The loss sees each map
average-pooled with a per-layer kernel and flattened across channels and positions, with a
full B across positions: global pooling [8, 4, 2, 1] ("without 2D spatial dependence"), patch
pooling [2, 1, 1, 1] ("with"), and patch pooling with direct feedback.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from localssl.theory.experiments.common import (
    FixedWVariant,
    check_scale,
    run_variants,
    save_gradients,
)
from localssl.theory.experiments.mlp_figures import FIXED_W_SIZES, FixedWSizes
from localssl.theory.loss import LossSpec, direct_feedback, same_layer
from localssl.theory.models import LinearCNN
from localssl.theory.patches import default_mnist_root, load_mnist_raw
from localssl.theory.progress import Events, NullEvents
from localssl.theory.views import two_views

FIG4B_CHANNELS = (32, 32, 32, 32)
CNN_B_DECAY = 0.02
GLOBAL_POOLS = (8, 4, 2, 1)
PATCH_POOLS = (2, 1, 1, 1)


def view_batches(sizes: FixedWSizes, seed: int, data_root: str | Path | None) -> list[torch.Tensor]:
    """Sequential batches of two-view crops, drawn once from `seed`.

    Returns:
        n_images // batch_size tensors of shape (2 · batch_size, 1, 16, 16), float64.
    """
    images, _ = load_mnist_raw(data_root or default_mnist_root(), "train", sizes.n_images)
    generator = torch.Generator().manual_seed(seed)
    n = images.shape[0] // sizes.batch_size
    return [
        two_views(images[i * sizes.batch_size : (i + 1) * sizes.batch_size], generator).double()
        for i in range(n)
    ]


def linear_cnn(channels: tuple[int, ...], seed: int) -> LinearCNN:
    """Orthogonally initialised linear CNN in float64, weights drawn from `seed`."""
    generator = torch.Generator().manual_seed(seed)
    return LinearCNN(channels, init="orthogonal", generator=generator, dtype=torch.float64)


def fig4b(
    scale: str = "paper",
    seed: int = 0,
    events: Events | None = None,
    data_root: str | Path | None = None,
    gradients_path: str | Path | None = None,
) -> dict[str, Any]:
    """Figure 4b: weight-update cosine of the linear CNN under three loss poolings.

    Softplus f, λ = 0.02. Arguments and result as in `mlp_figures.fig2`.
    """
    check_scale(scale)
    events = events or NullEvents()
    sizes = FIXED_W_SIZES[scale]
    start = time.perf_counter()
    batches = view_batches(sizes, seed, data_root)

    n = len(FIG4B_CHANNELS)
    net = linear_cnn(FIG4B_CHANNELS, seed)
    specs = [
        ("global_pool", "Without 2D spatial dependence", GLOBAL_POOLS, same_layer(n)),
        ("patch_pool", "With 2D spatial dependence", PATCH_POOLS, same_layer(n)),
        ("patch_pool_dfb", "With 2D spatial dependence + DFB", PATCH_POOLS, direct_feedback(n)),
    ]
    cases = [
        (
            FixedWVariant(name, label, LossSpec("logsig", CNN_B_DECAY, fb_idx, pools)),
            net,
        )
        for name, label, pools, fb_idx in specs
    ]
    variants, tensors = run_variants("fig4b", cases, batches, seed, events, sizes.keep)
    save_gradients(gradients_path, tensors)
    return {
        "experiment": "fig4b",
        "scale": scale,
        "seed": seed,
        "sizes": {
            "n_images": sizes.n_images,
            "batch_size": sizes.batch_size,
            "n_batches": len(batches),
            "kept_batches": sizes.keep,
        },
        "variants": variants,
        "seconds": time.perf_counter() - start,
    }
