"""One post from scratch: `blog build` of a one-post site, whole process, wall and CPU time.

    python bench/one_post.py                          # this checkout, 7 runs
    python bench/one_post.py --baseline ../main       # and another checkout, interleaved
    python bench/one_post.py --no-bytecode            # as with PYTHONDONTWRITEBYTECODE=1

The site is bench/corpus.py's `make_site(path, 1)` (the seed article, with math) with the
project's figures and image variants copied into its `.cache/`. Each checkout builds its own
copy. Before every timed run `_site/`, `.cache/render` and `.cache/outputs` are removed, as
bench/site.py does for "from scratch"; kept, as there: the figures (with their scans record),
the image variants (with the SVGs' sizes) and the typeset formulas, which are records of
computed results, and the tool's own compiled code: Python's `__pycache__` and the theme's
compiled templates (`builder/theme/__pycache__`), which depend on the installed builder
alone. One untimed build per checkout first fills what the checkout keys by its own code
(image variants, formulas, compiled code). Runs of the checkouts alternate, so both see the
same machine load. Times are medians (and ranges) of whole processes; CPU is user + system
of the process and its children.

Python writes bytecode as it does for a user (PYTHONDONTWRITEBYTECODE is removed from the
environment of the timed builds). `--no-bytecode` times instead what a shell with
PYTHONDONTWRITEBYTECODE=1 gets from a fresh clone: each checkout's `builder` package is copied
without its `__pycache__` folders and run with the variable set, so every run compiles the
builder's modules and the theme's templates again (the libraries keep the bytecode pip wrote).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import checkouts_to_time, copy_computed, make_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
from builder.cli import main
sys.argv = ["blog", "build", "-s", sys.argv[2]]
main()
"""
FROM_SCRATCH = ("_site", ".cache/render", ".cache/outputs")


def build(checkout: Path, project: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one `blog build` process from scratch."""
    for stale in FROM_SCRATCH:
        shutil.rmtree(project / stale, ignore_errors=True)
    before = os.times()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", RUNNER, str(checkout), str(project / "site_src")],
                          cwd=project, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = os.times()
    if done.returncode:
        raise SystemExit(f"{checkout}: the build failed\n{done.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu


def without_bytecode(checkout: Path, target: Path) -> Path:
    """A copy of the checkout's `builder` package with no compiled code (MathJax linked)."""
    modules = Path("node") / "node_modules"
    shutil.copytree(checkout / "builder", target / "builder",
                    ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    if (checkout / "builder" / modules).is_dir():
        (target / "builder" / modules).symlink_to(checkout / "builder" / modules)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="another checkout, timed in the same run")
    parser.add_argument("--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE=1")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    checkouts = checkouts_to_time(args.baseline)
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory(prefix="bench-one-post-") as tmp:
        if args.no_bytecode:
            checkouts = {name: without_bytecode(checkout, Path(tmp) / f"code-{number}")
                         for number, (name, checkout) in enumerate(checkouts.items())}
        projects = {}
        for number, name in enumerate(checkouts):
            project = projects[name] = Path(tmp) / str(number)
            make_site(project, 1)
            copy_computed(project, names=("figures", "images"))
            build(checkouts[name], project, env)  # untimed: fills what this checkout keys by its code
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                times[name].append(build(checkout, projects[name], env))
    bytecode = "not written (PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode else "written"
    print(f"one post from scratch, whole process, {args.runs} interleaved runs, bytecode {bytecode}\n")
    print("| checkout | wall median (s) | wall min–max | CPU median (s) |")
    print("|---|---:|---:|---:|")
    for name, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"| {name} | {statistics.median(walls):.3f} | {min(walls):.2f}–{max(walls):.2f} | "
              f"{statistics.median(cpus):.3f} |")


if __name__ == "__main__":
    main()
