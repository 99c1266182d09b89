"""Math typeset at build time: what it costs, per formula and per build.

    python bench/math_build.py              # medians of 3 runs
    python bench/math_build.py --runs 5

1. Per formula, in this process (builder.mathjax.typeset on Markdown's output): starting Node.js
   with MathJax, then the 250 formulas of the fixture post and the 4,000 formulas of a 16-post
   site (bench/mathcorpus.py, seeds 1-16) with an empty formula cache ("cold") and a full one
   ("warm": what a post edited in its prose costs).
2. Whole `blog build` processes (wall time, and the math stage's own line from `-v`): the
   fixture post and the 4,000-formula site from scratch (no caches at all), with nothing changed,
   after an edit of the prose of one post (formulas from the cache), after an edit of one
   formula, and the same site with `math_render: client` for comparison.
3. The fixture page: HTML size (raw and gzip), elements, stylesheet size, fonts it names.

Lighthouse on the fixture post: `python bench/lighthouse.py --site DIR --path PAGE --gzip`.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from mathcorpus import make_post  # noqa: E402 (beside this script)

from builder import mathjax  # noqa: E402
from builder.config import load_config  # noqa: E402
from builder.markdown import make_markdown, render_markdown  # noqa: E402

FIXTURE = ROOT / "tests" / "sites" / "math"
PAGE = "2024/05/01/toi-uu-va-hoc-may/index.html"
BLOG = [sys.executable, "-m", "builder", "build", "-v", "-s"]


def site_of(posts: int, target: Path) -> Path:
    """The fixture site (posts=1) or one with `posts` math posts of 250 formulas each."""
    source = target / "site_src"
    shutil.copytree(FIXTURE, source)
    for seed in range(1, posts):
        day = f"2024-06-{seed:02d}"
        (source / "_posts" / f"{day}-ghi-chep-{seed}.md").write_text(
            make_post(seed, title=f"Ghi chép {seed}"), encoding="utf-8")
    return source


def markdown_pages(source: Path) -> list[mathjax.MathPage]:
    md = make_markdown()
    pages = []
    for path in sorted((source / "_posts").glob("*.md")):
        body = path.read_text(encoding="utf-8").split("---\n", 2)[2]
        pages.append(mathjax.MathPage(path, body, 1, render_markdown(md, body).html))
    return pages


def per_formula(source: Path, runs: int) -> dict[str, float]:
    pages = markdown_pages(source)
    count = sum(len(mathjax.find_formulas(p.html)) for p in pages)
    start, cold, warm = [], [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as cache:
            config = dataclasses.replace(load_config(source), cache_dir=Path(cache))
            began = time.perf_counter()
            with mathjax.MathJaxProcess(mathjax._Cache(Path(cache) / "math", mathjax.cache_version())):
                pass
            start.append(time.perf_counter() - began)
            shutil.rmtree(Path(cache) / "math")
            began = time.perf_counter()
            mathjax.typeset(config, pages)
            cold.append(time.perf_counter() - began)
            began = time.perf_counter()
            mathjax.typeset(config, pages)
            warm.append(time.perf_counter() - began)
    start_s, cold_s, warm_s = (statistics.median(x) for x in (start, cold, warm))
    return {"formulas": count, "start": start_s, "cold": cold_s, "warm": warm_s,
            "cold_ms": (cold_s - start_s) / count * 1000, "warm_ms": warm_s / count * 1000}


def build(source: Path, *extra: str) -> tuple[float, float, float]:
    """Wall time of one `blog build` process, the seconds its math stage reported, and the CPU
    seconds of the process and its children (Node.js) together, which the machine's load does
    not change as much."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run([*BLOG, str(source), *extra], capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    math = re.search(r"^math: .*\(([\d.]+) s\)$", done.stderr, re.M)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, float(math.group(1)) if math else 0.0, cpu


def builds(source: Path, runs: int) -> dict[str, tuple[float, float, float]]:
    project = source.parent
    posts = sorted((source / "_posts").glob("*.md"))
    rows: dict[str, list[tuple[float, float, float]]] = {k: [] for k in (
        "from scratch", "nothing changed", "prose of one post edited", "one formula edited")}
    for run in range(runs):
        for stale in ("_site", ".cache"):
            shutil.rmtree(project / stale, ignore_errors=True)
        rows["from scratch"].append(build(source))
        rows["nothing changed"].append(build(source))
        text = posts[0].read_text(encoding="utf-8")
        posts[0].write_text(text.replace("Khai triển từng bước", f"Khai triển ({run})", 1), encoding="utf-8")
        rows["prose of one post edited"].append(build(source))
        text = posts[0].read_text(encoding="utf-8")
        posts[0].write_text(text.replace("\\beta_2 = 0.999", f"\\beta_2 = 0.99{run}", 1), encoding="utf-8")
        rows["one formula edited"].append(build(source))
    client = []
    config = source / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + "math_render: client\n", encoding="utf-8")
    for _ in range(runs):
        for stale in ("_site", ".cache"):
            shutil.rmtree(project / stale, ignore_errors=True)
        client.append(build(source))
    rows["from scratch, math_render: client"] = client
    return {kind: tuple(statistics.median(column) for column in zip(*times, strict=True))
            for kind, times in rows.items()}


def page_numbers(source: Path) -> None:
    project = source.parent
    for stale in ("_site", ".cache"):
        shutil.rmtree(project / stale, ignore_errors=True)
    build(source)
    html = (project / "_site" / PAGE).read_bytes()
    css = (project / "_site" / mathjax.STYLESHEET).read_bytes()
    fonts = len(re.findall(rb"@font-face", css))
    print(f"fixture page: {len(html) / 1024:.0f} KB HTML ({len(gzip.compress(html)) / 1024:.0f} KB gzip), "
          f"{len(re.findall(rb'<[a-zA-Z]', html))} elements, {html.count(b'<mjx-container')} formulas; "
          f"mathjax.css {len(css) / 1024:.1f} KB ({len(gzip.compress(css)) / 1024:.1f} KB gzip), "
          f"{fonts} @font-face (the browser fetches the ones its characters use)\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{platform.node()}: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}, MathJax {mathjax.pinned_version()}, medians of {args.runs} runs, "
          f"{time.strftime('%Y-%m-%d %H:%M')}\n")
    with tempfile.TemporaryDirectory(prefix="bench-math-") as tmp:
        fixture, big = site_of(1, Path(tmp) / "one"), site_of(16, Path(tmp) / "sixteen")
        page_numbers(fixture)
        print("| formulas | start Node.js + MathJax (s) | cold (s) | ms per formula, cold | warm (s) "
              "| ms per formula, warm |")
        print("|---:|---:|---:|---:|---:|---:|")
        for source in (fixture, big):
            r = per_formula(source, args.runs)
            print(f"| {r['formulas']} | {r['start']:.2f} | {r['cold']:.2f} | {r['cold_ms']:.2f} | "
                  f"{r['warm']:.3f} | {r['warm_ms']:.3f} |")
        print("\n| site | build | whole process (s) | of which math (s) | CPU, Node.js included (s) |")
        print("|---|---|---:|---:|---:|")
        for name, source in (("1 post, 250 formulas", fixture), ("16 posts, 4,000 formulas", big)):
            for kind, (seconds, math, cpu) in builds(source, args.runs).items():
                print(f"| {name} | {kind} | {seconds:.2f} | {math:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
