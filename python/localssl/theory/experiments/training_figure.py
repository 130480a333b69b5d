"""Figure 3b: gradient alignment while a ReLU MLP learns with local losses (spec 11.2, 5.3).

A 6 x 512 ReLU MLP with bias and default init learns from MNIST patch pairs with the local
losses (softplus f, λ = 0.01), Adam lr 5e-5, batch 32, cosine annealing to 1e-5. B is trained
too, not held at its optimum. Before training and after every epoch, the cosine between the
local and BP weight updates (BP from the top layer's loss with its current B^L) is measured
on test batches. Variants, as in the official scripts:

- same_layer: same-layer context;
- dfb: direct feedback from the top layer;
- dfb_matched_b: DFB, with each B^l (l < L) trained to make the local error signal match BP,
  minimising ‖∂L^L/∂z^l − ∂L^l/∂z^l‖² / ‖∂L^L/∂z^l‖²
  ("theoretical optimal update");
- dfb_random_b: DFB, with B^l (l < L) frozen at their random draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from localssl.theory.alignment import Alignment
from localssl.theory.experiments.common import check_scale, save_gradients
from localssl.theory.gradients import batch_gradients, mean_ci
from localssl.theory.loss import (
    LossSpec,
    direct_feedback,
    layer_losses,
    random_b,
    same_layer,
    top_loss,
)
from localssl.theory.models import TheoryMLP
from localssl.theory.patches import PATCH, default_mnist_root, load_mnist_images, patch_pairs
from localssl.theory.progress import Events, NullEvents

WIDTHS = (512,) * 6
B_DECAY = 0.01
LR = 5e-5
LR_MIN = 1e-5
STEP_EVENT_EVERY = 200


@dataclass(frozen=True)
class Fig3bSizes:
    """Sizes of the Figure 3b run.

    Attributes:
        epochs: training epochs (alignment is measured before and after each).
        n_train: leading training images used; None for all 60 000.
        n_test_batches: test batches per alignment measurement; None for all (312).
        batch_size: images per batch.
        keep: test batches whose final gradients go to the safetensors file.
    """

    epochs: int
    n_train: int | None
    n_test_batches: int | None
    batch_size: int = 32
    keep: int = 2


FIG3B_SIZES = {
    # 4 kept batches of the 512-wide net are ~90 MB; the file holds a sample, not all 312.
    "paper": Fig3bSizes(epochs=20, n_train=None, n_test_batches=None, keep=4),
    "smoke": Fig3bSizes(epochs=1, n_train=64, n_test_batches=1, keep=1),
}

VARIANTS = {
    "same_layer": ("Local SSL, same-layer context", "same", "trained"),
    "dfb": ("Local SSL, DFB", "dfb", "trained"),
    "dfb_matched_b": ("Local SSL, theoretical optimal update (B matched to BP)", "dfb", "matched"),
    "dfb_random_b": ("Local SSL, random fixed feedback", "dfb", "frozen"),
}


def matched_b_grads(
    net: TheoryMLP, x: torch.Tensor, bs: list[torch.Tensor], spec: LossSpec
) -> list[torch.Tensor]:
    """Gradient, for each B^l with l < L, of ‖δ_bp^l − δ_local^l(B^l)‖² / ‖δ_bp^l‖².

    δ_bp^l = ∂L^L/∂z^l is fixed; δ_local^l = ∂L^l/∂z^l is differentiated through B^l.
    """
    acts = net(x, blocked=False)
    ideal = torch.autograd.grad(top_loss(acts, bs[-1], spec), acts[:-1])
    leaves = [a.detach().requires_grad_(True) for a in acts]
    losses = layer_losses(leaves, bs, spec)
    grads = []
    for i, target in enumerate(ideal):
        (local,) = torch.autograd.grad(losses[i], leaves[i], create_graph=True)
        mismatch = (target - local).square().sum() / target.square().sum()
        grads.append(torch.autograd.grad(mismatch, bs[i])[0])
    return grads


def _measure(
    net: TheoryMLP, test: list[torch.Tensor], bs: list[torch.Tensor], spec: LossSpec, keep: int
) -> Alignment:
    alignment = Alignment(spec.n_layers, keep)
    for x in test:
        alignment.add(batch_gradients(net, x, [b.detach() for b in bs], spec))
    return alignment


def train_variant(
    name: str,
    sizes: Fig3bSizes,
    seed: int,
    train_images: torch.Tensor,
    test: list[torch.Tensor],
    events: Events,
) -> tuple[dict[str, Any], Alignment]:
    """Train one variant and measure its alignment after every epoch.

    Returns:
        The result entry and the final alignment (with kept gradients).
    """
    label, context, b_rule = VARIANTS[name]
    n = len(WIDTHS)
    fb_idx = same_layer(n) if context == "same" else direct_feedback(n)
    spec = LossSpec("logsig", B_DECAY, fb_idx)
    generator = torch.Generator().manual_seed(seed)
    net = TheoryMLP(
        PATCH * PATCH, WIDTHS, relu=True, bias=True, init="default", generator=generator
    )
    shapes = [(2, WIDTHS[k], w) for k, w in zip(fb_idx, WIDTHS, strict=True)]
    bs = random_b(shapes, generator)
    for i, b in enumerate(bs):
        b.requires_grad_(b_rule != "frozen" or i == n - 1)
    params = [*net.parameters(), *(b for b in bs if b.requires_grad)]
    optimizer = torch.optim.Adam(params, lr=LR)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=max(sizes.epochs, 1), eta_min=LR_MIN
    )
    order = torch.Generator().manual_seed(seed + 1)
    epochs: list[dict[str, Any]] = []
    start = time.perf_counter()

    alignment = _measure(net, test, bs, spec, 0)
    epochs.append({"epoch": 0, "train_loss": None, "layers": alignment.summary(values=False)})
    steps_per_epoch = train_images.shape[0] // sizes.batch_size
    for epoch in range(1, sizes.epochs + 1):
        perm = torch.randperm(train_images.shape[0], generator=order)
        totals = torch.zeros(n)
        for step in range(steps_per_epoch):
            index = perm[step * sizes.batch_size : (step + 1) * sizes.batch_size]
            x = patch_pairs(train_images[index])

            # Local losses: each layer's W, and B where it learns from its own loss.
            optimizer.zero_grad()
            losses = torch.stack(layer_losses(net(x, blocked=True), bs, spec))
            losses.sum().backward()
            if b_rule == "matched":
                for b, g in zip(bs[:-1], matched_b_grads(net, x, bs, spec), strict=True):
                    b.grad = g
            optimizer.step()
            totals += losses.detach()
            if (step + 1) % STEP_EVENT_EVERY == 0:
                events.emit("theory_step", variant=name, epoch=epoch, step=step + 1,
                            steps=steps_per_epoch)  # fmt: skip
        schedule.step()

        final = epoch == sizes.epochs
        alignment = _measure(net, test, bs, spec, sizes.keep if final else 0)
        train_loss = (totals / max(steps_per_epoch, 1)).tolist()
        epochs.append(
            {"epoch": epoch, "train_loss": train_loss, "layers": alignment.summary(values=final)}
        )
        events.emit("theory_epoch", variant=name, epoch=epoch, epochs=sizes.epochs,
                    train_loss=train_loss, weight_cos=alignment.layer_means())  # fmt: skip

    entry = {
        "label": label,
        "settings": {
            "f": spec.f,
            "b_decay": spec.b_decay,
            "fb_idx": [k + 1 for k in fb_idx],
            "b_rule": b_rule,
            "lr": LR,
            "lr_min": LR_MIN,
        },
        "n_batches": alignment.n_batches,
        "layers": epochs[-1]["layers"],
        "epochs": epochs,
        "seconds": {"total": time.perf_counter() - start},
    }
    return entry, alignment


def fig3b(
    scale: str = "paper",
    seed: int = 0,
    events: Events | None = None,
    data_root: str | Path | None = None,
    gradients_path: str | Path | None = None,
) -> dict[str, Any]:
    """Figure 3b: alignment over training for the four variants.

    Returns:
        {"experiment", "scale", "seed", "sizes", "variants", "seconds"}; each variant has
        "layers" (the last measurement, with per-batch values) and "epochs" (every
        measurement, epoch 0 being before training, without per-batch values).
    """
    check_scale(scale)
    events = events or NullEvents()
    sizes = FIG3B_SIZES[scale]
    start = time.perf_counter()
    root = data_root or default_mnist_root()
    train_images, _ = load_mnist_images(root, "train", sizes.n_train)
    test_images, _ = load_mnist_images(root, "test")
    n_test = test_images.shape[0] // sizes.batch_size
    if sizes.n_test_batches is not None:
        n_test = min(n_test, sizes.n_test_batches)
    test = [
        patch_pairs(test_images[i * sizes.batch_size : (i + 1) * sizes.batch_size])
        for i in range(n_test)
    ]

    variants: dict[str, Any] = {}
    tensors: dict[str, torch.Tensor] = {}
    for name in VARIANTS:
        events.emit("theory_variant", experiment="fig3b", variant=name, status="start")
        entry, alignment = train_variant(name, sizes, seed, train_images, test, events)
        variants[name] = entry
        tensors.update(alignment.tensors(name))
        events.emit("theory_variant", experiment="fig3b", variant=name, status="done",
                    weight_cos=[mean_ci(v)[0] for v in alignment.weight_cos],
                    seconds=entry["seconds"]["total"])  # fmt: skip
    save_gradients(gradients_path, tensors)
    return {
        "experiment": "fig3b",
        "scale": scale,
        "seed": seed,
        "sizes": {
            "epochs": sizes.epochs,
            "n_train": train_images.shape[0],
            "n_test_batches": n_test,
            "batch_size": sizes.batch_size,
            "kept_batches": sizes.keep,
        },
        "variants": variants,
        "seconds": time.perf_counter() - start,
    }
