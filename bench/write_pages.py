"""What writing the pages costs: `outputs.write_site` of a cold 1,000-post build (or --posts N).

    python bench/write_pages.py                       # this checkout, 5 interleaved runs
    python bench/write_pages.py --baseline ../main    # and another checkout, in the same run

Each run is a fresh process that moves `_site/`, `.cache/render` and `.cache/outputs` aside
(deleted after the last run: on this disk a file made soon after many were deleted costs more,
see bench/README.md, and the checkouts' runs would slow each other down), builds
the site up to the list of its files (as `build.py` does), then calls `outputs.write_site`
twice over: as a build does (this process writes a share and forked writers the rest: their
CPU is `RUSAGE_CHILDREN`, this process's `RUSAGE_SELF`; user + system, and system alone: making
folders and files; page faults, mostly the copy-on-write of the inherited heap), and serially
in this process (`PARALLEL_MIN_FILES` raised; `time.process_time`) into a second destination;
then renders every page again in this process, 5 times, and keeps the fastest ("Jinja2
alone": the templates' share). Runs of the checkouts alternate so both see the same
machine load; the table gives the median and the range of each. The corpus comes from
bench/corpus.py with the figures made.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import checkouts_to_time, last_json, make_site, read_as_kramdown, timed_per_checkout  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Run inside the measured checkout (its `builder` first on the path); prints one JSON line.
WRITE = r"""
import json, os, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
project = Path(sys.argv[2])
aside = project.parent / "set-aside"  # deleted with the corpus, after the last run
aside.mkdir(exist_ok=True)
for stale in ("_site", "_site_serial", ".cache/render", ".cache/outputs"):
    if (project / stale).exists():
        os.rename(project / stale, aside / f"{time.time_ns()}-{stale.replace('/', '-')}")
from builder import build, content, images, outputs, render, site_files, state
from builder.config import load_config
from builder.model import Site
config = load_config(project / "site_src")
figure_set = build.make_figures(config)
now = build.system_clock(config.tz)
gathered = content.gather(config, now)
variants = images.responsive_images(figure_set.responsive_inputs(), config.cache_dir, figure_set.renditions())
posts, pages = render.render_site(config, gathered, figure_set, variants)
site = Site(config=config, posts=tuple(posts), pages=tuple(pages), static_files=tuple(gathered.static),
            categories=tuple(content.group_categories(posts)), figures=figure_set, images=variants,
            next_publication=gathered.next_publication, now=now)

def write(destination):
    files = site_files.collect(site)
    return outputs.write_site(destination, files.texts, files.copies, None,
                              trash_root=config.cache_dir / "trash", keep=config.keep_files)

def usage(who):
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime, usage.ru_stime, usage.ru_minflt

marks = {}
children, here, begun = usage(resource.RUSAGE_CHILDREN), usage(resource.RUSAGE_SELF), time.perf_counter()
written = write(project / "_site")
marks["wall"] = time.perf_counter() - begun
spent = [after - before for after, before in zip(usage(resource.RUSAGE_CHILDREN), children)]
spent_here = [after - before for after, before in zip(usage(resource.RUSAGE_SELF), here)]
marks["CPU, all processes"] = spent[0] + spent_here[0]
marks["forked writers' CPU"] = spent[0]
marks["this process's CPU"] = spent_here[0]
marks["system, all processes"] = spent[1] + spent_here[1]
marks["page faults, all processes"] = spent[2] + spent_here[2]
marks["forked writers' page faults"] = spent[2]
outputs.PARALLEL_MIN_FILES = 10 ** 9
begun = time.process_time()
write(project / "_site_serial")
marks["serial CPU"] = time.process_time() - begun
pages = [made for made in site_files.collect(site).texts.values() if callable(made)]
rendering = []
for _ in range(5):
    begun = time.process_time()
    for page in pages:
        page()
    rendering.append(time.process_time() - begun)
marks["Jinja2 alone"] = min(rendering)
marks["files"] = written.written
print(json.dumps(marks))
"""


def run(checkout: Path, project: Path) -> dict[str, float]:
    return last_json([sys.executable, "-c", WRITE, str(checkout), str(project)], checkout, project)[0]


def _spread(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", choices=["default", "kramdown"], default="default")
    parser.add_argument("--baseline", type=Path, help="another checkout, timed in the same run")
    args = parser.parse_args()
    checkouts = checkouts_to_time(args.baseline)
    with tempfile.TemporaryDirectory(prefix="bench-write-") as tmp:
        make_site(Path(tmp) / "corpus", args.posts)
        if args.markdown == "kramdown":
            read_as_kramdown(Path(tmp) / "corpus" / "site_src")
        times = timed_per_checkout(Path(tmp) / "corpus", checkouts, args.runs, run)
    files = int(times["this checkout"][0]["files"])
    print(f"{args.posts} posts ({files} files), outputs.write_site from scratch, seconds, "
          f"median (range) of {args.runs} interleaved runs\n")
    print("| | " + " | ".join(checkouts) + " |")
    print("|---|" + "---:|" * len(checkouts))
    for mark in ("wall", "CPU, all processes", "forked writers' CPU", "this process's CPU",
                 "system, all processes", "page faults, all processes", "forked writers' page faults",
                 "serial CPU", "Jinja2 alone"):
        cells = []
        places = 0 if "faults" in mark else 2
        for name in checkouts:
            low, middle, high = (f"{v:.{places}f}" for v in _spread([r[mark] for r in times[name]]))
            cells.append(f"{middle} ({low}–{high})")
        print(f"| {mark} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
