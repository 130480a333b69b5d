"""B at its optimum: for frozen activities, minimise each layer's loss over B (spec 11.1).

The loss is strictly convex in B for convex f and λ > 0, so the optimum is unique and the
starting point only changes the run time. The official code finds it with L-BFGS and a
strong-Wolfe line search; that solver is here ('lbfgs', 'lbfgs_full'), but the default is
Newton's method in the span coordinates of `span.DataSpans`, which reaches residuals near
1e-12 in about ten steps where L-BFGS stalls near 1e-6 after hundreds. The stationarity
residual tells how close a fit got:

    residual(B) = ‖∂L/∂B‖_F / (λ ‖B‖_F)

At the optimum ∂L/∂B = G_data(B) + λB = 0, so λ‖B‖ equals the size of the data
gradient and the ratio is scale-free. Since the Hessian is at least λI,
‖B - B*‖ / ‖B‖ ≤ residual: a residual of 1e-6 bounds the relative error of B, and of the
gradients built from it, by 1e-6.
For linear f the data gradient does not depend on B and the optimum has a closed form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch

from localssl.theory.loss import Contrast, layer_loss
from localssl.theory.span import DataSpans

log = logging.getLogger(__name__)

Solver = Literal["newton", "lbfgs", "lbfgs_full"]
SOLVERS: tuple[str, ...] = ("newton", "lbfgs", "lbfgs_full")
ARMIJO = 1e-4


@dataclass(frozen=True)
class FitSettings:
    """How B is fitted.

    Attributes:
        solver: 'newton' (Newton steps with backtracking, in span coordinates), 'lbfgs'
            (L-BFGS with a strong-Wolfe line search, in span coordinates) or 'lbfgs_full'
            (the same L-BFGS on the entries of B, as the official code does).
        target_residual: stop once every layer's residual is at or below this. L-BFGS stalls
            near 1e-6 in float64 because its line search compares loss values.
        max_iter: Newton iterations, or L-BFGS iterations per round.
        rounds: L-BFGS rounds; each starts with an empty curvature memory (the code runs 3).
        lr: initial step of each L-BFGS line search.
        history: L-BFGS curvature pairs kept.
        check_every: L-BFGS iterations between residual checks.
        tolerance_change: an L-BFGS round ends when the loss or the step changes less.
    """

    solver: Solver = "newton"
    target_residual: float = 1e-10
    max_iter: int = 1000
    rounds: int = 3
    lr: float = 1.0
    history: int = 20
    check_every: int = 25
    tolerance_change: float = 1e-15


@dataclass(frozen=True)
class Problem:
    """One layer's B fit: its frozen representations and references.

    Attributes:
        r: (N, D_l) representations of the layer, no grad.
        ref: (N, D_k) references (other view at layer fb(l)), no grad.
    """

    r: torch.Tensor
    ref: torch.Tensor


@dataclass(frozen=True)
class FitResult:
    """Outcome of `fit_b`.

    Attributes:
        bs: the fitted B of each problem, (n_b, D_k, D_l), detached.
        residuals: stationarity residual of each B, measured on the full matrix.
        losses: the loss of each problem at its fitted B.
        evaluations: loss evaluations the solver used.
    """

    bs: list[torch.Tensor]
    residuals: list[float]
    losses: list[float]
    evaluations: int = field(default=0)


def fit_b(
    problems: Sequence[Problem],
    starts: Sequence[torch.Tensor],
    f: Contrast,
    b_decay: float,
    settings: FitSettings | None = None,
) -> FitResult:
    """Fit the B of several independent layer losses (all with the same N) at once.

    The problems share no parameter, so minimising their sum minimises each. The span
    solvers work in the isometric coordinates of `span.DataSpans`: the same function in at
    most 2N variables per layer. Newton there reaches a residual near 1e-12 in a few
    iterations; L-BFGS follows the official procedure (spec 11.1).

    Args:
        problems: one `Problem` per layer.
        starts: initial B of each problem, (n_b, D_k, D_l); n_b is read from here.
        f: the contrast function.
        b_decay: λ > 0.
        settings: solver settings (defaults when None).
    Returns:
        The fitted B's with their residuals (measured on the full matrices) and losses.
    """
    s = settings or FitSettings()
    if b_decay <= 0:
        raise ValueError(f"the optimum of B needs b_decay > 0, got {b_decay}")
    if s.solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {s.solver!r}")

    if s.solver == "lbfgs_full":
        params = [start.detach().clone() for start in starts]

        def full_step(x: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
            with torch.enable_grad():
                leaves = [b.detach().requires_grad_(True) for b in x]
                losses = torch.stack(
                    [
                        layer_loss(p.r, p.ref, b, f, b_decay)
                        for p, b in zip(problems, leaves, strict=True)
                    ]
                )
                grads = torch.autograd.grad(losses.sum(), leaves)
            return losses.detach(), list(grads)

        evaluations = _lbfgs(params, full_step, b_decay, s)
        bs = params
    else:
        spans = DataSpans([p.r for p in problems], [p.ref for p in problems], starts[0].shape[0])
        beta = spans.coordinates([start.detach() for start in starts])
        if s.solver == "newton":
            evaluations = _newton(spans, beta, f, b_decay, s)
        else:

            def span_step(x: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
                losses, grad = spans.losses_and_grad(x[0], f, b_decay)
                return losses, [grad]

            evaluations = _lbfgs([beta], span_step, b_decay, s)
        bs = spans.matrices(beta)

    residuals = [stationarity_residual(p, b, f, b_decay) for p, b in zip(problems, bs, strict=True)]
    with torch.no_grad():
        losses = [
            float(layer_loss(p.r, p.ref, b, f, b_decay)) for p, b in zip(problems, bs, strict=True)
        ]
    log.debug("fit_b: %d evaluations, worst residual %.3g", evaluations, max(residuals))
    return FitResult(bs=bs, residuals=residuals, losses=losses, evaluations=evaluations)


def _row_residuals(beta: torch.Tensor, grad: torch.Tensor, b_decay: float) -> torch.Tensor:
    """‖grad_row‖ / (λ ‖row‖) per layer; equal to the full-matrix residual (isometry).

    A zero gradient counts as converged, so a layer with silent activity (B* = 0) stops.
    """
    norm = grad.norm(dim=1)
    return torch.where(norm == 0, torch.zeros_like(norm), norm / (b_decay * beta.norm(dim=1)))


def _newton(
    spans: DataSpans, beta: torch.Tensor, f: Contrast, b_decay: float, s: FitSettings
) -> int:
    """Damped Newton on every layer at once, β (L, 2N) updated in place.

    Each layer backtracks its own step until the Armijo condition holds (or the loss change
    is within rounding), so converged layers do not hold back the others.

    Returns:
        The number of function evaluations.
    """
    evaluations = 0
    eps = torch.finfo(beta.dtype).eps
    for _ in range(s.max_iter):
        losses, grad = spans.losses_and_grad(beta, f, b_decay)
        evaluations += 1
        if float(_row_residuals(beta, grad, b_decay).max()) <= s.target_residual:
            break
        chol = torch.linalg.cholesky(spans.hessian(beta, f, b_decay))
        step = -torch.cholesky_solve(grad.unsqueeze(-1), chol).squeeze(-1)
        slope = (grad * step).sum(dim=1)

        t = torch.ones_like(losses)
        for _ in range(50):
            trial = spans.losses(beta + t.unsqueeze(1) * step, f, b_decay)
            evaluations += 1
            accept = trial <= losses + ARMIJO * t * slope + 8 * eps * losses.abs()
            if bool(accept.all()):
                break
            t = torch.where(accept, t, t / 2)
        beta.add_(t.unsqueeze(1) * step)
    return evaluations


Step = Callable[[list[torch.Tensor]], tuple[torch.Tensor, list[torch.Tensor]]]


def _lbfgs(params: list[torch.Tensor], step: Step, b_decay: float, s: FitSettings) -> int:
    """Run L-BFGS on Σ losses in place until every residual reaches the target.

    `step` returns the per-problem losses and the gradient of each parameter; one stacked
    (L, 2N) parameter holds the span coordinates of all layers.

    Returns:
        The number of function evaluations.
    """
    evaluations = 0

    def closure() -> torch.Tensor:
        nonlocal evaluations
        evaluations += 1
        losses, grads = step(params)
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        return losses.sum()

    def worst_residual() -> float:
        _, grads = step(params)
        if len(params) == 1 and params[0].dim() == 2:
            return float(_row_residuals(params[0], grads[0], b_decay).max())
        return max(
            float(g.norm() / (b_decay * p.norm())) for p, g in zip(params, grads, strict=True)
        )

    for _ in range(s.rounds):
        optimizer = torch.optim.LBFGS(
            params,
            lr=s.lr,
            max_iter=s.check_every,
            max_eval=s.check_every * 20,
            history_size=s.history,
            tolerance_grad=0.0,
            tolerance_change=s.tolerance_change,
            line_search_fn="strong_wolfe",
        )
        done = 0
        while done < s.max_iter:
            before = optimizer.state[params[0]].get("n_iter", 0)
            optimizer.step(closure)
            ran = optimizer.state[params[0]]["n_iter"] - before
            done += ran
            if worst_residual() <= s.target_residual:
                return evaluations
            if ran < s.check_every:
                break  # the round stalled on tolerance_change: restart its memory
    return evaluations


def stationarity_residual(problem: Problem, b: torch.Tensor, f: Contrast, b_decay: float) -> float:
    """‖∂L/∂B‖_F / (λ ‖B‖_F) at `b`.

    0 at the exact optimum (also when the optimum is B = 0); inf at B = 0 otherwise.
    """
    with torch.enable_grad():
        b = b.detach().clone().requires_grad_(True)
        (grad,) = torch.autograd.grad(layer_loss(problem.r, problem.ref, b, f, b_decay), [b])
    grad_norm = float(grad.norm())
    if grad_norm == 0:
        return 0.0
    scale = b_decay * float(b.detach().norm())
    return grad_norm / scale if scale > 0 else float("inf")


def linear_optimum(problem: Problem, b_decay: float, n_b: int) -> torch.Tensor:
    """Closed-form optimum for linear f (spec 3.1 item 6, per half).

    With f = u_neg - u_pos the stationarity condition is linear:
        B_h = (1 / (λN)) [ Σ_{i: h(i)=h} ref_i r_iᵀ − Σ_{i: h(i+1)=h} ref_i r_{i+1}ᵀ ].

    Args:
        problem: representations r (N, D_l) and references ref (N, D_k).
        b_decay: λ > 0.
        n_b: 2 for one B per half, 1 for a shared B.
    Returns:
        (n_b, D_k, D_l).
    """
    r, ref = problem.r, problem.ref
    n = r.shape[0]
    r_next = torch.roll(r, shifts=-1, dims=0)
    if n_b == 1:
        halves = [torch.ones(n, dtype=r.dtype, device=r.device)]
    else:
        first = (torch.arange(n, device=r.device) < n // 2).to(r.dtype)
        halves = [first, 1 - first]
    out = []
    for mask in halves:
        mask_next = torch.roll(mask, shifts=-1)
        pos = ref.T @ (mask[:, None] * r)
        neg = ref.T @ (mask_next[:, None] * r_next)
        out.append((pos - neg) / (b_decay * n))
    return torch.stack(out)
