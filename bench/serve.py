"""`blog serve` latencies: the timings tests no longer assert, measured here instead.

    python bench/serve.py               # 5 runs each (Chromium too, when installed)
    python bench/serve.py --runs 10 --no-browser
    python bench/serve.py --corpus --sizes 1 1000 --saves 10 [--baseline ../main]

1. edit -> reload: a post is edited while a page's long poll waits; seconds until the poll
   answers with the new version (the rebuild included).
2. idle clients: 20 connections that say nothing and one half-sent request are open; seconds
   for an ordinary request to be answered.
3. in the browser: Chromium shows a post, the post is edited; seconds until the page shows the
   new text (the reload included).

Each on a copy of tests/sites/basic in a temporary folder; medians and maxima are printed as
the rows of bench/README.md's table.

`--corpus`: for each size, a site from bench/corpus.py (figures already made) is served by
`blog serve` in its own process; Chromium (Playwright, /usr/bin/chromium) opens one post; then
the post's text is changed and saved (written beside it and renamed over it, as editors save),
and the time from the save to the `load` event of the reloaded page that shows the new text is
taken. The server's own line ("rebuilt in X s") is read too, and the browser's own time for the
reload (Navigation Timing: from the reload to the `load` event). `--baseline DIR` also serves
with the builder of another checkout, in the same run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from corpus import copy_computed, make_site, read_as_kramdown  # noqa: E402

from builder.serve import DevServer  # noqa: E402

POST = "_posts/2019-12-31-cu-nhat.md"
POST_URL = "/hoc-may/2019/12/31/cu-nhat/"
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`blog serve` in its own process; its output lines are collected."""

    def __init__(self, source: Path, checkout: Path | None):
        self.port = free_port()
        path = str(checkout or ROOT)
        code = (f"import sys; sys.path.insert(0, {path!r}); from builder.cli import main; "
                f"sys.argv = ['blog', 'serve', '-s', {str(source)!r}, '--port', '{self.port}']; main()")
        self.process = subprocess.Popen([sys.executable, "-c", code], cwd=source.parent, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(300):
            self.stop()
            raise SystemExit("blog serve did not start:\n" + "".join(self.lines[-20:]))

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)
            if line.startswith("serving "):
                self.ready.set()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def post_url(port: int, slug: str) -> str:
    """The post's URL, as the served sitemap gives it (it depends on the reading mode)."""
    sitemap = urllib.request.urlopen(f"http://127.0.0.1:{port}/sitemap.xml", timeout=30).read().decode()
    loc = next(loc for loc in re.findall(r"<loc>([^<]+)</loc>", sitemap) if f"/{slug}" in loc)
    return f"http://127.0.0.1:{port}" + re.sub(r"^https?://[^/]+", "", loc)


def save(post: Path, text: str) -> None:
    temporary = post.with_name(post.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, post)


def measure(browser, project: Path, saves: int, checkout: Path | None) -> dict[str, list[float]]:
    source = project / "site_src"
    posts = sorted((source / "_posts").glob("*.md"))
    post = posts[len(posts) // 2]
    server = Server(source, checkout)
    try:
        page = browser.new_page()
        page.goto(post_url(server.port, post.stem[11:]), wait_until="load")
        reloaded, rebuilt, loading = [], [], []
        for run in range(saves):
            marker = f"Sửa lần {run} ({'baseline' if checkout else 'blog'})"
            text = re.sub(r"Nay(?: \(Sửa lần [^)]*\)\))? được", f"Nay ({marker}) được",
                          post.read_text(encoding="utf-8"), count=1)
            count = len(server.lines)
            with page.expect_navigation(wait_until="load", timeout=60_000):
                started = time.perf_counter()
                save(post, text)
            reloaded.append(time.perf_counter() - started)
            loading.append(page.evaluate("performance.getEntriesByType('navigation')[0].duration") / 1000)
            if marker not in page.content():
                raise SystemExit(f"the reloaded page does not show the edit: {server.lines[count:]}")
            lines = [line for line in server.lines[count:] if line.startswith("rebuilt in ")]
            rebuilt.append(float(lines[-1].split()[2]) if lines else float("nan"))
            time.sleep(0.3)
        page.close()
        return {"reloaded": reloaded, "rebuilt": rebuilt, "loading": loading}
    finally:
        server.stop()


def corpus_main(args: argparse.Namespace) -> None:
    if not CHROMIUM.exists():
        raise SystemExit(f"{CHROMIUM} is needed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    print(f"save to reloaded page, seconds: median (min–max) of {args.saves} saves\n")
    print("| posts | builder | save → page reloaded | server's rebuild | the browser's reload |")
    print("|---:|---|---:|---:|---:|")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        for size in args.sizes:
            with tempfile.TemporaryDirectory(prefix=f"bench-serve-{size}-") as tmp:
                project = Path(tmp)
                source = make_site(project, size)
                if args.markdown == "kramdown":
                    read_as_kramdown(source)
                copy_computed(project)
                runs = {"blog": None}
                if args.baseline is not None:
                    runs["baseline"] = args.baseline.resolve()
                for name, checkout in runs.items():
                    result = measure(browser, project, args.saves, checkout)
                    cells = []
                    for key in ("reloaded", "rebuilt", "loading"):
                        values = result[key]
                        cells.append(f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})")
                    print(f"| {size} | {name} | {' | '.join(cells)} |", flush=True)
        browser.close()


def row(name: str, values: list[float]) -> str:
    return f"| {name} | {len(values)} | {statistics.median(values):.2f} | {max(values):.2f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--corpus", action="store_true",
                        help="save to reloaded page on bench/corpus.py sites")
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 1000])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--markdown", choices=["python-markdown", "kramdown"], default="python-markdown")
    parser.add_argument("--baseline", type=Path, help="another checkout whose `blog serve` is timed too")
    args = parser.parse_args()
    if args.corpus:
        return corpus_main(args)
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
