"""Local versus backprop weight gradients and error signals, and their cosine similarity.

For one batch and fixed B's:

- local: each layer's input detached; g_local^l = ∂L^l/∂W^l and δ_local^l = ∂L^l/∂z^l;
- backprop (BP): no detach; g_bp^l = ∂L^L/∂W^l and δ_bp^l = ∂L^L/∂z^l, the top-layer loss
  back-propagated through every layer.

z^l is the layer's activity before pooling (the feature map for a CNN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from localssl.theory.loss import LossSpec, layer_losses, top_loss
from localssl.theory.models import LayeredNet

CI_Z = 1.96


@dataclass(frozen=True)
class BatchGradients:
    """Gradients of one batch, one tensor per layer, detached.

    Attributes:
        local_w: ∂L^l/∂W^l, shaped like W^l.
        bp_w: ∂L^L/∂W^l, shaped like W^l.
        local_err: ∂L^l/∂z^l, shaped like z^l.
        bp_err: ∂L^L/∂z^l, shaped like z^l.
    """

    local_w: list[torch.Tensor]
    bp_w: list[torch.Tensor]
    local_err: list[torch.Tensor]
    bp_err: list[torch.Tensor]


def local_gradients(
    net: LayeredNet, x: torch.Tensor, bs: Sequence[torch.Tensor], spec: LossSpec
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Gradient-blocked weight gradients and error signals.

    Because every layer's input and every reference are detached, ∂(Σ_k L^k)/∂W^l equals
    ∂L^l/∂W^l, so one backward pass over the sum gives all layers.

    Args:
        net: the network; its weights must require grad.
        x: input batch, [first views; second views].
        bs: B^1..B^L.
        spec: loss settings.
    Returns:
        ([∂L^l/∂W^l], [∂L^l/∂z^l]) for l = 1..L.
    """
    activities = net(x, blocked=True)
    total = torch.stack(layer_losses(activities, bs, spec)).sum()
    grads = torch.autograd.grad(total, [*net.weights, *activities])
    n = len(activities)
    return [g.detach() for g in grads[:n]], [g.detach() for g in grads[n:]]


def bp_gradients(
    net: LayeredNet, x: torch.Tensor, b_top: torch.Tensor, spec: LossSpec
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """Backprop weight gradients and error signals of the top-layer loss.

    Returns:
        ([∂L^L/∂W^l], [∂L^L/∂z^l]) for l = 1..L.
    """
    activities = net(x, blocked=False)
    loss = top_loss(activities, b_top, spec)
    grads = torch.autograd.grad(loss, [*net.weights, *activities])
    n = len(activities)
    return [g.detach() for g in grads[:n]], [g.detach() for g in grads[n:]]


def batch_gradients(
    net: LayeredNet, x: torch.Tensor, bs: Sequence[torch.Tensor], spec: LossSpec
) -> BatchGradients:
    """Local and BP gradients of one batch; B^L = bs[-1] serves both."""
    local_w, local_err = local_gradients(net, x, bs, spec)
    bp_w, bp_err = bp_gradients(net, x, bs[-1], spec)
    return BatchGradients(local_w=local_w, bp_w=bp_w, local_err=local_err, bp_err=bp_err)


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine similarity of two tensors flattened, clipped to [-1, 1]; NaN when either is zero."""
    a, b = a.flatten().double(), b.flatten().double()
    norm = float(a.norm() * b.norm())
    return max(-1.0, min(1.0, float(a @ b) / norm)) if norm > 0 else math.nan


def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """Mean and 95 % half-width 1.96·std/√n over the finite values (std with n - 1).

    Returns:
        (mean, half_width); NaN mean when nothing is finite, 0 half-width for one value.
    """
    finite = [v for v in values if math.isfinite(v)]
    n = len(finite)
    if n == 0:
        return math.nan, math.nan
    mean = sum(finite) / n
    if n == 1:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in finite) / (n - 1)
    return mean, CI_Z * math.sqrt(var / n)
