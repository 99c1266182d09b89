"""Lighthouse (mobile, the default preset) on the seed post, served locally from _site/.

    python bench/lighthouse.py            # after `make site`

Installs lighthouse 12.2.3 (the last release that runs on Node 20) into .cache/lighthouse once,
serves _site/ on a free local port, runs Lighthouse with Debian's Chromium and prints the four
category scores plus the metrics behind performance. Results go into bench/README.md by hand.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from builder.serve import MIME_TYPES  # noqa: E402

PREFIX = ROOT / ".cache" / "lighthouse"
POST = "/2018/06/28/cnn-co-gi-do-sai-sai/"
FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
         "--disable-background-networking --disable-component-update --disable-sync")


class Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}  # the dev server's types

    def log_message(self, *args) -> None:
        pass


def main() -> None:
    binary = PREFIX / "node_modules" / ".bin" / "lighthouse"
    if not binary.exists():
        install = ["npm", "i", "-E", "--silent", "--prefix", str(PREFIX), "lighthouse@12.2.3"]
        subprocess.run(install, check=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(ROOT / "_site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}{POST}"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, "CHROME_PATH": "/usr/bin/chromium"}
        subprocess.run([str(binary), url, "--quiet", "--output=json", f"--output-path={report}",
                        f"--chrome-flags={FLAGS}"], check=True, env=env)
        data = json.loads(report.read_text())
    print(f"Lighthouse {data['lighthouseVersion']}, {data['configSettings']['formFactor']}, {POST}")
    for key, category in data["categories"].items():
        print(f"| {key} | {category['score']:.2f} |")
    for audit in ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
                  "cumulative-layout-shift", "speed-index", "total-byte-weight"):
        print(f"| {audit} | {data['audits'][audit]['displayValue']} |")
    failing = [(a["id"], a["score"]) for a in data["audits"].values()
               if a.get("score") is not None and a["score"] < 1 and a.get("scoreDisplayMode") == "binary"]
    print("binary audits not passed:", failing or "none")
    sys.exit(0)


if __name__ == "__main__":
    main()
