"""Alignment of local with backprop updates: both passes see identical inputs and draws."""

from __future__ import annotations

import pytest
import torch

from localssl.align import cosine, layer_updates
from localssl.config import RuleConfig

from .helpers import LOCAL_RULES, build, contrastive, views


def test_the_top_layer_is_identical_by_construction() -> None:
    encoder, objective = build(contrastive())
    x = views()
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    local, bp = layer_updates(objective, encoder, x, draw)
    assert len(local) == len(bp) == 6
    top_local = local[-1]
    assert top_local is not None
    assert abs(cosine(top_local, bp[-1]) - 1) < 1e-9
    assert torch.allclose(top_local, bp[-1])


def test_different_negatives_would_break_the_top_layer_equality() -> None:
    # The equality above holds only because both passes share one draw.
    encoder, objective = build(contrastive())
    x = views()
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    other = objective.family.draw(x, torch.Generator().manual_seed(0))
    other.negatives = torch.roll(draw.negatives, 2)
    local, _ = layer_updates(objective, encoder, x, draw)
    _, bp = layer_updates(objective, encoder, x, other)
    assert local[-1] is not None
    assert cosine(local[-1], bp[-1]) < 0.9999


def test_updates_leave_parameter_gradients_untouched() -> None:
    encoder, objective = build(contrastive(context="top"))
    x = views()
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    layer_updates(objective, encoder, x, draw)
    assert all(p.grad is None for p in encoder.parameters())


@pytest.mark.parametrize("name", sorted(LOCAL_RULES))
def test_every_local_rule_gives_both_updates_per_layer(name: str) -> None:
    rule: RuleConfig = LOCAL_RULES[name]
    encoder, objective = build(rule)
    x = views()
    draw = objective.family.draw(x, torch.Generator().manual_seed(0))
    local, bp = layer_updates(objective, encoder, x, draw)
    weights = [layer[0].weight for layer in encoder.layers]  # type: ignore[index]
    assert [g.shape for g in bp] == [w.shape for w in weights]
    assert all(torch.isfinite(g).all() for g in bp)
    for grad, weight in zip(local, weights, strict=True):
        assert grad is None or (grad.shape == weight.shape and torch.isfinite(grad).all())
    top = local[-1]
    assert top is not None
    if top.norm() > 0:
        assert abs(cosine(top, bp[-1]) - 1) < 1e-6
