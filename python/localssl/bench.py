"""Is training data-bound? The input pipeline's throughput beside the training step's.

Three loops on the same device, each timed after warm-up steps and a device sync:

- pipeline: take a batch of uint8 images (DeviceImages: resident on the device, or streamed
  from pinned CPU memory), make two augmented views and normalise them, as train.py does;
- step: one CLAPP++ training step (forward, local losses, backward, AdamW) on ready-made views;
- both: the two together, i.e. what a training run achieves.

Throughput is source images per second (each image gives two views). When the pipeline is not
well above the step, the accelerator waits for data: the report says so.
scripts/bench-pipeline.py is the command-line front end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch

from localssl.config import ContrastiveRule, PoolingConfig, PredictorConfig, ScoreConfig
from localssl.data.augment import AugmentSpec, blur_kernel_for
from localssl.data.catalog import dataset_info
from localssl.data.loader import DeviceImages
from localssl.device import choose_runtime
from localssl.models.vgg import VGGEncoder, scaled_widths
from localssl.objective import Objective
from localssl.train import Views

log = logging.getLogger(__name__)

# The paper's pooled grid per layer (paper-spec 7.1): loss-pool kernel = map side / grid side.
GRID = (8, 4, 4, 4, 2, 2)
# Verdict thresholds on pipeline / step throughput: below 1 the step waits for data; below 2 the
# pipeline eats a visible share of every step (the two run one after the other in train.py).
DATA_BOUND, TIGHT = 1.0, 2.0


@dataclass(frozen=True)
class BenchSpec:
    """What to measure.

    Attributes:
        dataset: registry name; sets channels, normalisation, crop scale and native size.
        root: dataset folder, or None for random uint8 images of the right shape.
        size: side of the views in px; None = the dataset's native size.
        images: fake images when root is None.
        resident: keep the images on the device; None lets DeviceImages decide by size.
    """

    dataset: str = "cifar10"
    root: str | None = None
    size: int | None = None
    batch: int = 128
    width: float = 1.0
    images: int = 2048
    seconds: float = 3.0
    warmup: int = 2
    device: str = "auto"
    threads: int | None = None
    resident: bool | None = None


def paper_augmentation(dataset: str, size: int) -> AugmentSpec:
    """The paper's two-view augmentation (paper-spec 8) for `dataset` at `size` px."""
    info = dataset_info(dataset)
    return AugmentSpec(info.crop_scale, 0.5, 0.8, 0.8, 0.8, 0.8, 0.2, 0.2, 0.5,
                       blur_kernel_for(size))  # fmt: skip


def source_images(spec: BenchSpec, size: int) -> torch.Tensor:
    """(N, C, H, W) uint8 on the CPU: the dataset's self-supervised split, or random pixels."""
    info = dataset_info(spec.dataset)
    if spec.root is not None:
        from localssl.data.sources import load_images

        return load_images(spec.dataset, spec.root, info.pretrain_split, size, None).images
    gen = torch.Generator().manual_seed(0)
    shape = (spec.images, info.channels, size, size)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=gen)


def _timed(step: Callable[[], Any], sync: Callable[[], None], spec: BenchSpec) -> float:
    """Seconds per call of `step`, after `warmup` calls, over at least `seconds` and 3 calls."""
    for _ in range(spec.warmup):
        step()
    sync()
    calls, started = 0, time.perf_counter()
    while calls < 3 or time.perf_counter() - started < spec.seconds:
        step()
        calls += 1
        if calls % 4 == 0:
            sync()  # queued kernels must not let the clock run ahead of the device
    sync()
    return (time.perf_counter() - started) / calls


