"""The download job turns download_dataset's progress into a few events."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from dataset_fakes import tar_gz, write_cifar_python

from localssl.data.fetch_job import run_download
from localssl.events import EventChannel


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A cifar-10-python.tar.gz of fake batches on a local HTTP server: (base URL, md5)."""
    source = tmp_path / "source"
    write_cifar_python(source)
    archive = tar_gz(source / "cifar-10-batches-py", tmp_path / "cifar-10-python.tar.gz")
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *_: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield (
            f"http://127.0.0.1:{server.server_port}/",
            hashlib.md5(archive.read_bytes()).hexdigest(),
        )
    finally:
        server.shutdown()


def test_download_reports_each_stage_and_finishes(served: tuple[str, str], tmp_path: Path) -> None:
    base_url, md5 = served
    stream = io.StringIO()
    folder = run_download("cifar10", tmp_path / "data", EventChannel(stream), base_url, md5)
    assert folder == tmp_path / "data" / "cifar-10-batches-py"
    assert (folder / "data_batch_5").is_file()
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    stages = [e["stage"] for e in events if e["event"] == "download_progress"]
    assert stages[0] == "download" and "verify" in stages and "extract" in stages
    assert events[-1]["event"] == "finished" and events[-1]["folder"] == str(folder)
    done = [e for e in events if e["event"] == "download_progress" and e["stage"] == "download"]
    assert done[-1]["done"] == done[-1]["total"]
