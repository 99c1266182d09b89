"""Build speed at 1, 100 and 1000 posts: ours against Pelican, in one run on one machine.

    python bench/site.py                 # all sizes, 3 runs each (medians)
    python bench/site.py --sizes 1000 --runs 5
    python bench/site.py --sizes 1000 --markdown kramdown --baseline ../main --no-pelican

Sites come from bench/corpus.py (the seed article, varied; every tenth post with math), with
figures already made (the project's .cache/ is copied in). For each size it times whole
processes: a build from scratch (empty destination, no render cache), a rebuild with nothing
changed, and a rebuild after one post's text changed; and the peak memory of the scratch build
(the process and its workers). Pelican (installed with pip into .cache/bench-venv) builds the
same posts, converted to its own metadata format, in the same run. `--markdown kramdown` reads the
corpus as a Jekyll site (`markdown: kramdown`); `--baseline DIR` also times the builder of another
checkout (say, the main branch) on the same sites, in the same run.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import make_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".cache" / "bench-venv"
RUNNER = """
import resource, sys
from builder.cli import main
sys.argv = ["blog", "build", "-s", sys.argv[1]]
try:
    main()
finally:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"PEAK_KB {own} {workers}", file=sys.stderr)
"""
PELICAN_CONF = """
SITENAME = "Bench"
PATH = "content"
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
RELATIVE_URLS = True
FEED_ALL_ATOM = "feeds/all.atom.xml"
ARTICLE_URL = ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/{slug}/index.html"
"""


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stderr


def ours(project: Path, runs: int, checkout: Path | None = None) -> dict[str, float]:
    source = project / "site_src"
    build = [sys.executable, "-c", RUNNER, str(source)]
    if checkout is not None:  # that checkout's `builder` package first on the path
        build = [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(checkout)!r})\n" + RUNNER,
                 str(source)]
    posts = sorted((source / "_posts").glob("*.md"))
    scratch, unchanged, edited, peaks = [], [], [], []
    for run in range(runs):
        for stale in (project / "_site", project / ".cache" / "render", project / ".cache" / "outputs"):
            shutil.rmtree(stale, ignore_errors=True)
        seconds, log = timed(build, project)
        scratch.append(seconds)
        peak = [line.split() for line in log.splitlines() if line.startswith("PEAK_KB")][-1]
        peaks.append((int(peak[1]) + int(peak[2])) / 1024)
        unchanged.append(timed(build, project)[0])
        post = posts[(run * 7919) % len(posts)]
        # A new edit even where an earlier run (or the baseline's) already edited this post.
        edit = f"Nay (sửa {run} {'baseline' if checkout else 'blog'}) được"
        text = re.sub(r"Nay(?: \(sửa[^)]*\))? được", edit, post.read_text(encoding="utf-8"), count=1)
        post.write_text(text, encoding="utf-8")
        edited.append(timed(build, project)[0])
    return {"scratch": statistics.median(scratch), "unchanged": statistics.median(unchanged),
            "one edited": statistics.median(edited), "peak MB": max(peaks)}


def pelican_python() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not (BENCH_VENV / "bin" / "pelican").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pelican", "markdown"], check=True)
    return python


def pelican_site(project: Path) -> Path:
    """The same posts in Pelican's format (metadata lines; Liquid resolved as our build does)."""
    site = project / "pelican"
    content = site / "content"
    content.mkdir(parents=True)
    (site / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")
    for path in sorted((project / "site_src" / "_posts").glob("*.md")):
        front, body = path.read_text(encoding="utf-8").split("---\n", 2)[1:]
        title = next(line for line in front.splitlines() if line.startswith("title:"))
        title = title[6:].strip().strip('"')
        category = front.split("categories: [", 1)[1].split("]")[0].split(",")[0].strip()
        body = body.replace("{{ site.baseurl }}", "").replace(
            '{% include youtube.html id="rTawFwUvnLE" %}', '<a href="https://youtu.be/rTawFwUvnLE">video</a>')
        (content / path.name).write_text(
            f"Title: {title}\nDate: {path.name[:10]}\nCategory: {category}\nSlug: {path.stem[11:]}\n\n{body}",
            encoding="utf-8")
    return site


def pelican(project: Path, runs: int) -> dict[str, float]:
    site = pelican_site(project)
    pelican_bin = str(pelican_python().parent / "pelican")
    command = [pelican_bin, "content", "-o", "output", "-s", "pelicanconf.py", "-q"]
    posts = sorted((site / "content").glob("*.md"))
    scratch, unchanged, edited = [], [], []
    for run in range(runs):
        shutil.rmtree(site / "output", ignore_errors=True)
        scratch.append(timed(command, site)[0])
        unchanged.append(timed(command, site)[0])
        post = posts[(run * 7919) % len(posts)]
        post.write_text(post.read_text(encoding="utf-8") + f"\nsửa {run}\n", encoding="utf-8")
        edited.append(timed(command, site)[0])
    return {"scratch": statistics.median(scratch), "unchanged": statistics.median(unchanged),
            "one edited": statistics.median(edited), "peak MB": float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pelican", action="store_true")
    parser.add_argument("--markdown", choices=["python-markdown", "kramdown"], default="python-markdown")
    parser.add_argument("--baseline", type=Path, help="another checkout whose builder is timed too")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"{platform.node()}: {machine}, Python {platform.python_version()}, "
          f"medians of {args.runs} runs, whole-process wall time in seconds\n")
    if not (ROOT / ".cache" / "figures" / "manifest.json").exists():  # a fresh clone: make them once
        subprocess.run([sys.executable, "-m", "builder", "build", "-s", str(ROOT / "site_src")], cwd=ROOT,
                       check=True, capture_output=True)
    print("| posts | tool | from scratch | nothing changed | one post edited | peak memory (MB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix=f"bench-{size}-") as tmp:
            project = Path(tmp)
            source = make_site(project, size)
            if args.markdown == "kramdown":
                with (source / "_config.yml").open("a", encoding="utf-8") as config:
                    config.write("\nmarkdown: kramdown\n")
            shutil.copytree(ROOT / ".cache" / "figures", project / ".cache" / "figures")
            if (ROOT / ".cache" / "images").exists():
                shutil.copytree(ROOT / ".cache" / "images", project / ".cache" / "images")
            rows = {"blog": ours(project, args.runs)}
            if args.baseline is not None:
                rows["blog (baseline)"] = ours(project, args.runs, args.baseline.resolve())
            if not args.no_pelican:
                rows["Pelican"] = pelican(project, args.runs)
            for tool, row in rows.items():
                peak = "" if row["peak MB"] != row["peak MB"] else f"{row['peak MB']:.0f}"
                print(f"| {size} | {tool} | {row['scratch']:.2f} | {row['unchanged']:.2f} | "
                      f"{row['one edited']:.2f} | {peak} |")
            if "blog (baseline)" in rows:
                ratio = {k: rows["blog (baseline)"][k] / rows["blog"][k]
                         for k in ("scratch", "unchanged", "one edited")}
                print(f"| {size} | baseline ÷ blog | {ratio['scratch']:.2f}× | {ratio['unchanged']:.2f}× | "
                      f"{ratio['one edited']:.2f}× | |")
            if "Pelican" in rows:
                ratio = {k: rows["Pelican"][k] / rows["blog"][k]
                         for k in ("scratch", "unchanged", "one edited")}
                print(f"| {size} | Pelican ÷ blog | {ratio['scratch']:.1f}× | {ratio['unchanged']:.1f}× | "
                      f"{ratio['one edited']:.1f}× | |")


if __name__ == "__main__":
    main()
