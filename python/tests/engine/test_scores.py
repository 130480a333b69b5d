"""Every score function f against values worked out by hand (paper-spec 2.2, 4.2)."""

from __future__ import annotations

import math

import pytest
import torch

from localssl.config import ScoreConfig
from localssl.losses.scores import infonce_loss, pair_loss, pair_terms


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))


U_POS = torch.tensor([2.0, 0.5, -1.0])
U_NEG = torch.tensor([-2.0, 0.25, 1.0])


def test_hinge_by_hand() -> None:
    # max(0, 1 - u_pos) + max(0, 1 + u_neg): (0 + 0), (0.5 + 1.25), (2 + 2).
    loss = pair_loss(ScoreConfig("hinge", margin=1.0), U_POS, U_NEG)
    assert loss.tolist() == pytest.approx([0.0, 1.75, 4.0])


def test_hinge_margin_scales_the_kink() -> None:
    # margin 0.5: max(0, 0.5 - u_pos) + max(0, 0.5 + u_neg): (0 + 0), (0 + 0.75), (1.5 + 1.5).
    loss = pair_loss(ScoreConfig("hinge", margin=0.5), U_POS, U_NEG)
    assert loss.tolist() == pytest.approx([0.0, 0.75, 3.0])


@pytest.mark.parametrize(
    ("u_pos", "u_neg", "grad_pos", "grad_neg"),
    [
        (1.0, -1.0, 0.0, 0.0),  # both exactly at the margin: inactive (gamma = 0)
        (1.0 - 1e-3, -1.0 + 1e-3, -1.0, 1.0),  # just inside: active
        (1.0 + 1e-3, -1.0 - 1e-3, 0.0, 0.0),  # just outside: inactive
    ],
)
def test_hinge_subgradient_at_the_margin(
    u_pos: float, u_neg: float, grad_pos: float, grad_neg: float
) -> None:
    """Convention: at the kink the term counts as inactive, gradient 0 (torch's relu'(0) = 0)."""
    up = torch.tensor([u_pos], requires_grad=True)
    un = torch.tensor([u_neg], requires_grad=True)
    loss = pair_loss(ScoreConfig("hinge", margin=1.0), up, un).sum()
    loss.backward()
    assert up.grad is not None and un.grad is not None
    assert up.grad.item() == grad_pos
    assert un.grad.item() == grad_neg
    if u_pos == 1.0:
        assert loss.item() == 0.0


def test_softhinge_by_hand() -> None:
    loss = pair_loss(ScoreConfig("softhinge", margin=1.0), U_POS, U_NEG)
    expected = [softplus(1 - p) + softplus(1 + n) for p, n in zip(U_POS.tolist(), U_NEG.tolist(),
                                                                     strict=True)]  # fmt: skip
    assert loss.tolist() == pytest.approx(expected)
    # softplus(1 - u) = -log sigmoid(u - 1), the code's form (paper-spec 4.2).
    assert softplus(1 - 0.5) == pytest.approx(-math.log(1 / (1 + math.exp(-(0.5 - 1)))))


def test_logistic_threshold_is_forward_forward() -> None:
    """softplus(theta - u_pos) + softplus(u_neg - theta): Hinton's FF loss (paper-spec 4.8)."""
    score = ScoreConfig("logistic", threshold=2.0)
    positive, negative = pair_terms(score, torch.tensor([3.0]), torch.tensor([0.5]))
    assert positive.item() == pytest.approx(softplus(2.0 - 3.0))
    assert negative.item() == pytest.approx(softplus(0.5 - 2.0))
    # Not softplus(theta + u_neg), which the naive f(u) = softplus(theta - u) on -u_neg gives.
    assert negative.item() != pytest.approx(softplus(2.0 + 0.5))


def test_linear_by_hand() -> None:
    loss = pair_loss(ScoreConfig("linear"), U_POS, U_NEG)
    assert loss.tolist() == pytest.approx([-4.0, -0.25, 2.0])


def test_phyll_by_hand() -> None:
    # log(1 + exp(theta (u_neg - u_pos))), theta = 2: u_neg - u_pos = -4, -0.25, 2.
    loss = pair_loss(ScoreConfig("phyll", theta=2.0), U_POS, U_NEG)
    assert loss.tolist() == pytest.approx([softplus(-8.0), softplus(-0.5), softplus(4.0)])


def test_infonce_by_hand() -> None:
    """Two anchors, two candidates at right angles: cos = identity, logits = I / tau."""
    anchors = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    candidates = torch.tensor([[1.0, 0.0], [0.0, 5.0]])
    loss = infonce_loss(anchors, candidates, temperature=0.5)
    # -log(e^2 / (e^2 + e^0)) for both anchors.
    expected = -math.log(math.exp(2.0) / (math.exp(2.0) + 1.0))
    assert loss.tolist() == pytest.approx([expected, expected])


def test_infonce_temperature_sharpens() -> None:
    anchors = torch.tensor([[1.0, 0.2], [0.1, 1.0]])
    cold = infonce_loss(anchors, anchors, 0.05).mean()
    warm = infonce_loss(anchors, anchors, 1.0).mean()
    assert cold < warm


def test_type_1_scores_have_no_separate_terms() -> None:
    with pytest.raises(ValueError, match="no separate positive and negative terms"):
        pair_terms(ScoreConfig("linear"), U_POS, U_NEG)
