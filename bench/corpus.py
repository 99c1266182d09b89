"""Jekyll-format sites of N posts made from the seed article, for benchmarks and scale tests.

Titles, dates and categories vary; every tenth post carries inline and display math. The
post bodies keep the seed's `{{ site.baseurl }}` images and YouTube include, so every post
exercises Liquid, figures with captions and the theme like the real one.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED_POST = ROOT / "site_src" / "_posts" / "2018-06-28-cnn-co-gi-do-sai-sai.md"
CATEGORIES = ["Computer Vision", "deep learning", "Thị giác máy tính", "Học sâu", "NLP", "Tối ưu",
              "Xác suất", "Ghi chép"]
MATH = ("\n\nCông thức: $a_i * b_j$ và $\\sigma(x) = 1/(1+e^{-x})$.\n\n"
        "$$\\begin{aligned} L &= -\\sum_i y_i \\log p_i \\\\ p &= \\mathrm{softmax}(z) \\end{aligned}$$\n")


COMPUTED = ("figures", "images", "math")  # computed results a benchmark keeps: see bench/README.md


def read_as_kramdown(source: Path) -> None:
    """Make the site a Jekyll site (`markdown: kramdown`): read as Jekyll reads it."""
    with (source / "_config.yml").open("a", encoding="utf-8") as config:
        config.write("\nmarkdown: kramdown\n")


def copy_computed(project: Path, cache: Path = ROOT / ".cache", names: tuple[str, ...] = COMPUTED) -> None:
    """The figures, image variants and typeset formulas already made (in `cache`) into the
    project's `.cache/`, so a benchmark times the build, not the training."""
    for name in names:
        if (cache / name).exists():
            shutil.copytree(cache / name, project / ".cache" / name)


def checkouts_to_time(baseline: Path | None) -> dict[str, Path]:
    """The checkouts a benchmark times, by name: the baseline first when there is one, then this one."""
    return ({"baseline": baseline.resolve()} if baseline else {}) | {"this checkout": ROOT}


def spread(values: list[float]) -> str:
    """`median (min-max)` of some timings, two decimals."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def last_json(command: list[str], checkout: Path, cwd: Path | None = None) -> tuple[Any, str]:
    """Run a measuring script in the measured checkout; the JSON value of its last line of
    output, and what it wrote to stderr (a profile, say). A failure stops the benchmark with
    the end of its error."""
    done = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if done.returncode:
        raise SystemExit(f"{checkout}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


# The end of a measuring script that defines `run()` (the work) and `items` (how many things it
# does): one untimed run, one timed in CPU time (other work on the machine weighs little), the
# milliseconds per item as a JSON line; then, given a last argument N > 0, cProfile's top N
# lines by own time on stderr.
TIMED_RUN = r"""
PROFILE = int(sys.argv[-1])
run()
started = time.process_time()
run()
print(json.dumps({"ms": (time.process_time() - started) * 1000 / items}))
if PROFILE:
    import cProfile, pstats
    profile = cProfile.Profile()
    profile.runcall(run)
    pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(PROFILE)
"""


def cpu_ms(script: str, checkout: Path, *args: Any, cwd: Path | None = None, profile: int = 0) -> float:
    """Milliseconds per item of a script ending in TIMED_RUN, run with `checkout`'s path and
    `args`; its profile printed when asked."""
    command = [sys.executable, "-c", script, str(checkout), *map(str, args), str(profile)]
    result, profiled = last_json(command, checkout, cwd)
    if profile:
        print(profiled)
    return result["ms"]


def timing_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every CPU-per-post benchmark takes."""
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout, timed in the same run")
    parser.add_argument("--profile", type=int, nargs="?", const=15, default=0,
                        help="print this checkout's top N functions by own time (default 15)")


def timed_per_checkout(corpus: Path, checkouts: dict[str, Path], runs: int,
                       run: Callable[[Path, Path], Any]) -> dict[str, list[Any]]:
    """`run(checkout, project)` `runs` times for each checkout, the checkouts taking turns (so
    both see the same machine load), each on its own copy of `corpus` (made beside it) with the
    results its own `.cache` has computed (this checkout's where it has none), after one untimed
    run that typesets the formulas and warms the disk cache."""
    projects = {}
    for number, (name, checkout) in enumerate(checkouts.items()):
        project = projects[name] = corpus.parent / str(number)
        shutil.copytree(corpus, project)
        own = checkout / ".cache"
        copy_computed(project, own if (own / "figures").exists() else ROOT / ".cache")
        run(checkout, project)
    results: dict[str, list[Any]] = {name: [] for name in checkouts}
    for _ in range(runs):
        for name, checkout in checkouts.items():
            results[name].append(run(checkout, projects[name]))
    return results


def make_site(target: Path, posts: int, seed: int = 0) -> Path:
    """Write `target/site_src` with `posts` posts (and the real figures/ beside it)."""
    rng = random.Random(seed)
    text = SEED_POST.read_text(encoding="utf-8")
    front, body = text.split("---\n", 2)[1:]
    source = target / "site_src"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(ROOT / "site_src", source, ignore=shutil.ignore_patterns("_posts"))
    (source / "_posts").mkdir()
    start = date(2016, 1, 1)
    for i in range(posts):
        day = start + timedelta(days=i * 2 + rng.randrange(2))
        cats = rng.sample(CATEGORIES, rng.randrange(1, 3))
        title = f"Bài {i + 1}: CNN có gì đó sai sai (phần {rng.randrange(1, 50)})"
        seed_title = "title: Convolutional neural networks có gì đó sai sai :3"
        post_front = front.replace(seed_title, f'title: "{title}"')
        post_front = post_front.replace("categories: [Computer Vision, deep learning]",
                                        f"categories: [{', '.join(cats)}]")
        post_body = body + (MATH if i % 10 == 0 else "")
        name = f"{day.isoformat()}-bai-{i + 1:04d}.md"
        (source / "_posts" / name).write_text(f"---\n{post_front}---\n{post_body}", encoding="utf-8")
    if not (target / "figures").exists():
        shutil.copytree(ROOT / "figures", target / "figures", ignore=shutil.ignore_patterns("__pycache__"))
    return source
