"""Time `blog figures --force` per figure, on the CPU and on a CUDA GPU when one is present.

    python bench/figures.py                      # every device this machine has
    python bench/figures.py --device cpu         # one device
    python bench/figures.py --names a b          # a subset
    python bench/figures.py --baseline main      # also time the figures of another commit, same run
    python bench/figures.py --verify             # then `blog figures --verify` on each device

Runs in a temporary copy of site_src/ and figures/ (the project's own cache is untouched) and
prints Markdown tables: per figure the wall seconds, the CPU seconds (all threads) and peak
memory from the manifest, and for the whole command its wall time, the CPU time of all its
processes, and the start-up (Python, torch import, CUDA context) left when the figures' own
seconds are taken away. CPU seconds tell work from waiting when other processes share the
cores. With --baseline, the other commit's builder and figures run first in the same
invocation, under the same load, and a ratio table follows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
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


def import_seconds() -> float:
    """How long `import torch, torchvision, matplotlib` takes in a fresh process here."""
    code = "import time; t = time.perf_counter(); import torch, torchvision, matplotlib; " \
           "print(time.perf_counter() - t)"
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout)


def checkout(revision: str, into: Path) -> Path:
    """The builder and figures of another commit, unpacked (nothing in the work tree changes)."""
    archive = subprocess.run(["git", "archive", revision, "builder", "figures", "site_src"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run(device: str, names: list[str], tree: Path = ROOT, verify: bool = False) -> dict:
    """`blog figures --force` (and optionally `--verify`) with `tree`'s builder on `tree`'s figures."""
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        shutil.copytree(tree / "site_src", project / "site_src")
        shutil.copytree(tree / "figures", project / "figures", ignore=shutil.ignore_patterns("__pycache__"))
        command = [sys.executable, "-m", "builder", "figures", *names, "-s", str(project / "site_src"),
                   "--device", device]
        env = {"PYTHONPATH": str(tree)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run([*command, "--force"], check=True, cwd=tree, env={**os.environ, **env})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        manifest = json.loads((project / ".cache/figures/manifest.json").read_text())
        verified = None
        if verify:
            done = subprocess.run([*command, "--verify"], cwd=tree, env={**os.environ, **env},
                                  capture_output=True, text=True)
            verified = done.stdout.strip()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "figures": manifest["figures"], "verify": verified}


def table(result: dict) -> str:
    entries = result["figures"]
    lines = ["| figure | seconds | CPU seconds | peak memory (MB) |", "|---|---:|---:|---:|"]
    for e in entries:
        cpu = f"{e['cpu_seconds']:.2f}" if "cpu_seconds" in e else "–"
        lines.append(f"| {e['name']} | {e['seconds']:.2f} | {cpu} | {e['peak_memory_mb']:.0f} |")
    total = sum(e["seconds"] for e in entries)
    lines.append(f"| **sum of figures** | **{total:.1f}** | | |")
    lines.append(f"| **whole command** | **{result['wall']:.1f}** | **{result['cpu']:.1f}** | |")
    lines.append(f"| start-up and the rest (whole − figures) | {result['wall'] - total:.1f} | | |")
    return "\n".join(lines)


def ratios(old: dict, new: dict) -> str:
    before = {e["name"]: e for e in old["figures"]}
    lines = ["| figure | before (s) | after (s) | before ÷ after |", "|---|---:|---:|---:|"]
    for e in new["figures"]:
        if e["name"] in before:
            b = before[e["name"]]["seconds"]
            lines.append(f"| {e['name']} | {b:.2f} | {e['seconds']:.2f} | {b / e['seconds']:.1f}× |")
    lines.append(f"| **whole command, wall** | **{old['wall']:.1f}** | **{new['wall']:.1f}** | "
                 f"**{old['wall'] / new['wall']:.1f}×** |")
    lines.append(f"| **whole command, CPU time** | **{old['cpu']:.1f}** | **{new['cpu']:.1f}** | "
                 f"**{old['cpu'] / new['cpu']:.1f}×** |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--device", action="append", help="cpu or cuda (default: all present)")
    parser.add_argument("--names", nargs="*", default=[], help="figures to time (default: all)")
    parser.add_argument("--baseline", help="a git revision whose figures to time first, for a ratio")
    parser.add_argument("--verify", action="store_true", help="run `blog figures --verify` after each")
    args = parser.parse_args()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3]) if Path("/proc/loadavg").exists() else "?"
    print(f"machine: {platform.node()} · Python {platform.python_version()} · load average {load} · "
          f"import torch+torchvision+matplotlib {import_seconds():.1f} s\n")
    for device in args.device or devices():
        old = None
        if args.baseline:
            with tempfile.TemporaryDirectory() as tmp:
                old = run(device, args.names, checkout(args.baseline, Path(tmp)))
            print(f"### {args.baseline}, {old['figures'][0]['device'] if old['figures'] else device}\n")
            print(table(old) + "\n")
        new = run(device, args.names, verify=args.verify)
        print(f"### this tree, {new['figures'][0]['device'] if new['figures'] else device}\n")
        print(table(new) + "\n")
        if old:
            print(f"### {args.baseline} ÷ this tree ({device}, same run)\n\n{ratios(old, new)}\n")
        if new["verify"]:
            print(f"`blog figures --verify` on {device}:\n\n```\n{new['verify']}\n```\n")


if __name__ == "__main__":
    main()
