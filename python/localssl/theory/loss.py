"""The unified per-layer contrastive loss of the theory code (spec 2.2 and 4.4).

A batch holds N = 2M samples stacked as [first view; second view]: sample i of the first half
and sample i of the second half are a positive pair. For layer l with representation r^l
(pooled and flattened activity, (N, D_l)) and reference layer k = fb(l):

    ref_i  = r^k of the *other* view of sample i, detached          (N, D_k)
    p_i    = B_{h(i)} r^l_i,  h(i) = 0 for the first half, 1 for the second
    u_pos_i = p_i · ref_i,    u_neg_i = p_{i+1 mod N} · ref_i        (next sample = negative)
    L^l    = mean_i f(u_pos_i, u_neg_i) + (λ / 2) Σ_h ‖B_h‖²

Convention for B (one per half, "asym"): B^l has shape (2, D_k, D_l); the code's `Wproj` and
`Wproj_asym` are B[0] and B[1]. The paper's B^l is our B^lᵀ, since we project r^l rather than
the reference. Theorem 3.1 holds exactly with this convention: if M = W^{L:l+1} has orthonormal
columns, the candidate B^l_h = Mᵀ B^L_h M reproduces every score of the top layer and satisfies
layer l's stationarity condition half by half; the loss is strictly convex in B for convex f
and λ > 0, so that candidate is the unique optimum. `shared_b=True` (one B for both halves,
shape (1, D_k, D_l)) is the paper's single-B form, for which the same argument applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

Contrast = Literal["logsig", "hinge", "linear", "phyll"]
CONTRASTS: tuple[str, ...] = ("logsig", "hinge", "linear", "phyll")
MARGIN = 1.0


@dataclass(frozen=True)
class LossSpec:
    """How each layer's loss is built; the defaults are Figure 2's (6 layers, same-layer).

    Attributes:
        f: 'logsig' (softplus f: softplus(1 - u_pos) + softplus(1 + u_neg)), 'hinge',
            'linear' (u_neg - u_pos) or 'phyll' (softplus(u_neg - u_pos)).
        b_decay: λ of the L2 penalty (λ / 2) Σ_h ‖B_h‖².
        fb_idx: reference layer of each layer, 0-based; (0, 1, ..., L-1) is same-layer context,
            (L-1, ..., L-1) is direct feedback (DFB). The top layer must reference itself.
        pools: average-pool kernel (= stride) per layer for conv feature maps; None for
            vectors. A kernel equal to the map side is global pooling.
        shared_b: one B for both halves instead of one per half.
    """

    f: Contrast = "logsig"
    b_decay: float = 0.01
    fb_idx: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    pools: tuple[int, ...] | None = None
    shared_b: bool = False

    def __post_init__(self) -> None:
        if self.f not in CONTRASTS:
            raise ValueError(f"f must be one of {CONTRASTS}, got {self.f!r}")
        n = len(self.fb_idx)
        if self.fb_idx[-1] != n - 1:
            raise ValueError(f"the top layer must reference itself, got fb_idx={self.fb_idx}")
        if any(not 0 <= k < n for k in self.fb_idx):
            raise ValueError(f"fb_idx entries must lie in [0, {n - 1}], got {self.fb_idx}")
        if self.pools is not None and len(self.pools) != n:
            raise ValueError(f"pools needs {n} entries, got {self.pools}")

    @property
    def n_layers(self) -> int:
        """Number of layers L."""
        return len(self.fb_idx)

    @property
    def n_b(self) -> int:
        """Number of B matrices per layer (1 or 2)."""
        return 1 if self.shared_b else 2


def same_layer(n_layers: int) -> tuple[int, ...]:
    """fb_idx of same-layer context: (0, 1, ..., L-1)."""
    return tuple(range(n_layers))


def direct_feedback(n_layers: int) -> tuple[int, ...]:
    """fb_idx of direct feedback from the top layer: (L-1, ..., L-1)."""
    return (n_layers - 1,) * n_layers


def represent(z: torch.Tensor, pool: int | None) -> torch.Tensor:
    """Flatten an activity into the vector the loss sees.

    Args:
        z: (N, D) vector activity, or (N, C, H, W) feature map.
        pool: average-pool kernel and stride for feature maps (ignored for vectors).
    Returns:
        (N, D) or (N, C · H/pool · W/pool), channel-major.
    """
    if z.dim() == 2:
        return z
    if pool is not None and pool > 1:
        z = F.avg_pool2d(z, kernel_size=pool, stride=pool)
    return z.flatten(1)


def representations(activities: Sequence[torch.Tensor], spec: LossSpec) -> list[torch.Tensor]:
    """Apply `represent` to every layer with its pool from `spec`."""
    pools = spec.pools or (None,) * len(activities)
    return [represent(z, k) for z, k in zip(activities, pools, strict=True)]


def reference(r: torch.Tensor) -> torch.Tensor:
    """The other view of each sample, detached: halves swapped.

    Args:
        r: (N, D), N even, stacked as [first view; second view].
    Returns:
        (N, D) with row i holding the partner of sample i.
    """
    half = r.shape[0] // 2
    if 2 * half != r.shape[0]:
        raise ValueError(f"the batch must hold two equal halves, got {r.shape[0]} samples")
    return torch.cat([r[half:], r[:half]]).detach()


def project(r: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """p_i = B_{h(i)} r_i.

    Args:
        r: (N, D_l) representations.
        b: (n_b, D_k, D_l), n_b = 2 (one per half) or 1 (shared).
    Returns:
        (N, D_k).
    """
    if b.shape[0] == 1:
        return r @ b[0].T
    half = r.shape[0] // 2
    return torch.cat([r[:half] @ b[0].T, r[half:] @ b[1].T])


def scores(
    r: torch.Tensor, ref: torch.Tensor, b: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Positive and negative scores.

    Args:
        r: (N, D_l) representations of the layer.
        ref: (N, D_k) detached references (see `reference`).
        b: (n_b, D_k, D_l).
    Returns:
        u_pos, u_neg, each (N,); the negative of sample i is the projection of sample i+1.
    """
    p = project(r, b)
    u_pos = (p * ref).sum(dim=1)
    u_neg = (torch.roll(p, shifts=-1, dims=0) * ref).sum(dim=1)
    return u_pos, u_neg


