"""Autodiff equals the explicit three-factor rule on the first conv layer, for every local rule.

dL/dW_ji = sum over samples and positions of  gamma * (B c)_j * rho'(a_j) * x_i  (paper-spec 4.3,
6.5): gamma is the global factor (f' with its sign), B c the dendritic prediction (spread
uniformly over each pooling window), rho'(a) x the Hebbian term. Everything below is written
out by hand, without autograd; only forward values are computed with torch. The autodiff side
is the full objective (all layers), so this also shows that no other layer's loss reaches
layer 1.
"""

from __future__ import annotations

from typing import cast

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from localssl.config import Clapp2021Rule, ContrastiveRule, ScoreConfig
from localssl.losses.head import ContrastiveHead
from localssl.losses.pooling import pool_flat
from localssl.rules.clapp2021 import Clapp2021Family
from localssl.rules.contrastive import ContrastiveFamily
from localssl.rules.forward_forward import ForwardForwardFamily

from .helpers import LOCAL_RULES, build, views


def f_prime(score: ScoreConfig, u_pos: torch.Tensor, u_neg: torch.Tensor):
    """d loss / d u_pos and d loss / d u_neg of one sample's loss, by hand."""
    if score.f == "hinge":
        m = score.margin or 1.0
        return -((m - u_pos) > 0).double(), ((m + u_neg) > 0).double()
    if score.f == "softhinge":
        m = score.margin or 1.0
        return -torch.sigmoid(m - u_pos), torch.sigmoid(m + u_neg)
    if score.f == "logistic":
        t = score.threshold or 0.0
        return -torch.sigmoid(t - u_pos), torch.sigmoid(u_neg - t)
    if score.f == "linear":
        return -torch.ones_like(u_pos), torch.ones_like(u_neg)
    theta = score.theta or 1.0  # phyll
    s = torch.sigmoid(theta * (u_neg - u_pos))
    return -theta * s, theta * s


def matrix(module: nn.Module, dim: int) -> torch.Tensor:
    """B as an explicit (dim_z, dim_c) matrix."""
    if isinstance(module, nn.Identity):
        return torch.eye(dim, dtype=torch.float64)
    if isinstance(module, nn.Sequential):
        first, second = cast(nn.Linear, module[0]), cast(nn.Linear, module[1])
        return second.weight @ first.weight
    return cast(nn.Linear, module).weight


