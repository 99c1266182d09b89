"""Responsive images: what `<picture>` offers for each generated image.

A plain generated image (a photograph-like banner) gets AVIF and WebP at several widths. A
drawn figure comes from the figure worker in up to four renditions (light and dark palettes,
and for a tall figure a wide layout for large screens), each as a raster (JPEG) and as SVG.
For each rendition the lighter of the two is published: the SVG as a reader receives it
(gzip-compressed, as GitHub Pages and every common static host send SVG) against the AVIF a
360 px phone at DPR 2 would fetch (`COMPARED_WIDTH`). The SVG is at least as sharp at any
density, so when it is lighter it wins; otherwise AVIF and WebP at several widths are offered,
at a quality that leaves no ringing around text. The JPEG at the declared path stays the
`<img>` fallback.

Variants are made once per source file and kept under `.cache/images/<sha256>-<profile>/`,
so a build where nothing changed checks for files and imports nothing; Pillow is imported
only when a variant is missing.
"""

from __future__ import annotations

import functools
import gzip
import logging
import os
import zlib
from pathlib import Path

from builder import store
from builder.errors import BuildError
from builder.model import Choice, Rendition, Responsive, Source

log = logging.getLogger(__name__)

WIDTHS = (480, 720, 960, 1440)
COMPARED_WIDTH = 720  # what a 360 px phone at DPR 2 fetches: the yardstick for SVG against raster
# Encoder settings per kind of picture. A drawing has text: AVIF at 55 rings around letters, at
# 80 with full-resolution colour it does not (looked at side by side at 720 px).
PROFILES = {
    "picture": {"image/avif": ("avif", {"quality": 55, "speed": 8}),
                "image/webp": ("webp", {"quality": 80, "method": 4})},
    "drawing": {"image/avif": ("avif", {"quality": 80, "speed": 8, "subsampling": "4:4:4"}),
                "image/webp": ("webp", {"quality": 90, "method": 4})},
}
SVG = "image/svg+xml"
# A computed figure: the post column on phones (full width minus the page's padding), at most
# 30rem (480 px) from 512 px up (theme.css). A wide layout: from 40rem up, at most 55rem.
BODY_SIZES = "(max-width: 512px) calc(100vw - 2rem), 480px"
WIDE_SIZES = "(min-width: 57.5rem) 55rem, calc(100vw - 2.5rem)"
WIDE_MEDIA = "(min-width: 40rem)"
DARK_MEDIA = "(prefers-color-scheme: dark)"
SVG_SIZES = "svg-sizes.json"
SVG_SIZES_VERSION = 1


def responsive_images(images: dict[str, tuple[Path, int, int, str]], cache_dir: Path,
                      renditions: dict[str, list[Rendition]] | None = None) -> dict[str, Responsive]:
    """`images`: site path -> (JPEG file, width, height, its sha256); `renditions`: for drawn
    figures, their drawings. Missing variants are made in parallel, into folders named by the
    source's hash."""
    renditions = renditions or {}
    plain = {path: image for path, image in images.items() if path not in renditions}
    plans = {path: _plan(path, digest, width, cache_dir, "picture")
             for path, (_, width, _, digest) in plain.items()}
    drawn = [r for path in sorted(renditions) for r in renditions[path]]
    compared = {r.raster: _plan(r.raster, r.raster_sha256, r.width, cache_dir, "drawing") for r in drawn}
    _make([(file, *entry) for path, (file, _, _, _) in plain.items() for entry in plans[path].values()]
          + [(r.raster_file, *entry) for r in drawn for entry in compared[r.raster].values()
             if entry[1] == min(COMPARED_WIDTH, r.width)])  # both formats at the compared width
    result = {}
    for path, (_, width, height, _) in plain.items():
        sources = tuple(_raster_sources(plans[path], "", "", width, height))
        result[path] = Responsive(width, height, sources, {v: c for v, (c, _, _, _) in plans[path].items()})
    svg_sizes = SvgSizes(cache_dir)
    for path in sorted(renditions):
        result[path] = _figure(renditions[path], compared, svg_sizes)
    svg_sizes.save()
    return result