def contrast(u_pos: torch.Tensor, u_neg: torch.Tensor, f: Contrast) -> torch.Tensor:
    """Per-sample loss f(u_pos, u_neg), (N,)."""
    if f == "logsig":
        return F.softplus(MARGIN - u_pos) + F.softplus(MARGIN + u_neg)
    if f == "hinge":
        return (MARGIN - u_pos).clamp(min=0) + (MARGIN + u_neg).clamp(min=0)
    if f == "linear":
        return u_neg - u_pos
    if f == "phyll":
        return F.softplus(u_neg - u_pos)
    raise ValueError(f"f must be one of {CONTRASTS}, got {f!r}")


def contrast_grad(
    u_pos: torch.Tensor, u_neg: torch.Tensor, f: Contrast
) -> tuple[torch.Tensor, torch.Tensor]:
    """Derivatives of `contrast` with respect to u_pos and u_neg, each (N,).

    Hinge uses the subgradient 0 at the kink.
    """
    if f == "logsig":
        return -torch.sigmoid(MARGIN - u_pos), torch.sigmoid(MARGIN + u_neg)
    if f == "hinge":
        return -(u_pos < MARGIN).to(u_pos.dtype), (u_neg > -MARGIN).to(u_neg.dtype)
    if f == "linear":
        return -torch.ones_like(u_pos), torch.ones_like(u_neg)
    if f == "phyll":
        s = torch.sigmoid(u_neg - u_pos)
        return -s, s
    raise ValueError(f"f must be one of {CONTRASTS}, got {f!r}")


def contrast_curvature(
    u_pos: torch.Tensor, u_neg: torch.Tensor, f: Contrast
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Second derivatives of `contrast`, each (N,):
    (∂²/∂u_pos², ∂²/∂u_neg², ∂²/∂u_pos∂u_neg).

    Hinge and linear f are piecewise linear, so their curvature is zero.
    """
    zero = torch.zeros_like(u_pos)
    if f == "logsig":
        s_pos = torch.sigmoid(MARGIN - u_pos)
        s_neg = torch.sigmoid(MARGIN + u_neg)
        return s_pos * (1 - s_pos), s_neg * (1 - s_neg), zero
    if f in ("hinge", "linear"):
        return zero, zero, zero
    if f == "phyll":
        s = torch.sigmoid(u_neg - u_pos)
        w = s * (1 - s)
        return w, w, -w
    raise ValueError(f"f must be one of {CONTRASTS}, got {f!r}")


def layer_loss(
    r: torch.Tensor, ref: torch.Tensor, b: torch.Tensor, f: Contrast, b_decay: float
) -> torch.Tensor:
    """L^l = mean_i f(u_pos_i, u_neg_i) + (λ / 2) Σ_h ‖B_h‖², a scalar.

    Args:
        r: (N, D_l) representations of the layer.
        ref: (N, D_k) detached references.
        b: (n_b, D_k, D_l).
        f: the contrast function.
        b_decay: λ.
    """
    u_pos, u_neg = scores(r, ref, b)
    return contrast(u_pos, u_neg, f).mean() + 0.5 * b_decay * b.square().sum()


def layer_losses(
    activities: Sequence[torch.Tensor], bs: Sequence[torch.Tensor], spec: LossSpec
) -> list[torch.Tensor]:
    """L^1..L^L of a forward pass.

    Args:
        activities: [z^1, ..., z^L] from a network's forward.
        bs: B^1..B^L, B^l of shape (n_b, D_{fb(l)}, D_l).
        spec: loss settings.
    Returns:
        One scalar per layer.
    """
    reps = representations(activities, spec)
    return [
        layer_loss(r, reference(reps[k]), b, spec.f, spec.b_decay)
        for r, k, b in zip(reps, spec.fb_idx, bs, strict=True)
    ]


def top_loss(
    activities: Sequence[torch.Tensor], b_top: torch.Tensor, spec: LossSpec
) -> torch.Tensor:
    """The end-to-end (BP-SSL) loss: the top layer's own loss, L^L, as a scalar."""
    pools = spec.pools or (None,) * len(activities)
    r = represent(activities[-1], pools[-1])
    return layer_loss(r, reference(r), b_top, spec.f, spec.b_decay)


def b_shapes(reps: Sequence[torch.Tensor], spec: LossSpec) -> list[tuple[int, int, int]]:
    """Shape (n_b, D_{fb(l)}, D_l) of every B^l for the given representations."""
    return [
        (spec.n_b, reps[k].shape[1], r.shape[1]) for r, k in zip(reps, spec.fb_idx, strict=True)
    ]


def random_b(
    shapes: Sequence[tuple[int, int, int]],
    generator: torch.Generator,
    dtype: torch.dtype = torch.float32,
) -> list[torch.Tensor]:
    """B matrices drawn like PyTorch's default `nn.Linear` weight: U(±1/√D_l)."""
    out = []
    for shape in shapes:
        bound = 1.0 / shape[2] ** 0.5
        b = torch.empty(shape, dtype=dtype).uniform_(-bound, bound, generator=generator)
        out.append(b)
    return out
