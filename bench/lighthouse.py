"""Lighthouse (mobile, the default preset) on a built page, served locally.

    python bench/lighthouse.py                       # the seed post in _site/, after `make site`
    python bench/lighthouse.py --site OUT --path /2024/05/01/toi-uu-va-hoc-may/ --gzip

Installs lighthouse 12.2.3 into .cache/lighthouse once (with the npm that set-up put into
.venv, else the one on PATH), serves the site on a free local port (`--gzip`: compressing
HTML, CSS, JS and XML as GitHub Pages and other hosts do), runs Lighthouse with Debian's
Chromium and prints the four category scores plus the metrics behind performance. Results go
into bench/README.md by hand.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from builder.serve import MIME_TYPES, TEXT_TYPES  # noqa: E402

PREFIX = ROOT / ".cache" / "lighthouse"
POST = "/2018/06/28/cnn-co-gi-do-sai-sai/"
FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync")


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}  # the dev server's types
    compress = False

    def log_message(self, *args) -> None:
        pass

    def send_head(self):
        """As SimpleHTTPRequestHandler, but text sent gzip-compressed when asked to (and accepted)."""
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?")[0].endswith("/"):
                return super().send_head()  # the redirect to the folder's URL
            path = path / "index.html"
        kind = self.guess_type(str(path))
        wants = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.compress and wants and path.is_file() and kind.startswith(TEXT_TYPES)):
            return super().send_head()
        body = gzip.compress(path.read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return _Bytes(body)


class _Bytes:
    def __init__(self, data: bytes):
        self.data = data

    def read(self, *args) -> bytes:
        data, self.data = self.data, b""
        return data

    def close(self) -> None:
        pass


def _npm() -> str:
    venv = ROOT / ".venv" / "bin" / "npm"
    return str(venv) if venv.exists() else shutil.which("npm") or "npm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_site", help="built site (default _site/)")
    parser.add_argument("--path", default=POST, help=f"page to measure (default {POST})")
    parser.add_argument("--gzip", action="store_true", help="compress text responses, as real hosts do")
    args = parser.parse_args()
    binary = PREFIX / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        install = [_npm(), "i", "-E", "--silent", "--no-audit", "--no-fund", "--prefix", str(PREFIX),
                   "lighthouse@12.2.3"]
        subprocess.run(install, check=True)
    handler = type("Served", (Handler,), {"compress": args.gzip})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(args.site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}{args.path}"
    node = Path(_npm()).with_name("node")
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, "CHROME_PATH": "/usr/bin/chromium"}
        command = [str(binary), url, "--quiet", "--output=json", f"--output-path={report}",
                   f"--chrome-flags={FLAGS}"]
        if node.exists():  # the set-up's Node.js rather than whatever is on PATH
            command = [str(node), str(binary.resolve()), *command[1:]]
        subprocess.run(command, check=True, env=env)
        data = json.loads(report.read_text())
        if os.environ.get("LIGHTHOUSE_REPORT"):
            shutil.copy(report, os.environ["LIGHTHOUSE_REPORT"])
    print(f"Lighthouse {data['lighthouseVersion']}, {data['configSettings']['formFactor']}, {args.path}"
          f"{' (gzip)' if args.gzip else ''}")
    for key, category in data["categories"].items():
        print(f"| {key} | {category['score']:.2f} |")
    for audit in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                  "cumulative-layout-shift", "speed-index", "total-byte-weight", "dom-size",
                  "mainthread-work-breakdown"):
        print(f"| {audit} | {data['audits'][audit].get('displayValue', '')} |")
    breakdown = data["audits"]["mainthread-work-breakdown"].get("details", {}).get("items", [])
    print("main thread:", ", ".join(f"{item['groupLabel']} {item['duration']:.0f} ms" for item in breakdown))
    failing = [(a["id"], a["score"]) for a in data["audits"].values()
               if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"]
    print("binary audits not passed:", failing or "none")
    sys.exit(0)


if __name__ == "__main__":
    main()
