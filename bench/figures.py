"""Time `blog figures --force` per figure, on the CPU and on a CUDA GPU when one is present.

    python bench/figures.py               # every device this machine has
    python bench/figures.py --device cpu  # one device
    python bench/figures.py --names a b   # a subset

Runs in a temporary copy of site_src/ and figures/ (the project's own cache is untouched) and
prints a Markdown table: per figure the seconds and peak memory from the manifest, and the
whole command's wall time, start-up (Python, torch import, CUDA context) included.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def devices() -> list[str]:
    probe = "import torch; print('cuda' if torch.cuda.is_available() else '')"
    found = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True).stdout.strip()
    return ["cpu"] + ([found] if found else [])


def run(device: str, names: list[str]) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(ROOT / "site_src", project / "site_src")
        shutil.copytree(ROOT / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__"))
        command = [sys.executable, "-m", "builder", "figures", *names, "-s", str(project / "site_src"),
                   "--force", "--device", device]
        started = time.perf_counter()
        subprocess.run(command, check=True, cwd=ROOT)
        wall = time.perf_counter() - started
        manifest = json.loads((project / ".cache/figures/manifest.json").read_text())
    return wall, manifest["figures"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--device", action="append", help="cpu or cuda (default: all present)")
    parser.add_argument("--names", nargs="*", default=[], help="figures to time (default: all)")
    args = parser.parse_args()
    print(f"machine: {platform.node()} · Python {platform.python_version()}\n")
    for device in args.device or devices():
        wall, entries = run(device, args.names)
        print(f"### {entries[0]['device'] if entries else device}\n")
        print("| figure | seconds | peak memory (MB) |\n|---|---:|---:|")
        for entry in entries:
            print(f"| {entry['name']} | {entry['seconds']:.2f} | {entry['peak_memory_mb']:.0f} |")
        total = sum(e["seconds"] for e in entries)
        print(f"| **sum of figures** | **{total:.1f}** | |")
        print(f"| **whole command, start-up included** | **{wall:.1f}** | |\n")


if __name__ == "__main__":
    main()
