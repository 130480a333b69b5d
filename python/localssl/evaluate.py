"""Evaluations beside the linear probe of all layers (probe.py): one linear probe per layer, and a
weighted k-NN on the same pooled features. Both reuse the probe's features, so they cost one
extra forward pass of the train split (k-NN) and a few small linear layers (per layer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from localssl.checkpoint import write_json_atomic
from localssl.knn import knn_accuracy
from localssl.losses.pooling import pooled_dim


def layer_slices(shapes: list[tuple[int, int, int]], pools: list[int]) -> list[slice]:
    """Where each layer's pooled features sit in the concatenated probe features.

    Args:
        shapes: (C, H, W) per layer.
        pools: average-pool kernel per layer.
    """
    bounds, start = [], 0
    for shape, kernel in zip(shapes, pools, strict=True):
        dim = pooled_dim(shape, kernel)
        bounds.append(slice(start, start + dim))
        start += dim
    return bounds


class LayerProbes:
    """One linear classifier per layer, trained on the same batches as the main probe.

    Args:
        slices: per layer, its columns of the (N, D) concatenated features.
        lr, weight_decay: Adam settings, the main probe's.
    """

    def __init__(
        self,
        slices: list[slice],
        num_classes: int,
        lr: float,
        weight_decay: float,
        device: torch.device,
    ) -> None:
        self.slices = slices
        self.heads = nn.ModuleList(nn.Linear(s.stop - s.start, num_classes) for s in slices).to(
            device
        )
        # The heads share no parameter, so one Adam over all of them is the same as one each.
        self.optimizer = torch.optim.Adam(self.heads.parameters(), lr=lr, weight_decay=weight_decay)
        self.history: list[list[float]] = [[] for _ in slices]

    def step(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """One Adam step of every head on a batch: features (B, D), labels (B,)."""
        loss = sum(
            (F.cross_entropy(head(features[:, s]), labels)
             for head, s in zip(self.heads, self.slices, strict=True)),
            torch.zeros((), device=features.device),
        )  # fmt: skip
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    @torch.no_grad()
    def record(self, features: torch.Tensor, labels: torch.Tensor) -> list[float]:
        """Top-1 % of every head on (M, D) features; appended to `history`."""
        top1 = [
            (head(features[:, s]).argmax(1) == labels).float().mean().item() * 100
            for head, s in zip(self.heads, self.slices, strict=True)
        ]
        for layer, value in enumerate(top1):
            self.history[layer].append(value)
        return top1

    def result(self, checkpoint: str, pools: list[int], protocol: dict[str, Any]) -> dict[str, Any]:
        """The probe-layers.json document."""
        layers = []
        for layer, (history, s) in enumerate(zip(self.history, self.slices, strict=True)):
            best = max(range(len(history)), key=history.__getitem__)
            layers.append({"layer": layer + 1, "feature_dim": s.stop - s.start,
                           "pool": pools[layer], "test_top1": history[-1],
                           "best_test_top1": history[best], "best_epoch": best + 1})  # fmt: skip
        return {
            "checkpoint": checkpoint,
            "epochs": len(self.history[0]),
            "layers": layers,
            "protocol": {**protocol, "layers": "each layer alone, one linear probe per layer"},
        }


def knn_result(
    bank: torch.Tensor,
    bank_labels: torch.Tensor,
    test: torch.Tensor,
    test_labels: torch.Tensor,
    ks: tuple[int, ...],
    temperature: float,
    num_classes: int,
    checkpoint: str,
    layers: list[int],
) -> dict[str, Any]:
    """Weighted k-NN of the test features against the train bank, as the knn.json document.

    Args:
        bank: (N, D) un-augmented train features; bank_labels (N,).
        test: (M, D) test features; test_labels (M,).
    """
    accuracy = knn_accuracy(bank, bank_labels, test, test_labels, ks, temperature, num_classes)
    return {
        "checkpoint": checkpoint,
        "feature_dim": bank.shape[1],
        "bank_images": bank.shape[0],
        "test_images": test.shape[0],
        "temperature": temperature,
        "results": [
            {"k": k, "k_used": min(k, bank.shape[0]), "test_top1": accuracy[k]} for k in ks
        ],
        "protocol": {
            "layers": layers,
            "features": "the linear probe's pooled features, concatenated",
            "similarity": "cosine",
            "weighting": f"exp(similarity / {temperature})",
            "bank": "probe train split, un-augmented",
            "augmentation": "none",
            "classifier": "weighted k-NN vote, nothing trained",
        },
    }


def write_result(run_dir: Path, stem: str, checkpoint: str, result: dict[str, Any]) -> None:
    """`<stem>.json`, or `<stem>-random.json` for the random-init encoder."""
    write_json_atomic(run_dir / f"{stem}{'-random' if checkpoint == 'none' else ''}.json", result)
