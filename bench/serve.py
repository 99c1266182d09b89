"""`blog serve`: from saving a post to the reloaded page, in a real browser.

    python bench/serve.py                       # 1 and 1000 posts, 10 saves each
    python bench/serve.py --sizes 1000 --saves 20 --baseline ../main

For each size, a site from bench/corpus.py (figures already made) is served by `blog serve`
in its own process; Chromium (Playwright, /usr/bin/chromium) opens one post; then the post's
text is changed and saved (written beside it and renamed over it, as editors save), and the
time from the save to the `load` event of the reloaded page that shows the new text is taken.
The server's own line ("rebuilt in X s") is read too, and the browser's own time for the
reload (Navigation Timing: from the reload to the `load` event). `--baseline DIR` also serves with the
builder of another checkout, in the same run. Needs Chromium; prints a Markdown table.
"""

from __future__ import annotations

import argparse
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

sys.path.insert(0, str(Path(__file__).parent))
from corpus import make_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 1000])
    parser.add_argument("--saves", type=int, default=10)
    parser.add_argument("--markdown", choices=["python-markdown", "kramdown"], default="python-markdown")
    parser.add_argument("--baseline", type=Path, help="another checkout whose `blog serve` is timed too")
    args = parser.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is needed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    print(f"save to reloaded page, seconds: median (min–max) of {args.saves} saves\n")
    print("| posts | builder | save → page reloaded | server's rebuild | the browser's reload |")
    print("|---:|---|---:|---:|---:|")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for size in args.sizes:
            with tempfile.TemporaryDirectory(prefix=f"bench-serve-{size}-") as tmp:
                project = Path(tmp)
                source = make_site(project, size)
                if args.markdown == "kramdown":
                    with (source / "_config.yml").open("a", encoding="utf-8") as config:
                        config.write("\nmarkdown: kramdown\n")
                for cache in ("figures", "images", "math"):
                    if (ROOT / ".cache" / cache).exists():
                        shutil.copytree(ROOT / ".cache" / cache, project / ".cache" / cache)
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


if __name__ == "__main__":
    main()
