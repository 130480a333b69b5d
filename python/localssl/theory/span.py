"""Isometric coordinates for B on the span of the data, where its optimum lives.

Every score is linear in B: the positive score of sample i is ⟨B_{h(i)}, ref_i r_iᵀ⟩ and the
negative one ⟨B_{h(i+1)}, ref_i r_{i+1}ᵀ⟩. Call these 2N rank-one matrices the atoms φ_m. The
gradient of the data term is a combination of atoms, so the optimum B = -(1/λ)·∇data lies in
their span V. With the Gram matrix K = Q Λ Qᵀ of the atoms (K_mk = ⟨φ_m, φ_k⟩, nonzero only
for atoms of the same half), the map

    β ↦ B(β) = Σ_m c_m φ_m,  c = Q Λ^{-1/2} β

is an isometry from R^rank onto V: ‖B(β)‖_F = ‖β‖ and the scores are
u = Q Λ^{1/2} β. The loss restricted to V is the same function, with the same
conditioning, in at most 2N variables instead of n_b·D_k·D_l, which makes each L-BFGS step
far cheaper. Components of B outside V
only add to the penalty, so they vanish at the optimum.

All layers of a batch share N, so they are stacked: coordinates form one (L, 2N) tensor, with
the directions of zero eigenvalue kept as inert coordinates (zero scale) that the penalty
drives to zero.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from localssl.theory.loss import Contrast, contrast, contrast_curvature, contrast_grad


class DataSpans:
    """The spans V^l of every layer's score atoms, with orthonormal coordinates."""

    def __init__(self, rs: Sequence[torch.Tensor], refs: Sequence[torch.Tensor], n_b: int) -> None:
        """Build the coordinates.

        Args:
            rs: per layer, (N, D_l) frozen representations.
            refs: per layer, (N, D_k) frozen references.
            n_b: 2 for one B per half, 1 for a shared B.
        """
        n = rs[0].shape[0]
        device = rs[0].device
        idx = torch.arange(n, device=device)
        half = (idx >= n // 2).long() if n_b == 2 else torch.zeros_like(idx)
        nxt = (idx + 1) % n

        # Atom m: its reference row, its representation row and its B; positives first.
        self.ref_idx = torch.cat([idx, idx])
        self.r_idx = torch.cat([idx, nxt])
        self.b_idx = torch.cat([half, half[nxt]])
        self.rs, self.refs, self.n_b, self.n = list(rs), list(refs), n_b, n

        same_b = self.b_idx[:, None] == self.b_idx[None, :]
        kernels = []
        for r, ref in zip(rs, refs, strict=True):
            gram_ref = (ref @ ref.T)[self.ref_idx][:, self.ref_idx]
            gram_r = (r @ r.T)[self.r_idx][:, self.r_idx]
            kernels.append(torch.where(same_b, gram_ref * gram_r, torch.zeros_like(gram_r)))
        eigvals, self.q = torch.linalg.eigh(torch.stack(kernels))  # (L, 2N), (L, 2N, 2N)

        # Directions with (numerically) zero eigenvalue carry no score: make them inert.
        top = eigvals.max(dim=1, keepdim=True).values.clamp(min=0)
        floor = top * 2 * n * torch.finfo(eigvals.dtype).eps
        kept = eigvals > floor
        self.scale = torch.where(kept, eigvals.clamp(min=0).sqrt(), torch.zeros_like(eigvals))
        self.inv_scale = torch.where(kept, 1 / self.scale, torch.zeros_like(eigvals))

        # Scores are u = A β with A = Q Λ^{1/2}; keep A and Aᵀ contiguous for bmm.
        self.a = self.q * self.scale.unsqueeze(1)
        self.at = self.a.transpose(1, 2).contiguous()

    @property
    def ranks(self) -> list[int]:
        """Dimension of each V^l."""
        return [int(k) for k in (self.scale > 0).sum(dim=1)]

    def losses(self, beta: torch.Tensor, f: Contrast, b_decay: float) -> torch.Tensor:
        """Each layer's loss at B(β): mean f + (λ / 2) ‖β‖².

        Args:
            beta: (L, 2N) coordinates.
        Returns:
            (L,) losses.
        """
        u = _apply(self.a, beta)  # (L, 2N) scores
        data = contrast(u[:, : self.n], u[:, self.n :], f).mean(dim=1)
        return data + 0.5 * b_decay * beta.square().sum(dim=1)

    def losses_and_grad(
        self, beta: torch.Tensor, f: Contrast, b_decay: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """`losses` and its gradient in closed form, without autograd (the L-BFGS hot path).

        Args:
            beta: (L, 2N) coordinates.
        Returns:
            (L,) losses and (L, 2N) gradient ∂L^l/∂β^l.
        """
        u = _apply(self.a, beta)
        u_pos, u_neg = u[:, : self.n], u[:, self.n :]
        data = contrast(u_pos, u_neg, f).mean(dim=1)
        g_pos, g_neg = contrast_grad(u_pos, u_neg, f)
        g_u = torch.cat([g_pos, g_neg], dim=1) / self.n
        grad = _apply(self.at, g_u) + b_decay * beta
        return data + 0.5 * b_decay * beta.square().sum(dim=1), grad

    def hessian(self, beta: torch.Tensor, f: Contrast, b_decay: float) -> torch.Tensor:
        """Hessian of each layer's loss in β, (L, 2N, 2N): Aᵀ W A / N + λI with A = Q Λ^{1/2}.

        W is the curvature of f in the scores; it couples u_pos_i and u_neg_i only for PhyLL.
        """
        u = _apply(self.a, beta)
        w_pp, w_nn, w_pn = contrast_curvature(u[:, : self.n], u[:, self.n :], f)
        w = torch.cat([w_pp, w_nn], dim=1)
        hess = torch.bmm(self.at, w.unsqueeze(-1) * self.a)
        if bool(w_pn.any()):
            a_pos, a_neg = self.a[:, : self.n], self.a[:, self.n :]
            cross = torch.bmm(a_pos.transpose(1, 2), w_pn.unsqueeze(-1) * a_neg)
            hess = hess + cross + cross.transpose(1, 2)
        eye = torch.eye(beta.shape[1], dtype=beta.dtype, device=beta.device)
        return hess / self.n + b_decay * eye

    def coordinates(self, bs: Sequence[torch.Tensor]) -> torch.Tensor:
        """β of the orthogonal projection of each B^l onto V^l, (L, 2N)."""
        u = torch.stack([self._atom_scores(layer, b) for layer, b in enumerate(bs)])
        return self.inv_scale * _apply(self.q.transpose(1, 2), u)

    def matrices(self, beta: torch.Tensor) -> list[torch.Tensor]:
        """B(β) of every layer, each (n_b, D_k, D_l)."""
        c = _apply(self.q, self.inv_scale * beta)  # (L, 2N)
        out = []
        for layer, (r, ref) in enumerate(zip(self.rs, self.refs, strict=True)):
            per_b = []
            for h in range(self.n_b):
                mask = self.b_idx == h
                weighted = c[layer, mask, None] * r[self.r_idx[mask]]  # (n_h, D_l)
                per_b.append(ref[self.ref_idx[mask]].T @ weighted)
            out.append(torch.stack(per_b))
        return out

    def _atom_scores(self, layer: int, b: torch.Tensor) -> torch.Tensor:
        """⟨φ_m, B⟩ for every atom of one layer, (2N,)."""
        r, ref = self.rs[layer], self.refs[layer]
        out = torch.empty(2 * self.n, dtype=b.dtype, device=b.device)
        for h in range(self.n_b):
            mask = self.b_idx == h
            projected = r[self.r_idx[mask]] @ b[h].T  # (n_h, D_k)
            out[mask] = (projected * ref[self.ref_idx[mask]]).sum(dim=1)
        return out


def _apply(matrices: torch.Tensor, vectors: torch.Tensor) -> torch.Tensor:
    """Batched matrix-vector product, (L, M, K) x (L, K) -> (L, M).

    bmm rather than einsum: on two CPU threads einsum's matrix-vector path was ~10x slower.
    """
    return torch.bmm(matrices, vectors.unsqueeze(-1)).squeeze(-1)
