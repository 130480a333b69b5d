"""Weighted k-NN on hand-made features."""

from __future__ import annotations

import math

import pytest
import torch

from localssl.knn import knn_accuracy, knn_predict


def _unit(angle_deg: float) -> list[float]:
    angle = math.radians(angle_deg)
    return [math.cos(angle), math.sin(angle)]


def test_each_query_takes_the_class_of_its_cluster() -> None:
    bank = torch.tensor([_unit(0), _unit(5), _unit(120), _unit(125), _unit(240), _unit(245)])
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    queries = torch.tensor([_unit(2), _unit(118), _unit(250)]) * 3  # lengths do not matter
    predicted = knn_predict(bank, labels, queries, (1, 2), 0.07, 3)
    assert predicted[1].tolist() == [0, 1, 2]
    assert predicted[2].tolist() == [0, 1, 2]


def test_votes_are_weighted_by_exp_similarity_over_temperature() -> None:
    # One neighbour of class 0 at cosine 1, two of class 1 at cosine 0.5.
    bank = torch.tensor([_unit(0), _unit(60), _unit(-60)])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([_unit(0)])
    # tau 0.07: exp(1 / 0.07) = 1.6e6 outweighs 2 exp(0.5 / 0.07) = 2.5e3.
    assert knn_predict(bank, labels, query, (3,), 0.07, 2)[3].tolist() == [0]
    # tau 10: exp(0.1) = 1.11 loses to 2 exp(0.05) = 2.10, so the vote is almost a plain count.
    assert knn_predict(bank, labels, query, (3,), 10.0, 2)[3].tolist() == [1]


def test_k_larger_than_the_bank_uses_the_whole_bank() -> None:
    bank = torch.tensor([_unit(0), _unit(90), _unit(100)])
    labels = torch.tensor([0, 1, 1])
    query = torch.tensor([_unit(10)])
    predicted = knn_predict(bank, labels, query, (1, 200), 10.0, 2)
    assert predicted[1].tolist() == [0]
    assert predicted[200].tolist() == [1]


def test_accuracy_in_percent_and_chunking_changes_nothing() -> None:
    gen = torch.Generator().manual_seed(0)
    centres = torch.randn(4, 16, generator=gen)
    bank_labels = torch.arange(40) % 4
    bank = centres[bank_labels] + 0.3 * torch.randn(40, 16, generator=gen)
    query_labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    queries = centres[query_labels] + 0.3 * torch.randn(8, 16, generator=gen)
    accuracy = knn_accuracy(bank, bank_labels, queries, query_labels, (20, 200), 0.07, 4)
    assert accuracy == {20: 100.0, 200: 100.0}
    whole = knn_predict(bank, bank_labels, queries, (5,), 0.07, 4, chunk=1024)[5]
    chunked = knn_predict(bank, bank_labels, queries, (5,), 0.07, 4, chunk=3)[5]
    assert torch.equal(whole, chunked)
    wrong = knn_accuracy(bank, bank_labels, queries, (query_labels + 1) % 4, (5,), 0.07, 4)
    assert wrong == {5: 0.0}


@pytest.mark.parametrize(
    ("bank", "labels", "queries", "message"),
    [
        (torch.zeros(4, 3), torch.zeros(4, dtype=torch.long), torch.zeros(2, 5), "must be"),
        (torch.zeros(4, 3), torch.zeros(3, dtype=torch.long), torch.zeros(2, 3), "bank_labels"),
    ],
)
def test_shape_mismatches_are_named(
    bank: torch.Tensor, labels: torch.Tensor, queries: torch.Tensor, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        knn_predict(bank, labels, queries, (1,), 0.07, 2)
