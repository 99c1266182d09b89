"""Bytes per figure per format, and which one the build publishes.

    python bench/figure_formats.py [-s site_src]

Reads the figure cache (run `blog build` first): for every rendition of every drawn figure
(light and dark, body and wide layout), the SVG as written and gzip-compressed (as a reader
receives it), AVIF and WebP at the width a 360 px phone at DPR 2 fetches, and the JPEG
fallback; `chosen` is what `<picture>` offers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builder import build, config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-s", "--source", default="site_src")
    args = parser.parse_args()
    settings = config.load_config(Path(args.source))
    figure_set = build.make_figures(settings)
    responsive = build._responsive_images(settings, figure_set)
    print("| figure | rendition | SVG | SVG gzip | AVIF 720 | WebP 720 | JPEG | published |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    for path in sorted(responsive):
        for c in responsive[path].choices:
            kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
            name = path.rsplit("/", 1)[-1]
            print(f"| {name} | {c.layout} {c.scheme} | {kb(c.svg_bytes)} "
                  f"| {kb(c.svg_gzip_bytes)} | {kb(c.avif_bytes)} | {kb(c.webp_bytes)} | {kb(c.jpeg_bytes)} "
                  f"| {c.chosen} |")
    print("\n(KiB)")


if __name__ == "__main__":
    main()
