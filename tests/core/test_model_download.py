"""The model downloader against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.errors import DownloadFailed, InvalidInput
from core.models import InstalledModels
from core.models.catalog import CatalogEntry, CatalogFile
from core.models.download import download_file

PAYLOAD = os.urandom(300_000)
SHA = hashlib.sha256(PAYLOAD).hexdigest()


class _Server:
    def __init__(self) -> None:
        self.cut_after: int | None = None  # close the connection after this many bytes
        self.ranges: list[str | None] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_GET(self):
                if self.path != "/model.gguf":
                    self.send_error(404, "Not Found")
                    return
                rng = self.headers.get("Range")
                server.ranges.append(rng)
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                body = PAYLOAD[start:]
                self.send_response(206 if rng else 200)
                if rng:
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    self.wfile.write(body[:server.cut_after])
                    self.wfile.flush()
                    server.cut_after = None
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = _Server()
    yield s
    s.close()


class Progress:
    def __init__(self):
        self.calls = []
        self.status = []

    def set_progress(self, done, total):
        self.calls.append((done, total))

    def set_status(self, text):
        self.status.append(text)

    @property
    def cancelled(self):
        return False


def test_download_verifies_and_installs_atomically(server, tmp_path):
    progress = Progress()
    dest = tmp_path / "models" / "model.gguf"
    dest.parent.mkdir()
    result = download_file(server.url + "/model.gguf", dest, sha256=SHA, size=len(PAYLOAD),
                           state=progress)
    assert dest.read_bytes() == PAYLOAD and result.sha256 == SHA and result.resumed_from == 0
    assert progress.calls[-1] == (len(PAYLOAD), len(PAYLOAD)) and "verifying" in progress.status
    assert list((dest.parent / ".partial").iterdir()) == []


def test_interrupted_transfer_resumes_with_range(server, tmp_path):
    dest = tmp_path / "model.gguf"
    server.cut_after = 100_000
    with pytest.raises(DownloadFailed, match="run the same command again to resume"):
        download_file(server.url + "/model.gguf", dest, sha256=SHA, size=len(PAYLOAD))
    part = tmp_path / ".partial" / "model.gguf.part"
    assert not dest.exists() and part.stat().st_size == 100_000
    result = download_file(server.url + "/model.gguf", dest, sha256=SHA, size=len(PAYLOAD))
    assert server.ranges[-1] == "bytes=100000-" and result.resumed_from == 100_000
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_checksum_mismatch_installs_nothing(server, tmp_path):
    dest = tmp_path / "model.gguf"
    with pytest.raises(DownloadFailed, match="checksum mismatch"):
        download_file(server.url + "/model.gguf", dest, sha256="0" * 64, size=len(PAYLOAD))
    assert not dest.exists() and not (tmp_path / ".partial" / "model.gguf.part").exists()


def test_server_404_is_clear(server, tmp_path):
    with pytest.raises(DownloadFailed, match="404"):
        download_file(server.url + "/missing.gguf", tmp_path / "x.gguf", sha256=SHA)
    assert not (tmp_path / "x.gguf").exists()


def test_connection_refused_says_offline(tmp_path):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(DownloadFailed, match="offline"):
        download_file(f"http://127.0.0.1:{port}/model.gguf", tmp_path / "x.gguf", sha256=SHA,
                      timeout=5)


def test_catalog_download_verify_remove(server, tmp_path, monkeypatch):
    import core.models.installed as installed

    pinned = CatalogEntry("tiny-chat", "chat", "Tiny", "MIT", files=(
        CatalogFile("tiny.gguf", server.url + "/model.gguf", len(PAYLOAD), SHA),),
        approx_mb=1)
    unpinned = CatalogEntry("tiny-unpinned", "chat", "Tiny", "MIT", files=(
        CatalogFile("loose.gguf", server.url + "/model.gguf", None, None),), approx_mb=1)
    monkeypatch.setattr(installed, "CATALOG", (pinned, unpinned))
    monkeypatch.setattr("core.models.catalog.CATALOG", (pinned, unpinned))
    models = InstalledModels(tmp_path / "models")
    models.download("tiny-chat")
    assert [r.ok for r in models.verify("tiny-chat")] == [True]
    with pytest.raises(InvalidInput, match="allow-unpinned"):
        models.download("tiny-unpinned")
    assert not (tmp_path / "models" / "loose.gguf").exists()
    models.download("tiny-unpinned", allow_unpinned=True)
    assert models.verify("tiny-unpinned")[0].ok  # against the recorded hash
    (tmp_path / "models" / "tiny.gguf").write_bytes(b"tampered")
    bad = models.verify("tiny-chat")[0]
    assert not bad.ok and "checksum mismatch" in bad.problems[0]
    assert models.remove("tiny-chat") == ["tiny.gguf"]
    assert not models.verify("tiny-chat")[0].ok


def test_real_catalog_is_well_formed():
    from core.models.catalog import CATALOG

    kinds = {e.kind for e in CATALOG}
    assert {"chat", "caption", "image-embedding"} <= kinds
    names = {e.name for e in CATALOG}
    assert {"qwen2.5-1.5b-instruct", "llama-3.2-3b-instruct", "smolvlm-500m", "moondream2",
            "clip-vit-b-32-laion2b"} <= names
    for entry in CATALOG:
        assert entry.license and entry.files
        for f in entry.files:
            assert f.url.startswith("https://huggingface.co/") and f.url.endswith(f.filename)
            if f.sha256 is not None:
                assert len(f.sha256) == 64 and int(f.sha256, 16) >= 0 and f.sha256_source
                assert f.size_bytes