def _figure(drawings: list[Rendition], plans, svg_sizes: SvgSizes) -> Responsive:
    """A drawn figure's sources: wide before body (the wider media query first), dark before
    light; each rendition as SVG or as rasters, whichever is lighter."""
    order = sorted(drawings, key=lambda r: (r.layout != "wide", r.scheme != "dark"))
    sources: list[Source] = []
    files: dict[str, Path] = {}
    choices = []
    to_make = []
    for drawing in order:
        plan = plans[drawing.raster]
        choice = _choose(drawing, plan, svg_sizes)
        choices.append(choice)
        media = " and ".join(m for m, on in ((WIDE_MEDIA, drawing.layout == "wide"),
                                             (DARK_MEDIA, drawing.scheme == "dark")) if on)
        if choice.chosen == "svg":
            assert drawing.svg_file is not None
            sources.append(Source(SVG, drawing.svg, media, "", drawing.width, drawing.height))
            files[drawing.svg] = drawing.svg_file
        else:
            sizes = WIDE_SIZES if drawing.layout == "wide" else BODY_SIZES
            sources += _raster_sources(plan, media, sizes, drawing.width, drawing.height)
            files.update({v: c for v, (c, _, _, _) in plan.items()})
            to_make += [(drawing.raster_file, *entry) for entry in plan.values()]
    _make(to_make)
    body = next(d for d in drawings if d.layout == "body" and d.scheme == "light")
    return Responsive(body.width, body.height, tuple(sources), files, tuple(choices),
                      wide=any(d.layout == "wide" for d in drawings))


def _choose(drawing: Rendition, plan, svg_sizes: SvgSizes) -> Choice:
    compared = next(c for c, w, mime, _ in plan.values()
                    if w == min(COMPARED_WIDTH, drawing.width) and mime == "image/avif")
    svg_size, compressed = svg_sizes.of(drawing.svg_file)
    webp = next((c for c, w, mime, _ in plan.values()
                 if w == min(COMPARED_WIDTH, drawing.width) and mime == "image/webp"), None)
    avif_bytes = compared.stat().st_size
    chosen = "svg" if svg_size and compressed <= avif_bytes else "raster"
    return Choice(drawing.layout, drawing.scheme, svg_size, compressed, avif_bytes,
                  webp.stat().st_size if webp and webp.is_file() else 0, drawing.raster_file.stat().st_size,
                  chosen)


class SvgSizes:
    """(bytes, gzipped bytes) of each drawing's SVG. Gzip at level 6 of the twenty drawings of
    the seed site takes longer than the rest of a small build's image step, so the sizes are
    kept in `.cache/images/svg-sizes.json` by the sha256 of each SVG's bytes (hashing costs a
    thirtieth of compressing), beside the image variants they choose between; the
    record belongs to one code version of the builder and one zlib, and holds only the SVGs of
    the last build. In a process that builds again and again (`blog serve`) an unchanged file
    (same size and modification time) is not even read again."""

    def __init__(self, cache_dir: Path):
        self.path = cache_dir / "images" / SVG_SIZES
        self.stamp = f"{store.code_version()} zlib {zlib.ZLIB_RUNTIME_VERSION}"
        self.known: dict[str, list[int]] = {}
        try:
            data = store.read_record(self.path, SVG_SIZES_VERSION)
        except store.UnreadableRecord:
            data = None
        if data and data.get("stamp") == self.stamp and isinstance(data.get("sizes"), dict):
            self.known = {digest: sizes for digest, sizes in data["sizes"].items() if _two_counts(sizes)}
        self.used: dict[str, list[int]] = {}

    def of(self, svg_file: Path | None) -> tuple[int, int]:
        """(0, 0) without an SVG."""
        if svg_file is None or not svg_file.is_file():
            return 0, 0
        stat = svg_file.stat()
        digest = _svg_digest(svg_file, stat.st_size, stat.st_mtime_ns)
        known = self.known.get(digest)
        sizes = (known[0], known[1]) if known else _gzip_sizes(svg_file, stat.st_size, stat.st_mtime_ns)
        self.used[digest] = list(sizes)
        return sizes

    def save(self) -> None:
        if self.used == self.known:
            return
        try:
            store.write_record(self.path, SVG_SIZES_VERSION, {"stamp": self.stamp, "sizes": self.used},
                               durable=False)
        except OSError as err:  # only a cache: the next build compresses again
            log.debug("%s: not written (%s)", self.path, err)


