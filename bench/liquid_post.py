"""CPU time of Liquid (`LiquidRenderer.render`) per post, on the 1,000-post corpus, in both readings.

    python bench/liquid_post.py                       # this checkout
    python bench/liquid_post.py --baseline ../main    # and another checkout, in the same run
    python bench/liquid_post.py --profile             # and this checkout's top lines by own time

The corpus comes from bench/corpus.py, once as it is (the default reading: code is protected from
Liquid) and once read as kramdown (`markdown: kramdown`: Liquid sees everything). Each run is a
fresh process that reads the posts and makes the renderer as a build's worker does, renders the
first --posts posts once untimed (a build parses each include once), then once timed with
`time.process_time` (CPU, so that other work on the machine weighs little); runs of the checkouts
alternate. The table gives the median of the runs, in milliseconds per post.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import (  # noqa: E402
    TIMED_RUN,
    checkouts_to_time,
    cpu_ms,
    make_site,
    read_as_kramdown,
    spread,
    timing_arguments,
)

ROOT = Path(__file__).resolve().parents[1]

# Run inside the measured checkout (its `builder` first on the path); prints one JSON line.
MEASURE = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from builder import build, content, render, strings
from builder.config import load_config
from builder.liquid import LiquidRenderer
config = load_config(Path(sys.argv[2]) / "site_src")
gathered = content.gather(config, build.system_clock(config.tz))
site_vars = render.site_variables(config, gathered.posts)
liquid = LiquidRenderer(render.link_tables(config, gathered), config.baseurl, config.url, config.liquid,
                        strings.table(config.lang), config.tz)
protect = config.markdown != "kramdown"
work = [(post.body, {"site": site_vars, "page": render.page_variables(post)}, post.source, post.body_line,
         protect) for post in gathered.posts[:int(sys.argv[3])]]
items = len(work)
def run():
    for job in work:
        liquid.render(*job)
""" + TIMED_RUN


def measure(checkout: Path, project: Path, posts: int, profile: int = 0) -> float:
    return cpu_ms(MEASURE, checkout, project, posts, cwd=project, profile=profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=400, help="posts timed (of the 1,000)")
    timing_arguments(parser)
    args = parser.parse_args()
    checkouts = checkouts_to_time(args.baseline)
    with tempfile.TemporaryDirectory(prefix="bench-liquid-") as tmp:
        readings = {"default": Path(tmp) / "default", "kramdown": Path(tmp) / "kramdown"}
        for project in readings.values():
            make_site(project, 1000)
        read_as_kramdown(readings["kramdown"] / "site_src")
        times = {(reading, name): [] for reading in readings for name in checkouts}
        for _ in range(args.runs):
            for reading, project in readings.items():
                for name, checkout in checkouts.items():
                    times[reading, name].append(measure(checkout, project, args.posts))
        if args.profile:
            for reading, project in readings.items():
                print(f"--- {reading} reading")
                measure(ROOT, project, args.posts, args.profile)
    print(f"Liquid on {args.posts} corpus posts, CPU milliseconds per post, median of {args.runs} "
          "interleaved runs (min-max)\n")
    print("| reading | " + " | ".join(checkouts) + " |")
    print("|---|" + "---:|" * len(checkouts))
    for reading in readings:
        cells = [times[reading, name] for name in checkouts]
        print(f"| {reading} | " + " | ".join(spread(v) for v in cells) + " |")


if __name__ == "__main__":
    main()
