"""`blog serve` latencies: the timings tests no longer assert, measured here instead.

    python bench/serve.py               # 5 runs each (Chromium too, when installed)
    python bench/serve.py --runs 10 --no-browser

1. edit -> reload: a post is edited while a page's long poll waits; seconds until the poll
   answers with the new version (the rebuild included).
2. idle clients: 20 connections that say nothing and one half-sent request are open; seconds
   for an ordinary request to be answered.
3. in the browser: Chromium shows a post, the post is edited; seconds until the page shows the
   new text (the reload included).

Each on a copy of tests/sites/basic in a temporary folder; medians and maxima are printed as
the rows of bench/README.md's table.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from builder.serve import DevServer  # noqa: E402

POST = "_posts/2019-12-31-cu-nhat.md"
POST_URL = "/hoc-may/2019/12/31/cu-nhat/"
CHROMIUM = Path("/usr/bin/chromium")


def started_server(folder: Path) -> DevServer:
    shutil.copytree(ROOT / "tests/sites/basic", folder / "site_src")
    dev = DevServer(folder / "site_src", port=0, report=lambda line: None)
    dev.start()
    return dev


def get(dev: DevServer, path: str, timeout: float = 60) -> tuple[int, str]:
    host, port = dev.httpd.server_address[:2]
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode("utf-8", errors="replace")
    connection.close()
    return response.status, body


def edit(dev: DevServer, text: str) -> None:
    post = dev.source / POST
    text = post.read_text(encoding="utf-8").replace("Bài cũ nhất, video:", text, 1)
    post.write_text(text, encoding="utf-8")


def edit_to_reload(dev: DevServer, run: int) -> float:
    seen = dev.live.version
    answered: dict[str, float] = {}

    def long_poll() -> None:
        json.loads(get(dev, f"/__livereload?v={seen}")[1])
        answered["at"] = time.perf_counter()

    poller = threading.Thread(target=long_poll)
    poller.start()
    time.sleep(0.2)  # the poll is waiting before the edit
    edited_at = time.perf_counter()
    edit(dev, f"Sửa lần {run}:")
    poller.join(timeout=60)
    (dev.source / POST).write_text((ROOT / "tests/sites/basic" / POST).read_text(encoding="utf-8"),
                                   encoding="utf-8")
    dev.live.wait(dev.live.version, 5)  # let the restoring rebuild pass
    time.sleep(0.5)
    return answered["at"] - edited_at


def with_idle_clients(dev: DevServer) -> float:
    host, port = dev.httpd.server_address[:2]
    idle = [socket.create_connection((host, port)) for _ in range(20)]
    slow = socket.create_connection((host, port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    try:
        started = time.perf_counter()
        assert get(dev, POST_URL)[0] == 200
        return time.perf_counter() - started
    finally:
        for sock in [*idle, slow]:
            sock.close()


def in_the_browser(dev: DevServer, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    args = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page()
        page.goto(dev.address + POST_URL.lstrip("/"))
        for run in range(runs):
            text = f"Đã sửa trong lúc xem {run}."
            started = time.perf_counter()
            edit(dev, text)
            shown = f"document.querySelector('.post-body p').textContent === {json.dumps(text)}"
            page.wait_for_function(shown, timeout=60000)
            seconds.append(time.perf_counter() - started)
            (dev.source / POST).write_text((ROOT / "tests/sites/basic" / POST).read_text(encoding="utf-8"),
                                           encoding="utf-8")
            page.wait_for_function("document.querySelector('.post-body p').textContent === "
                                   "'Bài cũ nhất, video:'", timeout=60000)
        browser.close()
    return seconds


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {len(values)} | {statistics.median(values):.2f} | {max(values):.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        dev = started_server(Path(tmp))
        try:
            reloads = [edit_to_reload(dev, run) for run in range(args.runs)]
            idle = [with_idle_clients(dev) for _ in range(args.runs)]
            browser = in_the_browser(dev, args.runs) if CHROMIUM.exists() and not args.no_browser else []
        finally:
            dev.stop()
    print("| measurement | runs | median s | max s |\n|---|---|---|---|")
    print(row("edit -> the long poll answers (rebuild included)", reloads))
    print(row("a request while 20 idle and 1 half-sent connections are open", idle))
    if browser:
        print(row("edit -> Chromium shows the new text (rebuild and reload included)", browser))


if __name__ == "__main__":
    main()
