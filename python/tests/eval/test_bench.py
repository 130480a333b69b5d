"""The pipeline benchmark runs its three loops and says whether training is data-bound."""

from __future__ import annotations

from pathlib import Path

import pytest

from localssl.bench import BenchSpec, bench, report
from localssl.data.synthetic import write_synthetic


@pytest.mark.parametrize("stream", [False, True])
def test_bench_reports_pipeline_step_and_both(tmp_path: Path, stream: bool) -> None:
    write_synthetic("stl10", tmp_path, images=20)
    spec = BenchSpec(dataset="stl10", root=str(tmp_path), size=64, batch=4, width=1 / 32,
                     seconds=0.01, warmup=1, device="cpu", threads=1,
                     resident=not stream)  # fmt: skip
    result = bench(spec)
    assert set(result["images_per_s"]) == {"pipeline", "step", "both"}
    assert all(v > 0 for v in result["images_per_s"].values())
    assert result["data"] == {"images": 20, "shape": [3, 64, 64], "resident": not stream,
                              "fake": False}  # fmt: skip
    text = report(result)
    assert "pipeline (load batch + two views + normalise)" in text
    assert (
        "streamed from CPU memory per batch" in text if stream else "resident on the device" in text
    )
    assert result["verdict"].split(":")[0] in {"DATA-BOUND", "tight", "compute-bound"}


def test_fake_images_have_the_dataset_shape() -> None:
    spec = BenchSpec(dataset="cifar10", batch=4, width=1 / 32, images=16, seconds=0.01,
                     warmup=1, device="cpu", threads=1)  # fmt: skip
    result = bench(spec)
    assert result["data"] == {"images": 16, "shape": [3, 32, 32], "resident": True, "fake": True}
    with pytest.raises(ValueError, match="multiple of 32"):
        bench(BenchSpec(dataset="cifar10", size=40, device="cpu"))