def _two_counts(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(isinstance(n, int) for n in value)


# `blog serve` builds again and again: a file of the same size and modification time is not read again.
@functools.lru_cache(maxsize=256)
def _svg_digest(svg_file: Path, size: int, mtime_ns: int) -> str:
    return store.sha256_file(svg_file)


@functools.lru_cache(maxsize=256)
def _gzip_sizes(svg_file: Path, size: int, mtime_ns: int) -> tuple[int, int]:
    svg = svg_file.read_bytes()
    return len(svg), len(gzip.compress(svg, compresslevel=6, mtime=0)) if svg else 0


def _raster_sources(plan, media: str, sizes: str, width: int, height: int) -> list[Source]:
    by_mime: dict[str, list[str]] = {}
    for variant, (_, w, mime, _) in plan.items():
        by_mime.setdefault(mime, []).append(f"{variant} {w}w")
    return [Source(mime, ", ".join(entries), media, sizes or BODY_SIZES, width, height)
            for mime, entries in by_mime.items()]


def _make(jobs: list[tuple[Path, Path, int, str, str]]) -> None:
    missing = [job for job in dict.fromkeys(jobs) if not job[1].is_file()]
    if missing:
        from concurrent.futures import ThreadPoolExecutor  # here: a build with no variant to make needs none

        log.info("making %d responsive image variants", len(missing))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # Pillow encodes without the GIL
            list(pool.map(lambda job: _make_variant(*job), missing))


def _plan(path: str, digest: str, width: int, cache_dir: Path,
          profile: str) -> dict[str, tuple[Path, int, str, str]]:
    """Variant site path -> (cached file, width, MIME type, profile), e.g. /images/post2/1-480.avif.
    The cached files are named by the source's sha256, the profile and the builder's code version."""
    folder = cache_dir / "images" / f"{store.digest([digest, store.code_version()])[:24]}-{profile}"
    stem = path.rsplit(".", 1)[0]
    widths = [w for w in WIDTHS if w < width] + [width]
    plan = {}
    for mime, (ext, _) in PROFILES[profile].items():
        for w in widths:
            plan[f"{stem}-{w}.{ext}"] = (folder / f"{w}.{ext}", w, mime, profile)
    return plan


def _make_variant(source: Path, target: Path, width: int, mime: str, profile: str) -> None:
    try:
        _encode_variant(source, target, width, mime, profile)
    except Exception as err:  # noqa: BLE001 (Pillow's errors are many: a damaged file, a missing codec)
        raise BuildError(f"could not make its {PROFILES[profile][mime][0].upper()} variant at {width} px: "
                         f"{type(err).__name__}: {err}", source) from err


def _encode_variant(source: Path, target: Path, width: int, mime: str, profile: str) -> None:
    from PIL import Image

    ext, options = PROFILES[profile][mime]
    with Image.open(source) as image:
        image = image.convert("RGB")
        if width < image.width:
            image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        with store.atomic_target(target) as tmp:
            image.save(tmp, format=ext.upper(), **options)


def image_size(file: Path) -> tuple[int, int] | None:
    """Width and height from the file's header (for images that are not generated)."""
    try:
        from PIL import Image

        with Image.open(file) as image:
            return image.size
    except Exception:  # noqa: BLE001 (not an image Pillow reads, e.g. SVG: no size attributes)
        return None
