"""`blog serve`: a real server on a free port, real files edited, real HTTP requests."""

from __future__ import annotations

import http.client
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from builder.errors import BuildError
from builder.serve import DevServer, _content_type
from tests.helpers import FIXTURES, run_blog, toy_figure

POST = "_posts/2019-12-31-cu-nhat.md"
POST_URL = "/hoc-may/2019/12/31/cu-nhat/"


def start(tmp_path: Path, figures: bool) -> DevServer:
    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    if figures:
        (tmp_path / "figures").mkdir()
        for name in ("mot", "hai"):
            (tmp_path / "figures" / f"{name}.py").write_text(toy_figure(f"/images/{name}.png", name, size=4))
    dev = DevServer(tmp_path / "site_src", port=0, report=lambda line: None)
    dev.start()
    return dev


@pytest.fixture
def server(tmp_path: Path):
    dev = start(tmp_path, figures=False)
    yield dev
    dev.stop()


@pytest.fixture
def figure_server(tmp_path: Path):
    dev = start(tmp_path, figures=True)
    yield dev
    dev.stop()


@pytest.fixture(scope="module")
def reading_server(tmp_path_factory):
    """One server for the tests that only read from it (they change neither the site nor what
    is served)."""
    dev = start(tmp_path_factory.mktemp("serve"), figures=True)
    yield dev
    dev.stop()


def request(dev: DevServer, path: str, method: str = "GET") -> tuple[int, dict, str]:
    host, port = dev.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.request(method, path)  # sent as written: no client-side normalising of ".."
    response = connection.getresponse()
    body = response.read().decode("utf-8", errors="replace")
    connection.close()
    return response.status, dict(response.getheaders()), body


def wait_for_change(dev: DevServer, seen: int, seconds: float = 60) -> None:
    """Until the served version moves on from `seen` (woken by the server, not by polling)."""
    version, _ = dev.live.wait(seen, seconds)
    assert version != seen, "no rebuild happened"


def test_an_edit_reaches_the_open_page(server: DevServer) -> None:
    """The page's long poll answers with the new version once the edit is built (how fast:
    bench/serve.py)."""
    seen = server.live.version
    answer: dict = {}

    def long_poll() -> None:  # what the page's script does
        answer["state"] = json.loads(request(server, f"/__livereload?v={seen}")[2])

    poller = threading.Thread(target=long_poll)
    poller.start()
    post = server.source / POST
    post.write_text(post.read_text(encoding="utf-8").replace("Bài cũ nhất, video:", "Nội dung mới toanh."),
                    encoding="utf-8")
    poller.join(timeout=60)
    assert answer["state"]["version"] > seen and answer["state"]["error"] is None
    status, _, body = request(server, POST_URL)
    assert status == 200 and "Nội dung mới toanh." in body


