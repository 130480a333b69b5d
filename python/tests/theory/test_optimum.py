"""B at its optimum: the solvers against the closed form, and the span coordinates."""

from __future__ import annotations

import pytest
import torch

from localssl.theory.loss import (
    CONTRASTS,
    Contrast,
    contrast,
    contrast_curvature,
    contrast_grad,
    layer_loss,
    reference,
    scores,
)
from localssl.theory.optimum import (
    FitSettings,
    Problem,
    Solver,
    fit_b,
    linear_optimum,
    stationarity_residual,
)
from localssl.theory.span import DataSpans

from .helpers import two_view_batch


def _problems(seed: int, n_b: int = 2) -> tuple[list[Problem], list[torch.Tensor]]:
    """Two layers with different widths; layer 2 references layer 1 (a DFB-like shape)."""
    r1 = two_view_batch(8, 10, seed)
    r2 = two_view_batch(8, 6, seed + 1)
    problems = [Problem(r1, reference(r1)), Problem(r2, reference(r1))]
    starts = [
        torch.zeros(n_b, 10, 10, dtype=torch.float64),
        torch.zeros(n_b, 10, 6, dtype=torch.float64),
    ]
    return problems, starts


@pytest.mark.parametrize("solver", ["lbfgs_full", "lbfgs", "newton"])
@pytest.mark.parametrize("n_b", [1, 2])
def test_solvers_reach_the_closed_form_for_linear_f(solver: Solver, n_b: int) -> None:
    problems, starts = _problems(seed=0, n_b=n_b)
    fit = fit_b(problems, starts, "linear", 0.05, FitSettings(solver=solver))
    for problem, b in zip(problems, fit.bs, strict=True):
        exact = linear_optimum(problem, 0.05, n_b)
        assert stationarity_residual(problem, exact, "linear", 0.05) < 1e-12
        assert float((b - exact).norm() / exact.norm()) < 1e-6
    assert max(fit.residuals) < 1e-6


def test_lbfgs_as_in_the_official_code_agrees_with_newton_for_softplus_f() -> None:
    problems, starts = _problems(seed=3)
    newton = fit_b(problems, starts, "logsig", 0.01)
    lbfgs = fit_b(problems, starts, "logsig", 0.01, FitSettings(solver="lbfgs_full", lr=0.2))
    assert max(newton.residuals) < 1e-9
    assert max(lbfgs.residuals) < 1e-4
    for a, b in zip(newton.bs, lbfgs.bs, strict=True):
        assert float((a - b).norm() / a.norm()) < 1e-4  # ‖B - B*‖/‖B‖ ≤ residual


def test_a_random_b_is_far_from_stationary() -> None:
    problems, _ = _problems(seed=4)
    b = torch.randn(2, 10, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert stationarity_residual(problems[0], b, "logsig", 0.01) > 1.0


def test_span_coordinates_are_an_isometry_that_keeps_the_scores() -> None:
    problems, _ = _problems(seed=5)
    spans = DataSpans([p.r for p in problems], [p.ref for p in problems], n_b=2)
    g = torch.Generator().manual_seed(1)
    beta = torch.randn(2, 32, generator=g, dtype=torch.float64) * (spans.scale > 0)
    for layer, b in enumerate(spans.matrices(beta)):
        assert float(b.norm()) == pytest.approx(float(beta[layer].norm()), rel=1e-10)
        u_pos, u_neg = scores(problems[layer].r, problems[layer].ref, b)
        expected = layer_loss(problems[layer].r, problems[layer].ref, b, "logsig", 0.01)
        assert float(spans.losses(beta, "logsig", 0.01)[layer]) == pytest.approx(
            float(expected), rel=1e-10
        )
        assert torch.allclose(torch.cat([u_pos, u_neg]), spans.a[layer] @ beta[layer])
    torch.testing.assert_close(spans.coordinates(spans.matrices(beta)), beta)


@pytest.mark.parametrize("f", CONTRASTS)
def test_closed_form_derivatives_of_f_match_autograd(f: Contrast) -> None:
    g = torch.Generator().manual_seed(0)
    u_pos = (torch.randn(7, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    u_neg = (torch.randn(7, generator=g, dtype=torch.float64) * 2).requires_grad_(True)
    total = contrast(u_pos, u_neg, f).sum()
    d_pos, d_neg = torch.autograd.grad(total, [u_pos, u_neg], create_graph=True)
    g_pos, g_neg = contrast_grad(u_pos, u_neg, f)
    torch.testing.assert_close(g_pos, d_pos)
    torch.testing.assert_close(g_neg, d_neg)
    w_pp, w_nn, w_pn = contrast_curvature(u_pos, u_neg, f)
    if f in ("logsig", "phyll"):
        dd_pos = torch.autograd.grad(
            d_pos.sum(), [u_pos, u_neg], retain_graph=True, allow_unused=True
        )
        cross = torch.zeros_like(u_pos) if dd_pos[1] is None else dd_pos[1]
        torch.testing.assert_close(w_pp, dd_pos[0])
        torch.testing.assert_close(w_pn, cross)
        torch.testing.assert_close(w_nn, torch.autograd.grad(d_neg.sum(), u_neg)[0])