def hebbian(dr: torch.Tensor, a: torch.Tensor, x: torch.Tensor, kernel: int | None):
    """sum over samples and positions of (error on r, spread over the pool) * rho'(a) * x.

    Args:
        dr: (N, D) error on the pooled representation (gamma times the prediction).
        a: (N, C, H, W) pre-activation of the conv; x: (N, C_in, H, W) its input.
    Returns:
        dL/dW (C, C_in, 3, 3) and dL/db (C,).
    """
    n, channels, height, width = a.shape
    if kernel is None:
        dh = dr[:, :, None, None].expand(n, channels, height, width) / (height * width)
    else:
        grid = dr.view(n, channels, height // kernel, width // kernel)
        dh = grid.repeat_interleave(kernel, 2).repeat_interleave(kernel, 3) / kernel**2
    delta = dh * (a > 0).double()  # rho'(a) of the ReLU
    patches = F.unfold(x, 3, padding=1)  # N, C_in * 9, H * W
    dw = torch.einsum("nop,nkp->ok", delta.flatten(2), patches)
    return dw.view(channels, x.shape[1], 3, 3), delta.sum(dim=(0, 2, 3))


def head_of(family: ContrastiveFamily, layer: int, index: int) -> ContrastiveHead:
    return cast(ContrastiveHead, cast(nn.ModuleList, family.heads[layer])[index])


def contrastive_dr(
    family: ContrastiveFamily, acts: list[torch.Tensor], neg: torch.Tensor
) -> tuple[torch.Tensor, int | None]:
    """Error on layer 1's pooled activity from its own heads, and layer 1's pool kernel."""
    rule: ContrastiveRule = family.rule
    h = acts[0]
    total = torch.zeros(())
    for index, context in enumerate(family.contexts[0]):
        head = head_of(family, 0, index)
        r, rc = pool_flat(h, head.z_kernel), pool_flat(acts[context], head.c_kernel)
        rows, half = r.shape[0], r.shape[0] // 2
        swap = torch.cat([torch.arange(half, rows), torch.arange(half)])
        dr = torch.zeros_like(r)
        if rule.score.f == "infonce":
            proj = matrix(head.predictor, rc.shape[1])
            a, b = r[:half] @ proj.T, rc[half:] @ proj.T
            a_hat, b_hat = a / a.norm(dim=1, keepdim=True), b / b.norm(dim=1, keepdim=True)
            tau = rule.score.temperature or 0.1
            p = torch.softmax(a_hat @ b_hat.T / tau, dim=1)
            d_ahat = (p - torch.eye(half, dtype=p.dtype)) @ b_hat / tau / half
            eye = torch.eye(a.shape[1], dtype=a.dtype)
            projector = eye - a_hat[:, :, None] * a_hat[:, None, :]
            d_a = torch.einsum("nij,nj->ni", projector, d_ahat) / a.norm(dim=1, keepdim=True)
            dr[:half] = d_a @ proj
        else:
            prediction = rc @ matrix(head.predictor, rc.shape[1]).T
            z_pos = r[swap]
            u_pos = (z_pos * prediction).sum(1)
            u_neg = (z_pos[neg] * prediction).sum(1)
            d_pos, d_neg = f_prime(rule.score, u_pos, u_neg)
            dr.index_add_(0, swap, (d_pos / rows)[:, None] * prediction)
            dr.index_add_(0, swap[neg], (d_neg / rows)[:, None] * prediction)
        total = total + dr
    return total, head_of(family, 0, 0).z_kernel


def clapp2021_dr(family: Clapp2021Family, h: torch.Tensor, draw_neg, positive) -> torch.Tensor:
    """Error on layer 1's per-patch pooled activity: prediction path into z, retrodiction path
    (or the symmetric B's transpose) into c, with either-pos-or-neg weights."""
    rule: Clapp2021Rule = family.rule
    rows = family.rows
    r = pool_flat(h, family.kernels[0])
    r = r.view(-1, rows, rows, r.shape[1])
    images = r.shape[0]
    dr = torch.zeros_like(r)

    def weights(mask: torch.Tensor) -> torch.Tensor:
        if not rule.either_pos_or_neg:
            return torch.full((images,), 1.0 / images, dtype=torch.float64)
        return mask.double() / mask.double().sum().clamp(min=1)

    for k in range(1, rule.prediction_steps + 1):
        ahead = k + rule.skip_rows
        c, z = r[:, :-ahead], r[:, ahead:]
        cells = c.shape[1] * c.shape[2]
        dz, dc = torch.zeros_like(z), torch.zeros_like(c)
        for path in range(family.paths):
            m = matrix(family.matrix(0, path, k), r.shape[-1])
            neg, pos_mask = draw_neg[0, path, k - 1], positive[0, path]
            prediction = c @ m.T
            u_pos, u_neg = (z * prediction).sum(-1), (z[neg] * prediction).sum(-1)
            d_pos, d_neg = f_prime(rule.score, u_pos, u_neg)
            w_pos = weights(pos_mask)[:, None, None] / cells / rule.prediction_steps
            w_neg = weights(~pos_mask)[:, None, None] / cells / rule.prediction_steps
            g_pos, g_neg = (w_pos * d_pos)[..., None], (w_neg * d_neg)[..., None]
            if path == 0:  # prediction into z (and into the negative's own encoding)
                dz += g_pos * prediction
                dz.index_add_(0, neg, g_neg * prediction)
            if path == 1 or not rule.asymmetric:  # retrodiction into c
                dc += g_pos * (z @ m) + g_neg * (z[neg] @ m)
        dr[:, ahead:] += dz
        dr[:, :-ahead] += dc
    return dr.view(-1, r.shape[-1])


@pytest.mark.parametrize("name", list(LOCAL_RULES))
def test_autodiff_equals_three_factor_rule(name: str) -> None:
    rule = LOCAL_RULES[name]
    encoder, objective = build(rule)
    encoder.double()
    objective.double()
    x = views(batch=4).double()
    objective.backward(encoder, x, torch.Generator().manual_seed(3))
    conv = cast(nn.Conv2d, cast(nn.Sequential, encoder.layers[0])[0])
    assert conv.weight.grad is not None and conv.bias is not None and conv.bias.grad is not None

    family = objective.family
    draw = family.draw(x, torch.Generator().manual_seed(3))
    with torch.no_grad():
        inputs = family.encoder_input(x)
        a = conv(inputs)
        acts = encoder(inputs)
        if isinstance(family, ForwardForwardFamily):
            kernel = family.kernels[0]
            mixed = 0.5 * (inputs + inputs[draw.negatives])
            a_neg = conv(mixed)
            r_pos, r_neg = pool_flat(acts[0], kernel), pool_flat(torch.relu(a_neg), kernel)
            dim = r_pos.shape[1]
            d_pos, d_neg = f_prime(family.rule.score, r_pos.pow(2).mean(1), r_neg.pow(2).mean(1))
            # B = I / D and c = z: the prediction is the activity itself, 2 r / D.
            dr_pos = (d_pos / len(x))[:, None] * 2 * r_pos / dim
            dr_neg = (d_neg / len(x))[:, None] * 2 * r_neg / dim
            dw_pos, db_pos = hebbian(dr_pos, a, inputs, kernel)
            dw_neg, db_neg = hebbian(dr_neg, a_neg, mixed, kernel)
            dw, db = dw_pos + dw_neg, db_pos + db_neg
        elif isinstance(family, Clapp2021Family):
            dr = clapp2021_dr(family, acts[0], draw.negatives, draw.extra["positive"])
            dw, db = hebbian(dr, a, inputs, family.kernels[0])
        else:
            assert isinstance(family, ContrastiveFamily)
            dr, kernel = contrastive_dr(family, acts, draw.negatives)
            dw, db = hebbian(dr, a, inputs, kernel)

    torch.testing.assert_close(conv.weight.grad, dw, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(conv.bias.grad, db, rtol=1e-5, atol=1e-5)
    assert dw.abs().max() > 1e-8, "a vanishing update would make this comparison empty"


def test_b_update_is_hebbian_in_z_and_c() -> None:
    """dL/dB = sum_i d_i z_i c_i^T for the CLAPP++ hinge: activity times context (spec 4.3)."""
    rule = LOCAL_RULES["clapp-pp-global-pool"]
    encoder, objective = build(rule)
    encoder.double()
    objective.double()
    x = views(batch=4).double()
    objective.backward(encoder, x, torch.Generator().manual_seed(0))
    family = objective.family
    assert isinstance(family, ContrastiveFamily)
    head = head_of(family, 0, 0)
    negatives = objective.family.draw(x, torch.Generator().manual_seed(0)).negatives
    with torch.no_grad():
        r = pool_flat(encoder(x)[0], None)
        rows, half = r.shape[0], r.shape[0] // 2
        z_pos = torch.cat([r[half:], r[:half]])
        weight = cast(nn.Linear, head.predictor).weight
        prediction = r @ weight.T
        u_pos, u_neg = (z_pos * prediction).sum(1), (z_pos[negatives] * prediction).sum(1)
        d_pos, d_neg = f_prime(rule.score, u_pos, u_neg)
        expected = ((d_pos / rows)[:, None] * z_pos).T @ r
        expected += ((d_neg / rows)[:, None] * z_pos[negatives]).T @ r
    torch.testing.assert_close(weight.grad, expected, rtol=1e-6, atol=1e-8)
