"""How the writers of a cold 1,000-post build share the work: splits compared in one process.

    python bench/write_split.py                 # 10 rounds, every split
    python bench/write_split.py --rounds 20 --posts 500

The site is built once up to the list of its files (as `build.py` does), then
`outputs.write_site` writes it into a new folder again and again, the splits taking turns
within each round, so all of them see the same machine load and the same warm heap. Nothing is
deleted between writes (on this disk a file made soon after many were deleted costs more, see
bench/README.md); the folders go with the temporary corpus at the end. The splits:

- "two forked writers": what the build did before (`workers.map_forked`, 2 workers, chunks of
  16 handed out in order as they free up; this process waits);
- "static halves": this process and one forked writer take half each (`chunk` = half);
- "static interleaved": every other output each (the names reordered so that each half holds
  every other one, the halves as above);
- "chunks from the start": shrinking chunks handed out from the first output on;
- "chunks of 16 from the end": fixed chunks, the last outputs first;
- "chunks from the end": what the build does (`workers.map_here_and_forked` as it is).

For each: wall seconds, CPU seconds of all processes (this one and its children, user +
system), and how long this process waited for the workers at the end. Median (range).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from corpus import copy_computed, make_site  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builder import workers  # noqa: E402

REAL = workers.map_here_and_forked
WAITED: list[float] = []  # this process's waits for the workers at the end, one per write


def _reordered(order: Callable[[int, int], list[int]], chunk: Callable[[int, int], int | None]):
    """A map that hands `map_here_and_forked` the items in `order(count, processes)` (and
    `chunk`), and puts the results back in the items' order."""
    def mapped(function, items, processes, *shared):
        positions = order(len(items), processes)
        got = REAL(function, [items[i] for i in positions], processes, *shared,
                   chunk=chunk(len(items), processes))
        results: list[Any] = [None] * len(items)
        for position, value in zip(positions, got, strict=True):
            results[position] = value
        return results
    return mapped


def _halves(count: int, processes: int) -> int:
    return -(-count // processes)


SPLITS = {
    "two forked writers": lambda function, items, processes, *shared: workers.map_forked(
        function, items, processes, *shared),
    "static halves": _reordered(lambda count, _: list(range(count)), _halves),
    "static interleaved": _reordered(lambda count, p: [i for k in range(p) for i in range(k, count, p)],
                                     _halves),
    "chunks from the start": _reordered(lambda count, _: list(range(count))[::-1], lambda count, p: None),
    "chunks of 16 from the end": _reordered(lambda count, _: list(range(count)), lambda count, p: 16),
    "chunks from the end": REAL,
}


def _timed_gather(real):
    def gather(helpers, results, wait):
        if not wait:
            return real(helpers, results, wait)
        begun = time.perf_counter()
        try:
            return real(helpers, results, wait)
        finally:
            WAITED.append(time.perf_counter() - begun)
    return gather


def _cpu() -> float:
    usages = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(usage.ru_utime + usage.ru_stime for usage in usages)


def _spread(values: list[float], scale: float = 1, places: int = 3) -> str:
    low, middle, high = (f"{value * scale:.{places}f}"
                         for value in (min(values), statistics.median(values), max(values)))
    return f"{middle} ({low}–{high})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    from builder import build, content, images, outputs, render, site_files
    from builder.config import load_config
    from builder.model import Site

    if workers.available(2, 2) < 2:
        raise SystemExit("needs two cores and fork")
    workers._gather = _timed_gather(workers._gather)
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        project = Path(tmp)
        make_site(project, args.posts)
        copy_computed(project)
        config = load_config(project / "site_src")
        figure_set = build.make_figures(config)
        now = build.system_clock(config.tz)
        gathered = content.gather(config, now)
        variants = images.responsive_images(figure_set.responsive_inputs(), config.cache_dir,
                                            figure_set.renditions())
        posts, pages = render.render_site(config, gathered, figure_set, variants)
        site = Site(config=config, posts=tuple(posts), pages=tuple(pages),
                    static_files=tuple(gathered.static), categories=tuple(content.group_categories(posts)),
                    figures=figure_set, images=variants, next_publication=gathered.next_publication, now=now)
        times: dict[str, list[tuple[float, float, float]]] = {name: [] for name in SPLITS}
        for round_ in range(args.rounds + 1):  # the first round warms up, untimed
            for name, split in SPLITS.items():
                workers.map_here_and_forked = split
                files = site_files.collect(site)
                WAITED.clear()
                cpu, begun = _cpu(), time.perf_counter()
                outputs.write_site(project / "written" / f"{round_}-{len(times[name])}-{name}", files.texts,
                                   files.copies, None, trash_root=config.cache_dir / "trash")
                wall = time.perf_counter() - begun
                if round_:
                    times[name].append((wall, _cpu() - cpu, sum(WAITED)))
        workers.map_here_and_forked = REAL
    print(f"{args.posts} posts ({len(files.texts) + len(files.copies)} files), outputs.write_site from "
          f"scratch, median (range) of {args.rounds} rounds\n")
    print("| split | wall (s) | CPU, all processes (s) | this process waits at the end (ms) |")
    print("|---|---:|---:|---:|")
    for name, rows in times.items():
        waits = "–" if name == "two forked writers" else _spread([r[2] for r in rows], 1000, 0)
        print(f"| {name} | {_spread([r[0] for r in rows])} | {_spread([r[1] for r in rows])} | {waits} |")


if __name__ == "__main__":
    main()
