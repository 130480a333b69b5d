"""Peak training memory and throughput of CLAPP++ (detach and layerwise schedules) against
BP-CLAPP++, at the same width, batch and image size (paper-spec 5.2, 12.5).

Run with the engine's interpreter:  python/.venv/bin/python scripts/bench-memory.py --help

Every rule runs in a fresh child process, so no rule inherits another's allocations. Each child
builds the encoder, the rule's heads and AdamW, does one warm-up step (which creates the optimizer
state), then measures `--steps` further steps:

- CUDA: torch.cuda.max_memory_allocated() over those steps, i.e. live tensors only (parameters,
  optimizer state, the batch, gradients and activations), not the caching allocator's reserve.
- CPU: the peak resident set size over those steps (VmHWM, reset through /proc/self/clear_refs
  before them), minus the resident size right after importing torch. Big buffers are forced onto
  mmap (MALLOC_MMAP_THRESHOLD_) so freed activations leave the process instead of lingering in
  the malloc arena. This counts everything the process holds, so it is an upper bound on tensors.

"steady" is the memory held between steps (parameters, optimizer state, batch); "peak" the
highest point inside a step; "step" = peak - steady, what one step adds (activations, gradients).
The paper compares peak training memory; the verdict uses "peak".

With --categories (the default) one more step runs under torch's memory profiler, which sorts
every tensor into parameter, optimizer state, activation, gradient, autograd detail (gradients of
activations inside backward) and temporary; "act" is the peak of the activation category alone,
what the layerwise schedule is meant to cut, and the breakdown at the peak is printed per rule.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import logging
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("bench-memory")

RULES = ("clapp-pp-detach", "clapp-pp-layerwise", "bp-clapp-pp")
# The paper's pooled grid per layer (paper-spec 7.1): kernels = map side / grid side.
GRID = (8, 4, 4, 4, 2, 2)
TARGET_RATIO = 0.6


def _status_mb(key: str) -> float:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"{key}:\s+(\d+) kB", text)
    return int(match.group(1)) / 1024 if match else float("nan")


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _trim_malloc() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        log.debug("malloc_trim unavailable")


def categories(step: Any, device: str) -> tuple[float, dict[str, float]]:
    """Run `step` under the memory profiler: the peak of activation memory alone, and the
    memory by category at the overall peak, in MB (torch's private memory-timeline API)."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import _CATEGORY_TO_INDEX, MemoryProfileTimeline

    activities = [ProfilerActivity.CPU]
    if device == "cuda":
        activities.append(ProfilerActivity.CUDA)
    with profile(activities=activities, profile_memory=True, record_shapes=True,
                 with_stack=True) as prof:  # fmt: skip
        step()
    timeline = MemoryProfileTimeline(prof._memory_profile())
    _, sizes = timeline._coalesce_timeline(str(torch.device(device)))
    names = ["unknown"] * (len(_CATEGORY_TO_INDEX) + 1)
    for category, index in _CATEGORY_TO_INDEX.items():
        names[index + 1] = category.name.lower() if category is not None else "unknown"
    totals = [sum(row) for row in sizes]
    at_peak = sizes[max(range(len(totals)), key=totals.__getitem__)]
    activation = names.index("activation")
    breakdown: dict[str, float] = {}
    for name, size in zip(names, at_peak, strict=True):
        breakdown[name] = breakdown.get(name, 0.0) + size / 2**20
    return max(row[activation] for row in sizes) / 2**20, breakdown


def child(spec: dict[str, Any]) -> dict[str, Any]:
    """Build one rule, train `steps` steps after a warm-up, and measure memory and speed."""
    import torch
    from localssl.config import ContrastiveRule, PoolingConfig, PredictorConfig, ScoreConfig
    from localssl.models.vgg import VGGEncoder, scaled_widths
    from localssl.objective import Objective

    cuda = spec["device"] == "cuda"
    device = torch.device(spec["device"])
    torch.manual_seed(0)
    if not cuda:
        torch.set_num_threads(spec["threads"])
    # The first conv, matmul and optimizer step load kernels and libraries (about 100 MB on CPU);
    # a throwaway step on a tiny network pays for that before the baseline is read.
    scrap = VGGEncoder((2, 2, 2, 2, 2, 2), spec["channels"]).to(device)
    scrap(torch.zeros(2, spec["channels"], 16, 16, device=device))[-1].sum().backward()
    torch.optim.AdamW(scrap.parameters()).step()
    del scrap
    _trim_malloc()
    base_rss = _status_mb("VmRSS")

    widths = scaled_widths((128, 256, 256, 512, 1024, 1024), spec["width"])
    encoder = VGGEncoder(widths, spec["channels"]).to(device)
    maps = [shape[1] for shape in encoder.layer_shapes(spec["size"])]
    kernels = tuple(max(1, side // grid) for side, grid in zip(maps, GRID, strict=True))
    hinge, trainable = ScoreConfig("hinge", margin=1.0), PredictorConfig("trainable")
    if spec["rule"] == "bp-clapp-pp":
        rule = ContrastiveRule("global", hinge, trainable, 0.0, PoolingConfig("global"), "next")
    else:
        schedule = "layerwise" if spec["rule"].endswith("layerwise") else "detach"
        rule = ContrastiveRule("local", hinge, trainable, 0.0, PoolingConfig("patch", kernels),
                               "next", context="same", schedule=schedule)  # fmt: skip
    objective = Objective(rule, encoder, spec["size"]).to(device)
    params = [p for p in [*encoder.parameters(), *objective.parameters()] if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=2e-4)
    gen = torch.Generator(device=device).manual_seed(1)
    shape = (2 * spec["batch"], spec["channels"], spec["size"], spec["size"])
    x = torch.randn(shape, generator=gen, device=device)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        objective.backward(encoder, x, gen)
        optimizer.step()

    step()
    optimizer.zero_grad(set_to_none=True)
    if cuda:
        torch.cuda.synchronize()
        steady = torch.cuda.memory_allocated() / 2**20
        torch.cuda.reset_peak_memory_stats()
    else:
        _trim_malloc()
        steady = _status_mb("VmRSS") - base_rss
        exact = _reset_peak_rss()

    started = time.perf_counter()
    for _ in range(spec["steps"]):
        step()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started

    if cuda:
        peak = torch.cuda.max_memory_allocated() / 2**20
        method = "torch.cuda.max_memory_allocated"
    else:
        peak = _status_mb("VmHWM") - base_rss
        method = "peak RSS (VmHWM) above the post-import RSS" + ("" if exact else ", unreset")
    activation, breakdown = float("nan"), {}
    if spec["categories"]:
        activation, breakdown = categories(step, spec["device"])
    return {
        "rule": spec["rule"],
        "parameters_m": sum(p.numel() for p in params) / 1e6,
        "steady_mb": steady,
        "peak_mb": peak,
        "step_mb": peak - steady,
        "images_per_s": spec["batch"] * spec["steps"] / seconds,
        "activation_mb": activation,
        "at_peak_mb": breakdown,
        "method": method,
    }


def run_child(spec: dict[str, Any]) -> dict[str, Any]:
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536"}
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"{spec['rule']} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[dict[str, Any]], spec: dict[str, Any]) -> str:
    head = (f"device {spec['device']}, width x{spec['width']}, batch {spec['batch']} images "
            f"(2 views), {spec['size']} px, {spec['channels']} channel(s), "
            f"{spec['steps']} steps")  # fmt: skip
    lines = [head, f"memory: {rows[0]['method']}", ""]
    lines.append(f"{'rule':<20}{'params M':>10}{'steady MB':>11}{'peak MB':>10}{'step MB':>10}"
                 f"{'act MB':>9}{'images/s':>10}")  # fmt: skip
    for r in rows:
        lines.append(f"{r['rule']:<20}{r['parameters_m']:>10.2f}{r['steady_mb']:>11.1f}"
                     f"{r['peak_mb']:>10.1f}{r['step_mb']:>10.1f}{r['activation_mb']:>9.1f}"
                     f"{r['images_per_s']:>10.1f}")  # fmt: skip
    if rows[0]["at_peak_mb"]:
        lines.append("")
        lines.append("memory profiler, MB by category at each rule's peak:")
        for r in rows:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in r["at_peak_mb"].items() if v >= 0.05)
            lines.append(f"  {r['rule']}: {parts}")
    by_rule = {r["rule"]: r for r in rows}
    bp = by_rule["bp-clapp-pp"]
    lines.append("")
    for name in ("clapp-pp-detach", "clapp-pp-layerwise"):
        ratio = by_rule[name]["peak_mb"] / bp["peak_mb"]
        step_ratio = by_rule[name]["step_mb"] / bp["step_mb"]
        act_ratio = by_rule[name]["activation_mb"] / bp["activation_mb"]
        verdict = "holds" if ratio <= TARGET_RATIO else "does not hold"
        lines.append(f"{name}: peak = {ratio:.2f} x BP's (step {step_ratio:.2f} x, activations "
                     f"{act_ratio:.2f} x); local peak <= {TARGET_RATIO} x BP's "
                     f"{verdict}")  # fmt: skip
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--width", type=float, default=0.25, help="width multiplier")
    parser.add_argument("--batch", type=int, default=16, help="images per step (x2 views)")
    parser.add_argument("--size", type=int, default=96, help="image side in px")
    parser.add_argument("--channels", type=int, default=3, help="input channels")
    parser.add_argument("--steps", type=int, default=3, help="measured steps after a warm-up")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="CPU threads")
    parser.add_argument("--categories", action=argparse.BooleanOptionalAction, default=True,
                        help="one more step under the memory profiler: MB by category")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="also write the rows as JSON")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")

    if args.child:
        sys.stdout.write(json.dumps(child(json.loads(args.child))) + "\n")
        return 0

    device = args.device
    if device == "auto":
        import torch

        device = "cuda" if torch.cuda.is_available() else "cpu"
    spec = {"device": device, "width": args.width, "batch": args.batch, "size": args.size,
            "channels": args.channels, "steps": args.steps, "threads": args.threads,
            "categories": args.categories}  # fmt: skip
    rows = []
    for rule in RULES:
        log.info("measuring %s ...", rule)
        rows.append(run_child({**spec, "rule": rule}))
    sys.stdout.write(table(rows, spec))
    if args.json:
        sys.stdout.write(json.dumps({"spec": spec, "rows": rows}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
