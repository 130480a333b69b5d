"""The self-supervised training loop: two views per image, the rule's gradients, AdamW."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from localssl.build import build_encoder, build_objective
from localssl.checkpoint import (
    TrainState,
    load_checkpoint,
    resolve_checkpoint,
    save_checkpoint,
    write_json_atomic,
)
from localssl.config import Config
from localssl.data.augment import AugmentSpec, make_view, normalize
from localssl.data.loader import DeviceImages
from localssl.data.sources import load_images, source
from localssl.device import Runtime, choose_runtime, seed_everything
from localssl.events import EventChannel
from localssl.rules.patches import grey_input
from localssl.stop import StopFlag

if TYPE_CHECKING:
    from localssl.align import LiveAlignment
    from localssl.objective import Objective

log = logging.getLogger(__name__)


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite; training cannot continue meaningfully."""


@dataclass
class Views:
    """Turns a batch of uint8 images into the rule's stacked, normalised pair of views."""

    spec: AugmentSpec
    size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channels_last: bool

    def __call__(self, images: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """(B, C, H, W) uint8 -> (2B, C, size, size) float, rows [view 1; view 2]."""
        pair = torch.cat([make_view(images, self.size, self.spec, gen) for _ in range(2)])
        x = normalize(pair, self.mean, self.std)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def augment_spec(config: Config) -> AugmentSpec:
    """The view distribution of the config (its `data.augmentation` section)."""
    return config.data.augmentation


def data_root(config: Config) -> str:
    if config.data.root is None:
        raise ValueError("data.root is null: the TypeScript side resolves it before training")
    return config.data.root


def train(
    config: Config, run_dir: Path, events: EventChannel, stop: StopFlag, resume: bool = False
) -> dict[str, Any]:
    """Train the encoder with the config's rule, checkpointing every epoch.

    Returns:
        The summary also written to `run_dir/train.json`.
    """
    seed_everything(config.seed)
    runtime: Runtime = choose_runtime(config.device, config.precision, config.threads)
    info = source(config.data.dataset)
    images = load_images(config.data.dataset, data_root(config), info.ssl_split,
                         config.data.image_size, config.data.train_subset).images  # fmt: skip
    mean, std = info.mean, info.std
    if config.rule.kind == "clapp-2021":
        # CLAPP 2021 encodes grey patches (paper-spec 6.3).
        images, mean, std = grey_input(images, mean, std)
    if images.shape[1] != config.model.in_channels:
        raise ValueError(
            f"model.inChannels is {config.model.in_channels} but "
            f"{config.data.dataset} images have {images.shape[1]} channels"
        )
    images = DeviceImages(images, runtime.device)

    encoder = build_encoder(config, runtime)
    objective = build_objective(config, encoder, runtime)
    params = [p for p in [*encoder.parameters(), *objective.parameters()] if p.requires_grad]
    opt = config.optimizer
    optimizer = torch.optim.AdamW(params, lr=opt.lr, weight_decay=opt.weight_decay,
                                  betas=opt.betas)  # fmt: skip
    data_gen = torch.Generator().manual_seed(config.seed)
    aug_gen = torch.Generator(device=runtime.device).manual_seed(config.seed + 1)
    modules = {"encoder": encoder, "objective": objective}
    generators = {"data": data_gen, "augment": aug_gen}

    state = TrainState(epoch=0, global_step=0)
    if resume and (run_dir / "checkpoints" / "latest.json").exists():
        folder = resolve_checkpoint(run_dir)
        state = load_checkpoint(folder, modules, optimizer, generators)
        log.info("resumed from %s", folder)

    batch = config.train.batch_size
    steps = len(images) // batch
    if config.train.max_steps_per_epoch is not None:
        steps = min(steps, config.train.max_steps_per_epoch)
    if steps == 0:
        raise ValueError(f"train.batchSize {batch} is larger than the {len(images)} train images")
    views = Views(augment_spec(config), config.data.image_size, mean, std,
                  runtime.channels_last)  # fmt: skip

    events.emit("started", run_dir=str(run_dir), name=config.name, images=len(images),
                steps_per_epoch=steps, batch_size=batch, epochs=config.train.epochs,
                start_epoch=state.epoch,
                parameters=sum(p.numel() for p in params),
                analysis_mode=objective.analysis_mode, **runtime.describe())  # fmt: skip

    align_every = config.train.align_every_steps
    live = None if align_every is None else _live_alignment(config, objective, runtime)

    started = time.perf_counter()
    trained_images = 0
    epoch_loss = float("nan")
    for epoch in range(state.epoch, config.train.epochs):
        epoch_start = time.perf_counter()
        order = torch.randperm(len(images), generator=data_gen).to(images.index_device)
        loss_sum = torch.zeros((), device=runtime.device)
        layer_sum = torch.zeros(objective.num_layers, device=runtime.device)
        window_start, window_images = time.perf_counter(), 0

        for step in range(steps):
            x = views(images.take(order[step * batch : (step + 1) * batch]), aug_gen)
            optimizer.zero_grad(set_to_none=True)
            with runtime.autocast():
                stats = objective.backward(encoder, x, aug_gen)
            optimizer.step()

            loss_sum += stats.loss.detach().float()
            layer_sum += torch.stack(stats.layer_losses).float().to(runtime.device)
            state.global_step += 1
            window_images += batch
            trained_images += batch

            # Reading the loss forces a device sync, so only every few steps.
            if (step + 1) % config.train.log_every_steps == 0 or step + 1 == steps:
                loss = stats.loss.item()
                if not math.isfinite(loss):
                    raise NonFiniteLossError(
                        f"loss is {loss} at epoch {epoch + 1}, step {step + 1}: lower "
                        "optimizer.lr or check the rule"
                    )
                elapsed = time.perf_counter() - window_start
                events.emit("step", epoch=epoch + 1, step=step + 1, steps=steps,
                            global_step=state.global_step, loss=loss,
                            layer_losses=stats_list(stats.layer_losses),
                            images_per_s=window_images / max(elapsed, 1e-9),
                            **stats.log_fields())  # fmt: skip
                window_start, window_images = time.perf_counter(), 0

            if live is not None and align_every and state.global_step % align_every == 0:
                events.emit("alignment", epoch=epoch + 1, step=step + 1,
                            global_step=state.global_step, **live.measure(encoder))  # fmt: skip

            if stop.requested:
                folder = save_checkpoint(run_dir, modules, optimizer, state, generators)
                events.emit("checkpoint", epoch=state.epoch, path=str(folder), partial=True)
                events.emit("stopped", epoch=epoch + 1, step=step + 1, checkpoint=str(folder),
                            reason=stop.signal_name)  # fmt: skip
                return {"stopped": True, "epoch": epoch + 1, "step": step + 1}

        epoch_loss = (loss_sum / steps).item()
        seconds = time.perf_counter() - epoch_start
        state.epoch = epoch + 1
        events.emit("epoch", epoch=epoch + 1, epochs=config.train.epochs, loss=epoch_loss,
                    layer_losses=stats_list(list(layer_sum / steps)), seconds=seconds,
                    images_per_s=steps * batch / max(seconds, 1e-9))  # fmt: skip
        folder = save_checkpoint(run_dir, modules, optimizer, state, generators)
        events.emit("checkpoint", epoch=state.epoch, path=str(folder), partial=False)

    seconds = time.perf_counter() - started
    summary = {"epochs": state.epoch, "global_step": state.global_step, "final_loss": epoch_loss,
               "train_seconds": seconds, "images_per_s": trained_images / max(seconds, 1e-9),
               "analysis_mode": objective.analysis_mode,
               **runtime.describe()}  # fmt: skip
    write_json_atomic(run_dir / "train.json", summary)
    events.emit("finished", **summary)
    return summary


def _live_alignment(config: Config, objective: Objective, runtime: Runtime) -> LiveAlignment:
    """The held-out batch (the first test-split images) that alignment is measured on."""
    from localssl.align import LiveAlignment

    if not objective.local:
        raise ValueError("train.alignEverySteps: alignment compares a local rule with backprop; "
                         "this rule is global")  # fmt: skip
    info = source(config.data.dataset)
    held_out = load_images(config.data.dataset, data_root(config), info.probe_test_split,
                           config.data.image_size, config.train.batch_size).images  # fmt: skip
    return LiveAlignment(config, objective, held_out.to(runtime.device), runtime.device)


def stats_list(values: list[torch.Tensor]) -> list[float]:
    """Per-layer losses as floats (NaN for layers without a head)."""
    return [float(v) for v in values]
