"""download_dataset against a local HTTP server with Range support: resume, md5, safe extract."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from dataset_fakes import tar_gz, write_cifar_python, write_tiny_imagenet, zip_folder

from localssl.data.cifar10 import load_cifar10
from localssl.data.download import download_dataset, extract
from localssl.data.errors import DatasetError
from localssl.data.tiny_imagenet import load_tiny_imagenet


class _Server(ThreadingHTTPServer):
    files: dict[str, bytes]
    cuts: list[int]  # per request, in order: close the connection after this many body bytes
    ranges: bool
    requests: list[str | None]  # the Range header of each GET


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        state = cast(_Server, self.server)
        asked = self.headers.get("Range")
        state.requests.append(asked)
        data = state.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", asked or "")
        if match and state.ranges:
            start = int(match[1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        cut = state.cuts.pop(0) if state.cuts else None
        self.wfile.write(body if cut is None else body[:cut])

    def log_message(self, format: str, *args: object) -> None:
        """Silent: pytest output stays clean."""


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Server]:
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.cuts, httpd.ranges, httpd.requests = {}, [], True, []
    thread = threading.Thread(target=httpd.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _url(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/"


def _cifar_archive(tmp_path: Path) -> tuple[bytes, dict]:
    expected = write_cifar_python(tmp_path / "src")
    archive = tar_gz(tmp_path / "src" / "cifar-10-batches-py", tmp_path / "a.tar.gz")
    return archive.read_bytes(), expected


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith("."))


def test_download_verify_extract(tmp_path: Path, server: _Server) -> None:
    data, expected = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    root = tmp_path / "datasets"
    seen: list[tuple[str, int, int | None]] = []
    folder = download_dataset(
        "cifar10", root, base_url=_url(server), md5=_md5(data), progress=lambda *a: seen.append(a)
    )
    assert folder == root / "cifar-10-batches-py"
    assert np.array_equal(load_cifar10(root, "test").images.numpy(), expected["test"][0])
    assert sorted(p.name for p in root.iterdir()) == ["cifar-10-batches-py"]  # archive removed
    assert ("download", len(data), len(data)) in seen and ("verify", len(data), len(data)) in seen
    assert {s for s, _, _ in seen} == {"download", "verify", "extract"}
    assert download_dataset("cifar10", root, base_url=_url(server), md5=_md5(data)) == folder
    assert server.requests == [None]  # present already: no second request


def test_interrupted_download_resumes_with_range(tmp_path: Path, server: _Server) -> None:
    data, expected = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    server.cuts = [1000]
    root = tmp_path / "datasets"
    url = _url(server) + "cifar-10-python.tar.gz"
    message = (
        f"{url}: download interrupted at byte 1000 "
        f"(connection closed at byte 1000 of {len(data)}); "
        "run again to resume from cifar-10-python.tar.gz.part"
    )
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        download_dataset("cifar10", root, base_url=_url(server), md5=_md5(data), retries=0)
    assert (root / "cifar-10-python.tar.gz.part").stat().st_size == 1000
    assert not (root / "cifar-10-batches-py").exists()
    download_dataset("cifar10", root, base_url=_url(server), md5=_md5(data), retries=0)
    assert server.requests == [None, "bytes=1000-"]
    assert np.array_equal(load_cifar10(root, "train").images.numpy(), expected["train"][0])


def test_retries_resume_within_one_call(tmp_path: Path, server: _Server) -> None:
    data, _ = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    server.cuts = [500, 700]
    download_dataset("cifar10", tmp_path / "d", base_url=_url(server), md5=_md5(data), retries=2)
    assert server.requests == [None, "bytes=500-", "bytes=1200-"]


def test_server_without_range_support_restarts(tmp_path: Path, server: _Server) -> None:
    data, _ = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    server.cuts, server.ranges = [800], False
    download_dataset("cifar10", tmp_path / "d", base_url=_url(server), md5=_md5(data), retries=1)
    assert server.requests == [None, "bytes=800-"]  # answered 200 with the whole file


def test_complete_part_answered_416_is_verified(tmp_path: Path, server: _Server) -> None:
    data, _ = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    root = tmp_path / "d"
    root.mkdir()
    (root / "cifar-10-python.tar.gz.part").write_bytes(data)
    download_dataset("cifar10", root, base_url=_url(server), md5=_md5(data))
    assert server.requests == [f"bytes={len(data)}-"]
    assert (root / "cifar-10-batches-py" / "test_batch").is_file()


def test_md5_mismatch_deletes_the_download(tmp_path: Path, server: _Server) -> None:
    data, _ = _cifar_archive(tmp_path)
    server.files["cifar-10-python.tar.gz"] = data
    root = tmp_path / "d"
    message = (
        f"cifar-10-python.tar.gz: md5 mismatch: got {_md5(data)}, "
        "expected c58f30108f718f92721af3b95e74349a; the download was deleted, run again"
    )
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        download_dataset("cifar10", root, base_url=_url(server))  # the official md5
    assert list(root.iterdir()) == []


def test_http_error_is_reported(tmp_path: Path, server: _Server) -> None:
    with pytest.raises(DatasetError, match=r"cifar-10-binary\.tar\.gz: HTTP 404 "):
        download_dataset("cifar10-binary", tmp_path, base_url=_url(server), md5="0" * 32)


def test_tiny_imagenet_zip(tmp_path: Path, server: _Server) -> None:
    expected = write_tiny_imagenet(tmp_path / "src")
    archive = zip_folder(tmp_path / "src" / "tiny-imagenet-200", tmp_path / "t.zip").read_bytes()
    server.files["tiny-imagenet-200.zip"] = archive
    root = tmp_path / "d"
    download_dataset(
        "tiny-imagenet", root, base_url=_url(server), md5=_md5(archive), keep_archive=True
    )
    assert np.array_equal(load_tiny_imagenet(root, "val").images.numpy(), expected["val"][0])
    assert (root / "tiny-imagenet-200.zip").is_file()


def _tar_with(tmp_path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    write_cifar_python(tmp_path / "src")
    path = tar_gz(tmp_path / "src" / "cifar-10-batches-py", tmp_path / "cifar-10-python.tar.gz")
    raw = io.BytesIO()
    with tarfile.open(path) as old, tarfile.open(fileobj=raw, mode="w:gz") as new:
        for item in old:
            new.addfile(item, old.extractfile(item) if item.isfile() else None)
        member.size = len(data) if member.isfile() else 0
        new.addfile(member, io.BytesIO(data) if member.isfile() else None)
    path.write_bytes(raw.getvalue())
    return path


@pytest.mark.parametrize(
    "name", ["../evil.txt", "cifar-10-batches-py/../../evil.txt", "/tmp/evil.txt"]
)
def test_tar_path_traversal_is_refused(tmp_path: Path, name: str) -> None:
    archive = _tar_with(tmp_path, tarfile.TarInfo(name))
    root = tmp_path / "root"
    root.mkdir()
    message = f"cifar-10-python.tar.gz: unsafe member path {name!r}, refusing to extract"
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        extract(archive, root, "cifar-10-batches-py")
    assert list(root.iterdir()) == [] and not (tmp_path / "evil.txt").exists()


def test_tar_symlink_is_refused(tmp_path: Path) -> None:
    link = tarfile.TarInfo("cifar-10-batches-py/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = _tar_with(tmp_path, link)
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(
        DatasetError, match=r"member 'cifar-10-batches-py/link' is a link or device"
    ):
        extract(archive, root, "cifar-10-batches-py")
    assert list(root.iterdir()) == []


def test_zip_traversal_is_refused_through_download(tmp_path: Path, server: _Server) -> None:
    write_tiny_imagenet(tmp_path / "src")
    folder = tmp_path / "src" / "tiny-imagenet-200"
    archive = zip_folder(folder, tmp_path / "t.zip", {"../../evil.txt": b"x"}).read_bytes()
    server.files["tiny-imagenet-200.zip"] = archive
    root = tmp_path / "d"
    with pytest.raises(DatasetError, match=re.escape("unsafe member path '../../evil.txt'")):
        download_dataset("tiny-imagenet", root, base_url=_url(server), md5=_md5(archive))
    assert not (root / "tiny-imagenet-200").exists() and _leftovers(root) == []
    assert not (tmp_path / "evil.txt").exists()


def test_zip_symlink_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "tiny-imagenet-200.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("tiny-imagenet-200/link")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DatasetError, match=r"member 'tiny-imagenet-200/link' is a symlink"):
        extract(path, tmp_path, "tiny-imagenet-200")


def test_archive_without_the_dataset_folder(tmp_path: Path) -> None:
    (tmp_path / "src" / "other").mkdir(parents=True)
    (tmp_path / "src" / "other" / "f").write_text("x")
    archive = tar_gz(tmp_path / "src" / "other", tmp_path / "stl10_binary.tar.gz")
    root = tmp_path / "root"
    root.mkdir()
    message = "stl10_binary.tar.gz: no top-level folder stl10_binary/ in the archive"
    with pytest.raises(DatasetError, match="^" + re.escape(message) + "$"):
        extract(archive, root, "stl10_binary")
    assert list(root.iterdir()) == []


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "stl10_binary.tar.gz"
    path.write_bytes(b"garbage" * 10)
    with pytest.raises(
        DatasetError, match=r"^stl10_binary\.tar\.gz: not a readable tar or zip archive"
    ):
        extract(path, tmp_path, "stl10_binary")


def test_unknown_dataset(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"^no download for dataset 'mnist'"):
        download_dataset("mnist", tmp_path)