def test_a_post_edit_rewrites_only_the_pages_that_show_it_in_place(server: DevServer) -> None:
    root = server.live.root
    before = {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    seen = server.live.version
    post = server.source / POST
    edited = post.read_text(encoding="utf-8").replace("Bài cũ nhất, video:", "Đã sửa:")
    post.with_name("luu.tmp").write_text(edited, encoding="utf-8")
    os.replace(post.with_name("luu.tmp"), post)  # saved in one step, as many editors save
    wait_for_change(server, seen)
    assert server.live.root == root  # the same folder, updated in place
    after = {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    changed = {rel for rel in after if after[rel] != before[rel]}
    assert "hoc-may/2019/12/31/cu-nhat/index.html" in changed
    assert changed <= {"hoc-may/2019/12/31/cu-nhat/index.html", "index.html", "category/hoc-may/index.html",
                       "feed.xml"}, changed
    assert server.live.result.written == len(changed)
    assert "Đã sửa:" in request(server, POST_URL)[2]


def test_saves_made_while_a_post_is_broken_are_served_once_it_is_fixed(server: DevServer,
                                                                        tmp_path: Path) -> None:
    """A good save that arrives together with a broken one is not lost: fixing the broken
    post (the only file saved then) brings both in."""
    from tests.test_incremental import clean_build, tree

    broken = server.source / POST
    good = broken.read_text(encoding="utf-8")
    other = server.source / "_posts/2020-01-15-bai-dau-tien.md"
    renamed = other.read_text(encoding="utf-8").replace("title: Bài đầu tiên",
                                                        "title: Bài đầu tiên, sửa trong lúc hỏng")
    seen = server.live.version
    other.write_text(renamed, encoding="utf-8")  # both within one save window
    broken.write_text(good.replace("title: Bài cũ nhất", "title: [hỏng"), encoding="utf-8")
    wait_for_change(server, seen)
    started = time.monotonic()
    while server.live.error is None:  # the batch (or its second half) fails
        assert time.monotonic() - started < 15, "the broken post was not reported"
        time.sleep(0.05)
    seen = server.live.version
    broken.write_text(good, encoding="utf-8")
    wait_for_change(server, seen)
    started = time.monotonic()
    while server.live.error is not None or "sửa trong lúc hỏng" not in request(server, "/")[2]:
        assert time.monotonic() - started < 15, server.live.error
        time.sleep(0.05)
    assert tree(server.live.root) == clean_build(server.source, tmp_path / "clean")


def test_reload_script_is_served_but_never_written(reading_server: DevServer) -> None:
    server = reading_server
    status, headers, body = request(server, "/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/__livereload?v=" in body
    for page in server.live.root.rglob("*.html"):
        assert "__livereload" not in page.read_text(encoding="utf-8")
    assert not (server.source.parent / "_site").exists()  # serve never writes _site/


def test_a_figure_edit_remakes_that_figure_only(figure_server: DevServer) -> None:
    server = figure_server
    figures = server.live.result.figures
    assert (figures.ran, figures.cached) == (2, 0)
    seen = server.live.version
    with (server.source.parent / "figures/hai.py").open("a") as f:
        f.write("\n# sửa\n")
    wait_for_change(server, seen, seconds=30)
    figures = server.live.result.figures
    assert (figures.ran, figures.cached, figures.failed) == (1, 1, 0)
    assert request(server, "/images/hai.png")[0] == 200


@pytest.mark.parametrize("path", [
    "/../_config.yml", "/../../../../etc/passwd", "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/assets/..%2f..%2f..%2fetc%2fpasswd", "/assets/%2e%2e/%2e%2e/_config.yml", "/.%2e/.%2e/etc/passwd",
    "/images/..\\..\\etc\\passwd", "/%00/etc/passwd",
])
def test_nothing_outside_the_output_is_served(reading_server: DevServer, path: str) -> None:
    server = reading_server
    status, _, body = request(server, path)
    assert status in (403, 404)
    assert "root:" not in body and "title:" not in body


def test_a_symlink_out_of_the_output_is_refused(server: DevServer, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("bí mật")
    os.symlink(secret, server.live.root / "link.txt")
    os.symlink(tmp_path, server.live.root / "linkdir")
    assert request(server, "/link.txt")[0] == 403
    assert request(server, "/linkdir/secret.txt")[0] == 403


def test_a_broken_edit_shows_an_overlay_and_keeps_the_old_site(server: DevServer) -> None:
    post = server.source / POST
    good = post.read_text(encoding="utf-8")
    seen = server.live.version
    post.write_text(good.replace("title: Bài cũ nhất", "title: [hỏng"), encoding="utf-8")
    wait_for_change(server, seen)
    assert f"{post}:2: invalid front matter: a [ or {{ opened on this line" in server.live.error
    status, _, body = request(server, POST_URL)
    assert status == 200 and "Bài cũ nhất, video:" in body  # the last good page
    assert 'id="blog-serve-error"' in body and "invalid front matter" in body
    seen = server.live.version
    post.write_text(good, encoding="utf-8")
    wait_for_change(server, seen)
    assert server.live.error is None
    assert 'id="blog-serve-error"' not in request(server, POST_URL)[2]


def test_a_fault_of_the_builder_on_a_save_keeps_the_server_watching(server: DevServer, monkeypatch) -> None:
    """A date that does not exist is one line with file and line; an unexpected exception in
    the builder is an overlay too, and the next save is still seen and built."""
    from builder.preview import Preview

    post = server.source / POST
    good = post.read_text(encoding="utf-8")
    seen = server.live.version
    impossible = good.replace("title: Bài cũ nhất", "title: Bài cũ nhất\ndate: 2024-02-30")
    post.write_text(impossible, encoding="utf-8")
    wait_for_change(server, seen)
    assert f"{post}:3: invalid front matter: 2024-02-30 is not a date that exists" in server.live.error

    def broken(self, *args, **kwargs):
        raise RuntimeError("a fault of the builder")

    monkeypatch.setattr(Preview, "update", broken)
    seen = server.live.version
    post.write_text(good.replace("Bài cũ nhất", "Bài cũ nhất, lần hai"), encoding="utf-8")
    wait_for_change(server, seen)
    assert "the builder failed: RuntimeError: a fault of the builder" in (server.live.error or "")
    monkeypatch.undo()
    seen = server.live.version
    post.write_text(good.replace("Bài cũ nhất", "Bài cũ nhất, đã sửa"), encoding="utf-8")
    wait_for_change(server, seen)
    assert server.live.error is None and "Bài cũ nhất, đã sửa" in request(server, POST_URL)[2]


def test_a_destination_inside_the_source_is_not_taken_for_an_edit(tmp_path: Path) -> None:
    """`-d site_src/_preview` (a folder the build ignores): one save, one rebuild, not a
    second one set off by the build's own writes."""
    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    source = tmp_path / "site_src"
    dev = DevServer(source, port=0, overrides={"destination": source / "_preview"}, report=lambda line: None)
    dev.start()
    try:
        post = source / POST
        seen = dev.live.version
        post.write_text(post.read_text(encoding="utf-8").replace("Bài cũ nhất", "Bài cũ nhất, sửa"),
                        encoding="utf-8")
        wait_for_change(dev, seen)
        assert "Bài cũ nhất, sửa" in (source / "_preview" / POST_URL.strip("/") / "index.html").read_text()
        settled = dev.live.version
        version, _ = dev.live.wait(settled, 3)  # nothing more should come
        assert version == settled and dev.builds == 2
    finally:
        dev.stop()


def test_missing_pages_get_the_404_page_and_head_works(reading_server: DevServer) -> None:
    server = reading_server
    status, headers, body = request(server, "/khong-co/")
    assert status == 404 and "Không tìm thấy trang" in body
    status, headers, body = request(server, "/", method="HEAD")
    assert status == 200 and body == "" and int(headers["Content-Length"]) > 1000
    assert request(server, "/category/hoc-may")[0] == 302  # a folder without its slash


def test_content_types(reading_server: DevServer) -> None:
    server = reading_server
    expected = {"/feed.xml": "application/xml; charset=utf-8",
                "/figures.json": "application/json; charset=utf-8",
                "/assets/theme/favicon.svg": "image/svg+xml; charset=utf-8",
                "/assets/theme/theme.css": "text/css; charset=utf-8", "/images/mot.png": "image/png"}
    for path, content_type in expected.items():
        status, headers, _ = request(server, path)
        assert (status, headers["Content-Type"]) == (200, content_type), path
    assert _content_type(Path("a.webp")) == "image/webp" and _content_type(Path("a.avif")) == "image/avif"


def test_a_reload_revalidates_files_and_refetches_pages(reading_server: DevServer) -> None:
    server = reading_server
    status, headers, _ = request(server, "/assets/theme/theme.css")
    assert status == 200 and headers["Cache-Control"] == "no-cache" and headers["ETag"]
    host, port = server.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=10)
    connection.request("GET", "/assets/theme/theme.css", headers={"If-None-Match": headers["ETag"]})
    response = connection.getresponse()
    assert (response.status, response.read()) == (304, b"")
    connection.close()
    status, headers, _ = request(server, POST_URL)  # a page carries the reload script: never kept
    assert status == 200 and headers["Cache-Control"] == "no-store" and "ETag" not in headers


def test_a_port_in_use_is_a_clear_message(reading_server: DevServer) -> None:
    server = reading_server
    port = server.httpd.server_address[1]
    with pytest.raises(BuildError, match=f"port {port} on 127.0.0.1 is already in use"):
        DevServer(server.source, port=port)
    result = run_blog("serve", "-s", str(server.source), "--port", str(port))
    assert result.exit_code == 1 and "already in use" in result.stderr


def test_baseurl_is_served_under_its_path(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    dev = DevServer(tmp_path / "site_src", port=0, overrides={"baseurl": "/blog"}, report=lambda line: None)
    dev.start()
    try:
        status, headers, _ = request(dev, "/")
        assert status == 302 and headers["Location"] == "/blog/"
        assert request(dev, "/blog/")[0] == 200
        assert request(dev, "/blog" + POST_URL)[0] == 200
        assert request(dev, POST_URL)[0] == 404
        assert dev.address.endswith("/blog/")
    finally:
        dev.stop()


def test_range_requests(reading_server: DevServer) -> None:
    server = reading_server
    whole = (server.live.root / "images/mot.png").read_bytes()
    host, port = server.httpd.server_address[:2]
    for header, status, expected in [("bytes=0-9", 206, whole[:10]), ("bytes=10-", 206, whole[10:]),
                                     ("bytes=-5", 206, whole[-5:]), ("bytes=9999999-", 416, b"")]:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        connection.request("GET", "/images/mot.png", headers={"Range": header})
        response = connection.getresponse()
        assert (response.status, response.read()) == (status, expected), header
        connection.close()


def test_a_thousand_requests_fifty_at_a_time(reading_server: DevServer) -> None:
    server = reading_server
    from concurrent.futures import ThreadPoolExecutor

    paths = ["/", POST_URL, "/feed.xml", "/assets/theme/theme.css", "/about.html"] * 200
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda path: request(server, path)[0], paths))
    assert len(statuses) == 1000 and set(statuses) == {200}


def test_idle_and_slow_clients_do_not_block_others(reading_server: DevServer) -> None:
    server = reading_server
    import socket

    host, port = server.httpd.server_address[:2]
    idle = [socket.create_connection((host, port)) for _ in range(20)]  # connect, say nothing
    slow = socket.create_connection((host, port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")  # half a request, never finished
    try:  # a server that waited on them would not answer before they time out (30 s): bench/serve.py
        assert request(server, POST_URL)[0] == 200
    finally:
        for sock in [*idle, slow]:
            sock.close()


def test_no_request_during_rebuilds_sees_a_half_built_site(server: DevServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    post = server.source / POST
    original = post.read_text(encoding="utf-8")
    stop = threading.Event()
    seen: list[tuple[int, str]] = []

    def hammer() -> None:
        while not stop.is_set():
            status, _, body = request(server, POST_URL)
            seen.append((status, body))

    with ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(4):
            pool.submit(hammer)
        for i in range(5):
            version = server.live.version
            post.write_text(original.replace("Bài cũ nhất, video:", f"Phiên bản {i}."), encoding="utf-8")
            wait_for_change(server, version)
        stop.set()
    assert len(seen) > 20
    for status, body in seen:
        assert status == 200 and body.rstrip().endswith("</html>")
        assert body.count("<article") == 1 and "post-body" in body


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_stop_signal_removes_the_temporary_folder(tmp_path: Path, signal_name: str) -> None:
    import signal
    import subprocess
    import sys

    from tests.helpers import ROOT

    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONUNBUFFERED": "1"}
    # Started as from a terminal, whatever started the tests: a shell's background job (`&` in a
    # script) ignores SIGINT, and a Python started with SIGINT ignored keeps ignoring it.
    process = subprocess.Popen([sys.executable, "-m", "builder", "serve", "-s", str(tmp_path / "site_src"),
                                "--port", "0"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = [process.stdout.readline()]  # "built in ... s", then "serving ..."
        while lines[-1] and not lines[-1].startswith("serving "):
            lines.append(process.stdout.readline())
        assert lines[-1].startswith("serving http://127.0.0.1:"), lines
        assert [p.name[:11] for p in temp.iterdir()] == ["blog-serve-"]
        process.send_signal(getattr(signal, signal_name))
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "stopping" in out and "Traceback" not in err
    assert list(temp.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / ".cache/outputs").iterdir()) == ["build.lock"]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[int, str]] = []
        self.arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.arrived:
            self.lines.append((record.levelno, record.getMessage()))
            self.arrived.notify_all()

    def wait_for(self, enough, seconds: float = 60) -> None:
        """Until `enough(lines)` holds (woken by each record the server logs, not by polling)."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: enough(self.lines), timeout=seconds), self.lines


@pytest.fixture
def serve_log():
    logger = logging.getLogger("builder.serve")
    records, level = _Records(), logger.level
    logger.addHandler(records)
    logger.setLevel(logging.DEBUG)  # what -v does
    yield records
    logger.removeHandler(records)
    logger.setLevel(level)


def test_a_client_that_goes_away_is_one_line_under_verbose(tmp_path: Path, serve_log, capfd) -> None:
    import socket
    import struct

    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    (tmp_path / "site_src/big.bin").write_bytes(os.urandom(8 * 1024 * 1024))
    dev = DevServer(tmp_path / "site_src", port=0, report=lambda line: None)
    dev.start()
    try:
        for _ in range(3):  # a tab closed mid-download: the connection is reset under the server
            sock = socket.create_connection(dev.httpd.server_address[:2])
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            time.sleep(0.05)
            sock.close()
        serve_log.wait_for(lambda lines: len([m for _, m in lines if "went away" in m]) >= 3)
        assert request(dev, "/")[0] == 200  # and the server carries on
    finally:
        dev.stop()
    gone = [(level, m) for level, m in serve_log.lines if "went away" in m]
    assert all(level == logging.DEBUG for level, _ in gone)  # shown only under -v
    assert any(name in gone[0][1] for name in ("BrokenPipeError", "ConnectionResetError"))
    assert not [m for level, m in serve_log.lines if level >= logging.WARNING]
    assert "Traceback" not in capfd.readouterr().err


def test_any_other_request_failure_is_one_line_not_a_traceback(server: DevServer, serve_log, capfd,
                                                               monkeypatch) -> None:
    from builder import serve

    def broken(self, head: bool) -> None:
        raise RuntimeError("hỏng")

    monkeypatch.setattr(serve._SiteHandler, "_respond", broken)
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        request(server, "/")
    serve_log.wait_for(lambda lines: any(level == logging.ERROR for level, _ in lines))
    errors = [m for level, m in serve_log.lines if level == logging.ERROR]
    assert errors == ["a request from 127.0.0.1 failed: RuntimeError: hỏng"]
    assert any("Traceback" in m for level, m in serve_log.lines if level == logging.DEBUG)  # -v only
    assert "Traceback" not in capfd.readouterr().err


def test_when_the_first_build_fails_the_overlay_says_there_is_no_earlier_build(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    post = tmp_path / "site_src" / POST
    good = post.read_text(encoding="utf-8")
    post.write_text(good.replace("title: Bài cũ nhất", "title: [hỏng"), encoding="utf-8")
    dev = DevServer(tmp_path / "site_src", port=0, report=lambda line: None)
    dev.start()
    try:
        status, _, body = request(dev, POST_URL)
        assert status == 500 and 'id="blog-serve-error"' in body and "invalid front matter" in body
        assert "chưa có bản dựng nào trước đó để hiển thị" in body and "bản dựng tốt gần nhất" not in body
        assert body.startswith("<!doctype html>") and '<html lang="vi">' in body
        seen = dev.live.version
        post.write_text(good, encoding="utf-8")
        wait_for_change(dev, seen)
        status, _, body = request(dev, POST_URL)
        assert status == 200 and 'id="blog-serve-error"' not in body
        seen = dev.live.version
        post.write_text(good.replace("title: Bài cũ nhất", "title: [hỏng"), encoding="utf-8")
        wait_for_change(dev, seen)
        body = request(dev, POST_URL)[2]
        assert "đang hiển thị bản dựng tốt gần nhất" in body and "Bài cũ nhất, video:" in body
    finally:
        dev.stop()
    assert not dev.workdir.exists()
    # One lock file, not one per rebuild; no record of a temporary folder.
    assert sorted(p.name for p in (tmp_path / ".cache/outputs").iterdir()) == ["build.lock"]
