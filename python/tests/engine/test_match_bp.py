"""The analysis mode "B trained to match backprop" (paper-spec 5.3)."""

from __future__ import annotations

import math

import torch

from .helpers import build, contrastive, views

RULE = contrastive(context="top", training="match-bp")
PLAIN = contrastive(context="top")


def test_flagged_as_analysis_mode() -> None:
    assert build(RULE)[1].analysis_mode
    assert not build(PLAIN)[1].analysis_mode


def test_encoder_and_top_b_keep_the_local_update() -> None:
    """Only the lower B^l change what they learn from; the encoder and B^L learn as CLAPP++DFB."""
    x = views()
    enc_m, obj_m = build(RULE)
    stats = obj_m.backward(enc_m, x, torch.Generator().manual_seed(1))
    enc_p, obj_p = build(PLAIN)
    obj_p.backward(enc_p, x, torch.Generator().manual_seed(1))

    for (name, p_m), p_p in zip(enc_m.named_parameters(), enc_p.parameters(), strict=True):
        torch.testing.assert_close(p_m.grad, p_p.grad, msg=name)
    top = obj_m.num_layers - 1
    for p_m, p_p in zip(obj_m.family.head_parameters(top), obj_p.family.head_parameters(top),
                        strict=True):  # fmt: skip
        torch.testing.assert_close(p_m.grad, p_p.grad)
    lower_m, lower_p = obj_m.family.head_parameters(0), obj_p.family.head_parameters(0)
    grad_m, grad_p = lower_m[0].grad, lower_p[0].grad
    assert grad_m is not None and grad_p is not None
    assert not torch.allclose(grad_m, grad_p)

    assert stats.match_errors is not None
    errors = [float(e) for e in stats.match_errors]
    assert all(math.isfinite(e) and e >= 0 for e in errors[:-1]) and math.isnan(errors[-1])
    assert "match_errors" in stats.log_fields()


def test_training_b_lowers_the_mismatch() -> None:
    """With the encoder frozen, steps on the lower B^l alone bring E^l down."""
    x = views(batch=8)
    encoder, objective = build(RULE)
    lower = [p for layer in range(objective.num_layers - 1)
             for p in objective.family.head_parameters(layer)]  # fmt: skip
    optimizer = torch.optim.Adam(lower, lr=3e-3)
    history = []
    for _ in range(25):
        optimizer.zero_grad(set_to_none=True)
        stats = objective.backward(encoder, x, torch.Generator().manual_seed(2))
        assert stats.match_errors is not None
        history.append(torch.stack(stats.match_errors[:-1]).sum().item())
        optimizer.step()
    assert history[-1] < 0.8 * history[0], history
