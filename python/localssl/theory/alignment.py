"""Per-layer alignment records: cosines over batches, their summary, and kept gradients.

The summary of one layer is the plain dict written to result.json:

    {"layer": l (1-based),
     "weight_cos": {"mean", "ci95", "values": [per batch] (optional)},
     "error_cos":  {"mean", "ci95", "values": [per batch] (optional)},
     "b_residual": {"max", "median"} or null}

`ci95` is the half-width 1.96·std/√n of the 95 % interval.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from localssl.theory.gradients import BatchGradients, cosine, mean_ci


@dataclass
class Alignment:
    """Cosines between local and BP gradients of one variant, batch by batch.

    Attributes:
        weight_cos: [layer][batch] cosine of ∂L^l/∂W^l and ∂L^L/∂W^l.
        error_cos: [layer][batch] cosine of ∂L^l/∂z^l and ∂L^L/∂z^l.
        residuals: [layer][batch] stationarity residual of B^l; NaN where B was not fitted.
        kept: gradients of the first batches, for the safetensors file.
    """

    n_layers: int
    keep: int = 0
    weight_cos: list[list[float]] = field(default_factory=list)
    error_cos: list[list[float]] = field(default_factory=list)
    residuals: list[list[float]] = field(default_factory=list)
    kept: list[BatchGradients] = field(default_factory=list)

    def __post_init__(self) -> None:
        for table in (self.weight_cos, self.error_cos, self.residuals):
            if not table:
                table.extend([] for _ in range(self.n_layers))

    @property
    def n_batches(self) -> int:
        """Batches recorded so far."""
        return len(self.weight_cos[0]) if self.weight_cos else 0

    def add(self, grads: BatchGradients, residuals: Sequence[float] | None = None) -> None:
        """Record one batch; its gradients are kept while fewer than `keep` are."""
        for i in range(self.n_layers):
            self.weight_cos[i].append(cosine(grads.local_w[i], grads.bp_w[i]))
            self.error_cos[i].append(cosine(grads.local_err[i], grads.bp_err[i]))
            self.residuals[i].append(math.nan if residuals is None else float(residuals[i]))
        if len(self.kept) < self.keep:
            self.kept.append(grads)

    def layer_means(self) -> list[float]:
        """Mean weight-gradient cosine of each layer."""
        return [mean_ci(values)[0] for values in self.weight_cos]

    def summary(self, values: bool = True) -> list[dict[str, Any]]:
        """One dict per layer, as written to result.json; `values=False` omits per-batch lists."""
        out = []
        for i in range(self.n_layers):
            finite = [r for r in self.residuals[i] if math.isfinite(r)]
            residual = {"max": max(finite), "median": statistics.median(finite)} if finite else None
            out.append(
                {
                    "layer": i + 1,
                    "weight_cos": _stats(self.weight_cos[i], values),
                    "error_cos": _stats(self.error_cos[i], values),
                    "b_residual": residual,
                }
            )
        return out

    def tensors(self, prefix: str) -> dict[str, torch.Tensor]:
        """Kept weight gradients as float32, named `<prefix>/layer<l>/batch<b>/{local,bp}`.

        Layers are numbered from 1, batches from 0.
        """
        out = {}
        for b, grads in enumerate(self.kept):
            for i in range(self.n_layers):
                name = f"{prefix}/layer{i + 1}/batch{b}"
                out[f"{name}/local"] = grads.local_w[i].float().contiguous()
                out[f"{name}/bp"] = grads.bp_w[i].float().contiguous()
        return out


def _stats(values: Sequence[float], with_values: bool) -> dict[str, Any]:
    mean, half = mean_ci(values)
    out: dict[str, Any] = {"mean": mean, "ci95": half}
    if with_values:
        out["values"] = list(values)
    return out