def bench(spec: BenchSpec) -> dict[str, Any]:
    """Measure the three loops; returns the numbers and the verdict as plain data."""
    info = dataset_info(spec.dataset)
    size = spec.size or info.image_size
    if size % 32:
        raise ValueError(f"size {size}: must be a multiple of 32 for the paper's pooled grid")
    runtime = choose_runtime(spec.device, "fp32", spec.threads)
    device = runtime.device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)

    images = DeviceImages(source_images(spec, size), device, spec.resident)
    views = Views(paper_augmentation(spec.dataset, size), size, info.mean, info.std,
                  runtime.channels_last)  # fmt: skip
    order_gen = torch.Generator().manual_seed(1)
    aug_gen = torch.Generator(device=device).manual_seed(2)

    def pipeline() -> torch.Tensor:
        index = torch.randint(0, len(images), (spec.batch,), generator=order_gen)
        return views(images.take(index.to(images.index_device)), aug_gen)

    widths = scaled_widths((128, 256, 256, 512, 1024, 1024), spec.width)
    encoder = VGGEncoder(widths, info.channels).to(device)
    if runtime.channels_last:
        encoder = encoder.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    maps = [shape[1] for shape in encoder.layer_shapes(size)]
    kernels = tuple(max(1, side // grid) for side, grid in zip(maps, GRID, strict=True))
    rule = ContrastiveRule("local", ScoreConfig("hinge", margin=1.0), PredictorConfig("trainable"),
                           0.0, PoolingConfig("patch", kernels), "next", context="same",
                           schedule="detach")  # fmt: skip
    objective = Objective(rule, encoder, size).to(device)
    params = [p for p in [*encoder.parameters(), *objective.parameters()] if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-4)
    ready = pipeline()

    def train_step(x: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        with runtime.autocast():
            objective.backward(encoder, x, aug_gen)
        optimizer.step()

    seconds = {
        "pipeline": _timed(pipeline, sync, spec),
        "step": _timed(lambda: train_step(ready), sync, spec),
        "both": _timed(lambda: train_step(pipeline()), sync, spec),
    }
    ips = {name: spec.batch / s for name, s in seconds.items()}
    ratio = ips["pipeline"] / ips["step"]
    if ratio < DATA_BOUND:
        verdict = "DATA-BOUND: the step waits for the input pipeline"
    elif ratio < TIGHT:
        verdict = "tight: the pipeline takes a visible share of every step"
    else:
        verdict = "compute-bound: the pipeline keeps up"
    return {
        "spec": asdict(spec),
        "size": size,
        "device": runtime.describe(),
        "data": {
            "images": len(images),
            "shape": list(images.shape[1:]),
            "resident": images.resident,
            "fake": spec.root is None,
        },
        "parameters": sum(p.numel() for p in params),
        "images_per_s": ips,
        "ms_per_batch": {name: s * 1000 for name, s in seconds.items()},
        "pipeline_over_step": ratio,
        "verdict": verdict,
    }


def report(result: dict[str, Any]) -> str:
    """The result as a few lines of text for a person."""
    spec, data, dev = result["spec"], result["data"], result["device"]
    source = "random uint8 (no root)" if data["fake"] else spec["root"]
    where = "resident on the device"
    if not data["resident"]:
        pinned = " through pinned memory" if dev["device"].startswith("cuda") else ""
        where = f"streamed from CPU memory per batch{pinned}"
    lines = [
        f"dataset {spec['dataset']} at {result['size']} px: {data['images']} images from "
        f"{source}, {where}",
        f"device {dev['device']} ({dev['device_name']}, {dev['threads']} threads), batch "
        f"{spec['batch']}, CLAPP++ width x{spec['width']} "
        f"({result['parameters'] / 1e6:.2f} M parameters)",
        "",
        f"{'loop':<50}{'images/s':>10}{'ms/batch':>10}",
    ]
    names = {
        "pipeline": "pipeline (load batch + two views + normalise)",
        "step": "training step (forward, losses, backward, AdamW)",
        "both": "both (what training runs at)",
    }
    for key, label in names.items():
        lines.append(f"{label:<50}{result['images_per_s'][key]:>10.0f}"
                     f"{result['ms_per_batch'][key]:>10.1f}")  # fmt: skip
    lines += ["", f"pipeline / step = {result['pipeline_over_step']:.1f}: {result['verdict']}"]
    return "\n".join(lines) + "\n"


def write_json(result: dict[str, Any], path: Path) -> None:
    """Save the result for later comparison."""
    import json

    path.write_text(json.dumps(result, indent=2) + "\n")
