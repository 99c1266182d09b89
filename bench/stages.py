"""Where a build from scratch spends its time, stage by stage, at 1,000 posts (or --posts N).

    python bench/stages.py                       # this checkout, 3 interleaved runs
    python bench/stages.py --baseline ../main    # and another checkout, in the same run

The corpus comes from bench/corpus.py with the figures already made. Each checkout gets its own
copy of the corpus and of its own .cache/ (figures are keyed by the code that makes them; this
checkout's cache is used where the other has none). Each run is a fresh process that clears
`_site/`, `.cache/render` and `.cache/outputs`, then calls the stages one after the other as
`build.py` orders them, timing each (wall seconds); runs of the checkouts alternate so both see
the same machine load. The table gives the median of each stage. Where posts go to the render
workers as they are read, "reading posts" includes handing them out (and hashing each post's
part of its cache key), and "Liquid + Markdown" is what is left of the rendering after it.

`site_files.collect` lists the site's files and makes the feed and sitemap; the pages
themselves are rendered (Jinja2) by `outputs.write_site`'s workers as they are written. (A
checkout from before that change renders every page in `site_files.collect`.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import checkouts_to_time, last_json, make_site, timed_per_checkout  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# Run inside the measured checkout (its `builder` first on the path); prints one JSON line.
STAGES = r"""
import inspect, json, shutil, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
project = Path(sys.argv[2])
for stale in ("_site", ".cache/render", ".cache/outputs"):
    shutil.rmtree(project / stale, ignore_errors=True)
started = time.perf_counter()
from builder import build, content, images, render, site_files, state
from builder.config import load_config
from builder.model import Site
marks = {"imports": time.perf_counter() - started}
def timed(name, work):
    begun = time.perf_counter()
    value = work()
    marks[name] = time.perf_counter() - begun
    return value
config = timed("settings", lambda: load_config(project / "site_src"))
# As build.py does: the render workers started before the figures are checked and the posts
# read, the posts read once, and (this round) handed to the workers as they are read (a checkout
# from before those changes starts them after the figures, or when rendering, and reads twice).
reading_early = hasattr(render, "EarlyRendering")
starting = getattr(render, "started_workers", None)
if reading_early:
    starting = starting(config)  # kept: its end stops the workers
    early = starting.__enter__()
figure_set = timed("figures (all cached)", lambda: build.make_figures(config))
now = build.system_clock(config.tz)
if not reading_early:
    starting = starting(config) if starting else None
    early = starting.__enter__() if starting else None
once = "documents" in inspect.signature(state.fingerprint).parameters
documents = {} if once else None
timed("fingerprint", lambda: state.fingerprint(config, figure_set, now, *([documents] if once else [])))
if reading_early and early is not None:
    variants = timed("image variants", lambda: images.responsive_images(
        figure_set.responsive_inputs(), config.cache_dir, figure_set.renditions()))
    reader = render.EarlyRendering(config, early, render.provenance_notes(config, figure_set, variants))
    gathered = timed("reading posts", lambda: content.gather(config, now, documents, reader))
    posts, pages = timed("Liquid + Markdown", lambda: render.render_site(config, gathered, figure_set,
                                                                         variants, None, reader))
else:
    gathered = timed("reading posts", lambda: content.gather(config, now, *([documents] if once else [])))
    variants = timed("image variants", lambda: images.responsive_images(
        figure_set.responsive_inputs(), config.cache_dir, figure_set.renditions()))
    posts, pages = timed("Liquid + Markdown", lambda: render.render_site(
        config, gathered, figure_set, variants, *([None, early] if starting else [])))
site = Site(config=config, posts=tuple(posts), pages=tuple(pages), static_files=tuple(gathered.static),
            categories=tuple(content.group_categories(posts)), figures=figure_set, images=variants,
            next_publication=gathered.next_publication, now=now)
files = timed("site_files.collect", lambda: site_files.collect(site))
timed("outputs.write_site", lambda: build._write(config, files, None, False))
marks["total"] = time.perf_counter() - started
print(json.dumps(marks))
"""


def run(checkout: Path, project: Path) -> dict[str, float]:
    return last_json([sys.executable, "-c", STAGES, str(checkout), str(project)], checkout, project)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout, timed in the same run")
    args = parser.parse_args()
    checkouts = checkouts_to_time(args.baseline)
    with tempfile.TemporaryDirectory(prefix="bench-stages-") as tmp:
        make_site(Path(tmp) / "corpus", args.posts)
        times = timed_per_checkout(Path(tmp) / "corpus", checkouts, args.runs, run)
    stages = list(times["this checkout"][0])
    print(f"{args.posts} posts from scratch, wall seconds, median of {args.runs} interleaved runs\n")
    print("| stage | " + " | ".join(checkouts) + " |")
    print("|---|" + "---:|" * len(checkouts))
    for stage in stages:
        cells = [f"{statistics.median(r[stage] for r in times[name]):.2f}" for name in checkouts]
        print(f"| {stage} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
