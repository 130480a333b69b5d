"""Weighted k-nearest-neighbour classification of frozen features (the InstDisc / DINO protocol).

Every test sample takes the k training samples of highest cosine similarity; each votes for its
class with weight exp(similarity / temperature); the class with the largest total wins. Unlike the
linear probe nothing is trained, so the number reflects the geometry of the features alone.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def knn_predict(
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    queries: torch.Tensor,
    ks: tuple[int, ...],
    temperature: float,
    num_classes: int,
    chunk: int = 1024,
) -> dict[int, torch.Tensor]:
    """Predicted classes of `queries` for each k in `ks`.

    Args:
        bank: (N, D) features of the labeled training samples.
        bank_labels: (N,) int64 in 0..num_classes-1.
        queries: (M, D) features to classify.
        ks: neighbour counts; each is clamped to N.
        temperature: tau of the exp(similarity / tau) vote weights.
        chunk: queries per similarity block, bounding memory at chunk x N.
    Returns:
        {k: (M,) int64 predictions}, keyed by the requested k (before clamping).
    """
    if bank.dim() != 2 or queries.dim() != 2 or bank.shape[1] != queries.shape[1]:
        raise ValueError(f"bank {tuple(bank.shape)} and queries {tuple(queries.shape)} must be "
                         "(N, D) and (M, D)")  # fmt: skip
    if bank_labels.shape != (bank.shape[0],):
        raise ValueError(f"bank_labels {tuple(bank_labels.shape)}, expected ({bank.shape[0]},)")
    if temperature <= 0 or not ks or min(ks) < 1:
        raise ValueError(f"need temperature > 0 and every k >= 1, got {temperature}, {ks}")
    bank = F.normalize(bank.float(), dim=1)
    largest = min(max(ks), bank.shape[0])
    out: dict[int, list[torch.Tensor]] = {k: [] for k in ks}
    for start in range(0, queries.shape[0], chunk):
        q = F.normalize(queries[start : start + chunk].float(), dim=1)
        sims, idx = (q @ bank.T).topk(largest, dim=1)  # (m, largest), sorted, descending
        weights = (sims / temperature).exp()
        votes = F.one_hot(bank_labels[idx], num_classes).float()  # (m, largest, classes)
        for k in ks:
            kk = min(k, largest)
            scores = (votes[:, :kk] * weights[:, :kk, None]).sum(1)
            out[k].append(scores.argmax(1))
    return {k: torch.cat(parts) for k, parts in out.items()}


def knn_accuracy(
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    queries: torch.Tensor,
    query_labels: torch.Tensor,
    ks: tuple[int, ...],
    temperature: float,
    num_classes: int,
) -> dict[int, float]:
    """Top-1 accuracy in % of `knn_predict` for each k; shapes as there, query_labels (M,)."""
    predictions = knn_predict(bank, bank_labels, queries, ks, temperature, num_classes)
    return {
        k: (pred == query_labels).float().mean().item() * 100 for k, pred in predictions.items()
    }
