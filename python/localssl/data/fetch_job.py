"""The `download` job: download_dataset with its progress turned into events.

Events: `download_progress` {dataset, stage, done, total} at most every PROGRESS_INTERVAL_S per
stage (and at each stage's last report), then `finished` {dataset, folder, seconds}.
"""

from __future__ import annotations

import time
from pathlib import Path

from localssl.data.download import download_dataset
from localssl.events import EventChannel

PROGRESS_INTERVAL_S = 0.5


def run_download(
    dataset: str,
    root: Path,
    events: EventChannel,
    base_url: str | None = None,
    md5: str | None = None,
    keep_archive: bool = False,
) -> Path:
    """Download, verify and extract `dataset` under `root`; returns the dataset folder."""
    started = time.perf_counter()
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int | None) -> None:
        now = time.perf_counter()
        complete = total is not None and done >= total
        # A 2.6 GB download reports every 1 MiB chunk: thousands of events without the throttle.
        if not complete and now - last.get(stage, 0.0) < PROGRESS_INTERVAL_S:
            return
        last[stage] = now
        events.emit("download_progress", dataset=dataset, stage=stage, done=done, total=total)

    folder = download_dataset(dataset, root, base_url=base_url, progress=progress, md5=md5,
                              keep_archive=keep_archive)  # fmt: skip
    events.emit("finished", dataset=dataset, folder=str(folder),
                seconds=time.perf_counter() - started)  # fmt: skip
    return folder
