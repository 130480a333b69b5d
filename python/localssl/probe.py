"""Linear probe on the frozen encoder (paper-spec 10): every layer average-pooled with its pool
size, concatenated, one linear layer trained with Adam; top-1 on the held-out split."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from localssl.build import build_encoder
from localssl.checkpoint import load_checkpoint, resolve_checkpoint, write_json_atomic
from localssl.config import Config
from localssl.data.augment import eval_view, normalize, random_resized_crop
from localssl.data.sources import load_images, source
from localssl.device import choose_runtime, seed_everything
from localssl.evaluate import LayerProbes, knn_result, layer_slices, write_result
from localssl.events import EventChannel
from localssl.losses.head import pool_flat
from localssl.models.vgg import VGGEncoder
from localssl.stop import StopFlag
from localssl.train import data_root

log = logging.getLogger(__name__)

# The pooled grid side per layer that the paper's probe uses on every dataset (paper-spec 7.1).
PROBE_GRID = (8, 4, 4, 4, 2, 2)


def probe_pools(config: Config, shapes: list[tuple[int, int, int]]) -> list[int]:
    """Pool kernels for the probe features: the config's, else the paper's grid."""
    if config.probe.pools is not None:
        pools = list(config.probe.pools)
    else:
        pools = [max(1, shape[1] // grid) for shape, grid in zip(shapes, PROBE_GRID, strict=False)]
    for layer, (kernel, shape) in enumerate(zip(pools, shapes, strict=True)):
        if kernel > shape[1]:
            raise ValueError(f"probe.pools.{layer}: kernel {kernel} is larger than layer "
                             f"{layer + 1}'s {shape[1]}x{shape[2]} map")  # fmt: skip
    return pools


class FeatureMap(nn.Module):
    """Frozen encoder -> concatenated pooled features of every layer, (N, D)."""

    def __init__(self, encoder: VGGEncoder, pools: list[int]) -> None:
        super().__init__()
        self.encoder = encoder.eval().requires_grad_(False)
        self.pools = pools

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs = self.encoder(x)
        return torch.cat([pool_flat(h, k) for h, k in zip(outputs, self.pools, strict=True)], 1)


def _features(features: FeatureMap, images: torch.Tensor, prepare, chunk: int = 256):
    return torch.cat(
        [features(prepare(images[i : i + chunk])) for i in range(0, len(images), chunk)]
    )


def run_probe(
    config: Config, run_dir: Path, checkpoint: str, events: EventChannel, stop: StopFlag
) -> dict[str, Any]:
    """Probe the encoder of `run_dir` at `checkpoint` ('latest', an epoch, or 'none' for the
    random-init encoder of the same seed). Writes probe.json (probe-random.json for 'none')."""
    seed_everything(config.seed)
    runtime = choose_runtime(config.device, config.precision, config.threads)
    encoder = build_encoder(config, runtime)
    source_info = source(config.data.dataset)
    loaded = "none"
    if checkpoint != "none":
        folder = resolve_checkpoint(
            run_dir, "latest" if checkpoint == "latest" else int(checkpoint)
        )
        load_checkpoint(folder, {"encoder": encoder})
        loaded = folder.name

    size = config.data.image_size
    shapes = encoder.layer_shapes(size)
    pools = probe_pools(config, shapes)
    features = FeatureMap(encoder, pools)
    root, p = data_root(config), config.probe
    train_set = load_images(config.data.dataset, root, source_info.probe_train_split, size,
                            p.train_subset, labels=True)  # fmt: skip
    test_set = load_images(config.data.dataset, root, source_info.probe_test_split, size,
                           p.test_subset, labels=True)  # fmt: skip
    if train_set.labels is None or test_set.labels is None:
        raise ValueError(f"{config.data.dataset}: probe splits need labels")
    device = runtime.device
    train_x, test_x = train_set.images.to(device), test_set.images.to(device)
    train_y, test_y = train_set.labels.to(device), test_set.labels.to(device)

    def plain(batch: torch.Tensor) -> torch.Tensor:
        return normalize(eval_view(batch, size, p.test_resize), source_info.mean, source_info.std)

    gen = torch.Generator(device=device).manual_seed(config.seed + 7)
    crop_scale = p.crop_scale or config.data.augmentation.crop_scale

    def augmented(batch: torch.Tensor) -> torch.Tensor:
        crop = random_resized_crop(eval_view(batch, size), size, crop_scale, 0.5, gen)
        return normalize(crop, source_info.mean, source_info.std)

    started = time.perf_counter()
    with runtime.autocast():
        test_f = _features(features, test_x, plain).float()
        fixed_train_f = None if p.augment else _features(features, train_x, plain).float()
    dim = test_f.shape[1]
    layer_numbers = list(range(1, len(pools) + 1))
    if p.knn:
        with runtime.autocast():
            bank = (
                fixed_train_f
                if fixed_train_f is not None
                else _features(features, train_x, plain).float()
            )
        knn = knn_result(bank, train_y, test_f, test_y, p.knn_k, p.knn_temperature,
                         len(train_set.classes), loaded, layer_numbers)  # fmt: skip
        del bank
        write_result(run_dir, "knn", loaded, knn)
        events.emit("knn_finished", **knn)
    classifier = nn.Linear(dim, len(train_set.classes)).to(device)
    per_layer = (LayerProbes(layer_slices(shapes, pools), len(train_set.classes), p.lr,
                             p.weight_decay, device) if p.per_layer else None)  # fmt: skip
    optimizer = torch.optim.Adam(classifier.parameters(), lr=p.lr, weight_decay=p.weight_decay)
    order_gen = torch.Generator().manual_seed(config.seed + 11)
    events.emit("probe_started", checkpoint=loaded, feature_dim=dim, pools=pools,
                train_images=len(train_x), test_images=len(test_x), epochs=p.epochs)  # fmt: skip

    history: list[float] = []
    for epoch in range(p.epochs):
        if fixed_train_f is None:
            with runtime.autocast():
                train_f = _features(features, train_x, augmented).float()
        else:
            train_f = fixed_train_f
        order = torch.randperm(len(train_f), generator=order_gen).to(device)
        loss_sum = 0.0
        for start in range(0, len(order), p.batch_size):
            idx = order[start : start + p.batch_size]
            loss = F.cross_entropy(classifier(train_f[idx]), train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            if per_layer is not None:
                per_layer.step(train_f[idx], train_y[idx])
        with torch.no_grad():
            top1 = (classifier(test_f).argmax(1) == test_y).float().mean().item() * 100
        if per_layer is not None:
            per_layer.record(test_f, test_y)
        history.append(top1)
        events.emit("probe_epoch", epoch=epoch + 1, epochs=p.epochs,
                    loss=loss_sum / len(order), test_top1=top1)  # fmt: skip
        if stop.requested:
            break

    best = max(range(len(history)), key=history.__getitem__)
    result = {
        "checkpoint": loaded,
        "test_top1": history[-1],
        "best_test_top1": history[best],
        "best_epoch": best + 1,
        "epochs": len(history),
        "feature_dim": dim,
        "pools": pools,
        "train_images": len(train_x),
        "test_images": len(test_x),
        "seconds": time.perf_counter() - started,
        "protocol": {
            "layers": list(range(1, len(pools) + 1)),
            "reported": "last epoch (best epoch on test also given)",
            "augmentation": "random resized crop + flip" if p.augment else "none",
            "classifier": "linear, Adam",
            "crop_scale": list(crop_scale) if p.augment else None,
            "test_resize": p.test_resize,
        },
    }
    write_json_atomic(run_dir / ("probe-random.json" if loaded == "none" else "probe.json"), result)
    if per_layer is not None:
        write_result(run_dir, "probe-layers", loaded,
                     per_layer.result(loaded, pools, result["protocol"]))  # fmt: skip
    events.emit("probe_finished", **result)
    return result
