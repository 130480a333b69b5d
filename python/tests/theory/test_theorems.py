"""Theorem 3.1, Theorem 3.3 and Proposition 3.5 on small seeded configurations."""

from __future__ import annotations

import pytest
import torch

from localssl.theory.experiments.cnn_figure import linear_cnn
from localssl.theory.experiments.common import BMode, FixedWVariant, run_fixed_w
from localssl.theory.experiments.theorems import ORTHOGONAL_CHANNELS, dfb_margins
from localssl.theory.loss import LossSpec, same_layer
from localssl.theory.models import Init, TheoryMLP
from localssl.theory.progress import NullEvents

from .helpers import two_view_batch, two_view_images

WIDTHS = (16, 16, 16, 16)


def _min_weight_cos(
    init: Init, b_mode: BMode, relu: bool = False, shared_b: bool = False
) -> list[float]:
    """Per layer, the worst cosine over 3 batches of a 20 -> 16 x 4 MLP, softplus f."""
    net = TheoryMLP(
        20, WIDTHS, relu=relu, init=init, generator=torch.Generator().manual_seed(0),
        dtype=torch.float64,
    )  # fmt: skip
    batches = [two_view_batch(12, 20, seed=s) for s in range(3)]
    spec = LossSpec("logsig", 0.01, same_layer(len(WIDTHS)), shared_b=shared_b)
    variant = FixedWVariant("v", "v", spec, b_mode)
    alignment, _ = run_fixed_w(
        net, batches, variant, torch.Generator().manual_seed(1), NullEvents()
    )
    if b_mode == "optimal":
        assert max(max(r) for r in alignment.residuals) < 1e-8
    return [min(layer) for layer in alignment.weight_cos]


@pytest.mark.parametrize("shared_b", [False, True])
def test_theorem_3_1_local_equals_bp_with_all_assumptions(shared_b: bool) -> None:
    assert min(_min_weight_cos("orthogonal", "optimal", shared_b=shared_b)) > 0.9999


def test_theorem_3_1_fails_visibly_without_its_assumptions() -> None:
    default = _min_weight_cos("default", "optimal")
    random_b = _min_weight_cos("orthogonal", "random")
    relu = _min_weight_cos("orthogonal", "optimal", relu=True)
    for worst in (default, random_b, relu):
        assert min(worst[:-1]) < 0.99  # every variant leaves some lower layer off BP
        assert worst[-1] > 0.9999  # the top layer is BP by construction
    assert max(random_b[:-1]) < 0.9


def test_theorem_3_3_dfb_is_never_further_from_bp_than_same_layer() -> None:
    g = torch.Generator().manual_seed(7)
    for index in range(8):
        widths = sorted((int(w) for w in torch.randperm(18, generator=g)[:4] + 3), reverse=True)
        net = TheoryMLP(24, widths, init="orthogonal", generator=g, dtype=torch.float64)
        margins = dfb_margins(net, two_view_batch(16, 24, seed=100 + index), "linear", 0.01)
        assert min(margins) >= -1e-9, (widths, margins)
        assert margins[-1] < 1e-9  # the top layer's loss is the same in both


def test_proposition_3_5_exact_with_pool_size_1_not_with_global_pooling() -> None:
    net = linear_cnn(ORTHOGONAL_CHANNELS, seed=0)
    batches = [two_view_images(6, 16, seed=s) for s in range(2)]
    patch = FixedWVariant("p", "p", LossSpec("logsig", 0.02, same_layer(4), (1, 1, 1, 1)))
    pooled = FixedWVariant("g", "g", LossSpec("logsig", 0.02, same_layer(4), (8, 4, 2, 1)))
    g = torch.Generator().manual_seed(0)
    exact, _ = run_fixed_w(net, batches, patch, g, NullEvents())
    coarse, _ = run_fixed_w(net, batches, pooled, g, NullEvents())
    assert min(min(layer) for layer in exact.weight_cos) > 0.9999
    assert min(min(layer) for layer in coarse.weight_cos[:-1]) < 0.99
