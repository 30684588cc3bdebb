"""The downloader against a local HTTP server: resume, restart, md5, cancel, and end to end."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from engine.core.errors import DataError
from engine.data import omniglot_download
from engine.data.omniglot import load_omniglot
from engine.data.omniglot_download import Cancelled, RemoteFile, download_file
from engine.data.omniglot_locate import omniglot_cache_dir

PAYLOAD = bytes(range(256)) * 1000  # 256 kB, several read chunks
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    honour_range: bool = True
    cut_after: int | None = None  # close the connection after this many body bytes...
    cuts_left: int = 0  # ...this many times
    ranges: list = field(default_factory=list)  # the Range header of every request (None if absent)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        state: ServerState = self.server.state
        asked = self.headers.get("Range")
        state.ranges.append(asked)
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if asked and state.honour_range:
            start = int(re.match(r"bytes=(\d+)-", asked).group(1))
            if start >= len(data):
                self.send_response(416)
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
        if state.cut_after is not None and state.cuts_left > 0:
            state.cuts_left -= 1
            self.wfile.write(body[: state.cut_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the server dies half way
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState(files={"/file.zip": PAYLOAD})
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    httpd.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_plain_download_reports_progress(server, tmp_path):
    seen = []
    path = download_file(
        server.url + "/file.zip",
        tmp_path / "file.zip",
        PAYLOAD_MD5,
        progress=lambda done, total, label: seen.append((done, total, label)),
    )
    assert path.read_bytes() == PAYLOAD
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD), "file.zip")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    assert not (tmp_path / "file.zip.part").exists()


def test_failure_half_way_then_resume(server, tmp_path):
    server.state.cut_after, server.state.cuts_left = 100_000, 1
    dest = tmp_path / "file.zip"
    with pytest.raises(DataError, match=r"failed \(connection closed after 100000 of 256000 bytes\).*resume"):
        download_file(server.url + "/file.zip", dest, PAYLOAD_MD5, retries=0)
    assert not dest.exists()  # nothing half-written under the real name
    assert (tmp_path / "file.zip.part").stat().st_size == 100_000
    download_file(server.url + "/file.zip", dest, PAYLOAD_MD5, retries=0)
    assert server.state.ranges == [None, "bytes=100000-"]
    assert dest.read_bytes() == PAYLOAD and not (tmp_path / "file.zip.part").exists()


def test_retries_resume_within_one_call(server, tmp_path):
    server.state.cut_after, server.state.cuts_left = 50_000, 2
    dest = download_file(
        server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5, retries=2, retry_wait=0
    )
    assert dest.read_bytes() == PAYLOAD
    assert server.state.ranges == [None, "bytes=50000-", "bytes=100000-"]


def test_a_server_ignoring_range_restarts_from_zero(server, tmp_path):
    server.state.honour_range = False
    part = tmp_path / "file.zip.part"
    part.write_bytes(PAYLOAD[:1234])
    dest = download_file(server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5)
    assert server.state.ranges == ["bytes=1234-"]
    assert dest.read_bytes() == PAYLOAD  # not the old prefix followed by the whole file


def test_a_part_longer_than_the_file_restarts(server, tmp_path):
    (tmp_path / "file.zip.part").write_bytes(PAYLOAD + b"extra")
    dest = download_file(server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5, retry_wait=0)
    assert dest.read_bytes() == PAYLOAD


def test_wrong_md5_leaves_nothing_behind(server, tmp_path):
    dest = tmp_path / "file.zip"
    with pytest.raises(DataError, match=r"damaged \(md5 .*expected 0+\); it was deleted"):
        download_file(server.url + "/file.zip", dest, "0" * 32)
    assert list(tmp_path.iterdir()) == []


def test_http_errors_and_unreachable_servers(server, tmp_path):
    with pytest.raises(DataError, match="HTTP 404"):
        download_file(server.url + "/missing.zip", tmp_path / "x.zip", PAYLOAD_MD5)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match="download of y.zip .* failed"):
        download_file(
            f"http://127.0.0.1:{port}/y.zip", tmp_path / "y.zip", PAYLOAD_MD5, retries=1, retry_wait=0
        )
    assert not (tmp_path / "y.zip").exists()


@pytest.mark.parametrize("kind", ["callable", "event"])
def test_cancel_keeps_the_part_for_later(server, tmp_path, kind):
    event = threading.Event()
    progress_calls = []

    def progress(done, total, label):
        progress_calls.append(done)
        if done >= 65536:
            event.set()

    cancel = event if kind == "event" else event.is_set
    with pytest.raises(Cancelled):
        download_file(
            server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5, progress=progress, cancel=cancel
        )
    assert not (tmp_path / "file.zip").exists()
    kept = (tmp_path / "file.zip.part").stat().st_size
    assert 0 < kept < len(PAYLOAD)
    download_file(server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5)
    assert server.state.ranges[-1] == f"bytes={kept}-"


@pytest.fixture
def fake_official(server, tmp_path, tiny_counts, fake_omniglot, monkeypatch):
    """The two official files, tiny, served locally, with their md5s as the official ones."""
    made = tmp_path / "served"
    files = []
    for name, (alphabets, characters) in (
        ("images_background", tiny_counts["images_background"]),
        ("images_evaluation", tiny_counts["images_evaluation"]),
    ):
        data = fake_omniglot(made, name, alphabets=alphabets, characters=characters).read_bytes()
        server.state.files[f"/{name}.zip"] = data
        files.append(
            RemoteFile(f"{name}.zip", f"{server.url}/{name}.zip", hashlib.md5(data).hexdigest(), len(data))
        )
    monkeypatch.setattr(omniglot_download, "OFFICIAL_FILES", tuple(files))
    monkeypatch.delenv("INNERLOOP_DATA", raising=False)
    return server


def test_load_downloads_into_the_cache_then_decodes(fake_official, fresh_cache):
    labels = set()
    data = load_omniglot(download=True, progress=lambda d, t, label: labels.add(label))
    assert data.counts()["background"]["characters"] == 3 and data.counts()["evaluation"]["characters"] == 2
    assert labels == {"images_background.zip", "images_evaluation.zip", "decoding"}
    assert sorted(p.name for p in omniglot_cache_dir().glob("*.zip")) == [
        "images_background.zip",
        "images_evaluation.zip",
    ]
    requests = len(fake_official.state.ranges)
    load_omniglot(download=True)  # present now: nothing fetched again
    assert len(fake_official.state.ranges) == requests


def test_only_the_missing_file_is_downloaded(fake_official, fresh_cache, fake_omniglot, tiny_counts):
    fake_omniglot(omniglot_cache_dir(), "images_background", alphabets=2, characters=3)
    load_omniglot(download=True)
    assert len(fake_official.state.ranges) == 1


def test_without_download_nothing_is_fetched(fake_official, fresh_cache):
    with pytest.raises(DataError, match="no Omniglot found"):
        load_omniglot()
    assert fake_official.state.ranges == []


def test_download_never_replaces_a_named_location(fake_official, fresh_cache, tmp_path):
    with pytest.raises(DataError, match="downloads go to the user cache"):
        load_omniglot(tmp_path, download=True)
    assert fake_official.state.ranges == []


def test_cli_data_download_shows_progress_and_the_result(fake_official, fresh_cache, capsys):
    from engine.cli import main

    assert main(["data", "--download"]) == 0
    out, err = capsys.readouterr()
    assert "images_background.zip" in err and "decoding" in err  # the tqdm bars
    assert "(the user cache)" in out and "2 alphabets" in out
    assert "Decoded 28x28 arrays: cached in" in out


def test_a_download_damaged_on_disk_is_fetched_again(fake_official, fresh_cache):
    zip_path = omniglot_cache_dir() / "images_background.zip"
    load_omniglot(download=True)
    data = zip_path.read_bytes()
    zip_path.write_bytes(data[: len(data) // 2])  # the disk lost half of it
    for entry in (omniglot_cache_dir() / "decoded").iterdir():
        entry.unlink()
    with pytest.raises(DataError, match="truncated"):
        load_omniglot()  # without permission to download, say what is wrong
    requests = len(fake_official.state.ranges)
    assert load_omniglot(download=True).num_characters == 5
    assert zip_path.read_bytes() == data
    assert len(fake_official.state.ranges) == requests + 1


def test_a_complete_part_is_not_fetched_again(server, tmp_path):
    (tmp_path / "file.zip.part").write_bytes(PAYLOAD)
    dest = download_file(server.url + "/file.zip", tmp_path / "file.zip", PAYLOAD_MD5)
    assert dest.read_bytes() == PAYLOAD and server.state.ranges == []
