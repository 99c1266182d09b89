"""CPU time of the kramdown reader per post, on the posts of the 1,000-post corpus.

    python bench/kramdown_reader.py                      # this checkout
    python bench/kramdown_reader.py --baseline ../main   # and another checkout, same run
    python bench/kramdown_reader.py --profile            # and cProfile's top lines

The posts are bench/corpus.py's bodies (the seed post; every tenth with math), with the Liquid
the seed holds filled in as a build fills it. Each checkout is measured in a fresh process with
its own `builder` first on the path; runs of the checkouts alternate so both see the same load.
Times are CPU seconds (`time.process_time`), so other work on the machine counts little. The
table gives the median per post of: the reader (`KramdownReader.convert`, figure decoration
included) and the whole `render_markdown` call in kramdown mode (excerpt, words... added).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import checkouts_to_time  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
KEYS = ("reader", "render", "blocks", "spans", "decoration", "html")
LABELS = {"reader": "reader: `KramdownReader.convert`, figure decoration included",
          "render": "`render_markdown` in kramdown mode (adds excerpt, word count...)",
          "blocks": "stage: block level (`blocks`)", "spans": "stage: spans, ids, tree (`output`)",
          "decoration": "stage: figure decoration (`builder/markdown.py`)",
          "html": "stage: HTML (`serialize`)"}

MEASURE = r"""
import cProfile, io, json, pstats, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.insert(0, sys.argv[1] + "/bench")
from corpus import MATH, SEED_POST
from builder.markdown import make_markdown, render_markdown

posts, profile = int(sys.argv[2]), sys.argv[3] == "1"
body = SEED_POST.read_text(encoding="utf-8").split("---\n", 2)[2]
body = body.replace("{{ site.baseurl }}", "").replace(
    '{% include youtube.html id="rTawFwUvnLE" %}',
    '<iframe width="560" height="315" src="https://www.youtube.com/embed/rTawFwUvnLE" '
    'frameborder="0" allowfullscreen></iframe>')
texts = [body + (MATH if i % 10 == 0 else "") for i in range(posts)]
md = make_markdown(kramdown=True)
render_markdown(md, texts[0])  # imports, Pygments' lexers, compiled patterns

def reader():
    for text in texts:
        md.figures.reset()
        md.reader.convert(text)

def whole():
    for text in texts:
        render_markdown(md, text)

def stages():
    # The reader's stages one after the other, as builder.kramdown.parse calls them.
    from builder.kramdown.blocks import BlockParser, Document
    from builder.kramdown.output import Converter
    from builder.kramdown.serialize import serialize
    spent = dict.fromkeys(("blocks", "spans", "decoration", "html"), 0.0)
    for text in texts:
        clock = [time.process_time()]
        def lap(stage):
            clock.append(time.process_time())
            spent[stage] += clock[-1] - clock[-2]
        document = Document()
        lines = text.split("\n")
        lines.pop()
        blocks = BlockParser(document).parse(lines)
        lap("blocks")
        root = Converter(document, md.reader.options).convert(blocks)
        lap("spans")
        md.figures.reset()
        md.figures.run(root)
        lap("decoration")
        serialize(root)
        lap("html")
    return spent

result = {}
for name, run in (("reader", reader), ("render", whole)):
    started = time.process_time()
    run()
    result[name] = (time.process_time() - started) / posts
result.update({stage: seconds / posts for stage, seconds in stages().items()})
if profile:
    profiler = cProfile.Profile()
    profiler.runcall(reader)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    result["profile"] = out.getvalue()
print(json.dumps(result))
"""


def measure(checkout: Path, posts: int, profile: bool) -> dict:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(checkout), str(posts), "1" if profile else "0"],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", type=Path, help="another checkout to measure in the same run")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top lines (this checkout)")
    args = parser.parse_args()
    checkouts = checkouts_to_time(args.baseline)
    runs: dict[str, list[dict]] = {name: [] for name in checkouts}
    for _ in range(args.runs):
        for name, path in checkouts.items():
            runs[name].append(measure(path, args.posts, False))
    print(f"{args.posts} posts, median of {args.runs} runs, ms of CPU per post\n")
    medians = {name: {key: statistics.median(r[key] for r in results) * 1000 for key in KEYS}
               for name, results in runs.items()}
    ratio = " | baseline ÷ this |" if args.baseline else " |"
    print("| ms of CPU per post | " + " | ".join(checkouts) + ratio)
    print("|---|" + "---:|" * (len(checkouts) + bool(args.baseline)))
    for key in KEYS:
        cells = [f"{medians[name][key]:.3f}" for name in checkouts]
        if args.baseline:
            cells.append(f"{medians['baseline'][key] / medians['this checkout'][key]:.2f}×")
        print(f"| {LABELS[key]} | " + " | ".join(cells) + " |")
    if args.profile:
        print("\n" + measure(ROOT, args.posts, True)["profile"])


if __name__ == "__main__":
    main()
