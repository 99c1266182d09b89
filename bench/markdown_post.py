"""CPU time of the default Markdown reading (Python-Markdown) per post, on the 1,000-post corpus.

    python bench/markdown_post.py                       # this checkout
    python bench/markdown_post.py --baseline ../main    # and another checkout, in the same run
    python bench/markdown_post.py --profile             # and this checkout's top lines by own time

The corpus comes from bench/corpus.py; its posts are read and put through Liquid once, by this
checkout, exactly as a build gives them to `render_markdown`. Each run is a fresh process that
makes the converter the build makes and renders every post once untimed, then once timed with
`time.process_time` (CPU, so that other work on the machine weighs little); runs of the checkouts
alternate. The table gives the median of the runs, in milliseconds per post.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import TIMED_RUN, checkouts_to_time, cpu_ms, make_site, spread, timing_arguments  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# The texts render_markdown gets in a build of the corpus, in one process, without figures.
COLLECT = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import builder.markdown
from builder import build, render
from builder.config import load_config
from builder.model import FigureSet
texts, render_markdown = [], builder.markdown.render_markdown
def collect(md, text):
    texts.append(text)
    return render_markdown(md, text)
builder.markdown.render_markdown = collect
render._processes = lambda count: 1
config = load_config(Path(sys.argv[2]) / "site_src")
build.gather_and_render(config, FigureSet())
Path(sys.argv[3]).write_text(json.dumps({"lang": config.lang, "texts": texts}), encoding="utf-8")
"""

# Run inside the measured checkout (its `builder` first on the path); prints one JSON line.
MEASURE = r"""
import json, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from builder import strings
from builder.markdown import make_markdown, render_markdown
corpus = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
md = make_markdown(footnote_backlink=strings.table(corpus["lang"])["footnote_backlink"])
items = len(corpus["texts"])
def run():
    for text in corpus["texts"]:
        render_markdown(md, text)
""" + TIMED_RUN


def measure(checkout: Path, texts: Path, profile: int = 0) -> float:
    return cpu_ms(MEASURE, checkout, texts, profile=profile)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    timing_arguments(parser)
    args = parser.parse_args()
    checkouts = checkouts_to_time(args.baseline)
    with tempfile.TemporaryDirectory(prefix="bench-markdown-") as tmp:
        make_site(Path(tmp), args.posts)
        texts = Path(tmp) / "texts.json"
        done = subprocess.run([sys.executable, "-c", COLLECT, str(ROOT), tmp, str(texts)],
                              capture_output=True, text=True, cwd=tmp)
        if done.returncode:
            raise SystemExit(done.stderr[-2000:])
        count = len(json.loads(texts.read_text(encoding="utf-8"))["texts"])
        times: dict[str, list[float]] = {name: [] for name in checkouts}
        for _ in range(args.runs):
            for name, checkout in checkouts.items():
                times[name].append(measure(checkout, texts))
        if args.profile:
            measure(ROOT, texts, args.profile)
    print(f"{count} Markdown documents, CPU milliseconds per document, median of {args.runs} "
          "interleaved runs (min-max)\n")
    print("| checkout | ms per post |")
    print("|---|---:|")
    for name, values in times.items():
        print(f"| {name} | {spread(values)} |")
    if args.baseline:
        ratio = statistics.median(times["baseline"]) / statistics.median(times["this checkout"])
        print(f"\nbaseline / this checkout: {ratio:.2f}x")


if __name__ == "__main__":
    main()
