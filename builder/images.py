"""Responsive images: every generated JPEG also as AVIF and WebP at several widths.

Variants are made once per source file and kept under `.cache/images/<sha256>/`, so a build
where nothing changed checks for files and imports nothing; Pillow is imported only when a
variant is missing.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from builder import store
from builder.errors import BuildError
from builder.model import Responsive

log = logging.getLogger(__name__)

WIDTHS = (480, 960, 1440)
FORMATS = {"image/avif": ("avif", {"quality": 55, "speed": 8}),
           "image/webp": ("webp", {"quality": 80, "method": 4})}
# A computed figure: the post column on phones (full width minus the page's padding), at most
# 30rem (480 px) from 512 px up (theme.css).
BODY_SIZES = "(max-width: 512px) calc(100vw - 2rem), 480px"


def responsive_images(images: dict[str, tuple[Path, int, int, str]],
                      cache_dir: Path) -> dict[str, Responsive]:
    """`images`: site path -> (JPEG file, width, height, its sha256). Missing variants are made in
    parallel, into a folder named by the source's hash."""
    plans = {path: _plan(path, digest, width, cache_dir) for path, (_, width, _, digest) in images.items()}
    missing = [(file, cached, width, mime) for path, (file, _, _, _) in images.items()
               for cached, width, mime in plans[path].values() if not cached.is_file()]
    if missing:
        log.info("making %d responsive image variants", len(missing))
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # Pillow encodes without the GIL
            list(pool.map(lambda job: _make_variant(*job), missing))
    result = {}
    for path, (_, width, height, _) in images.items():
        sources: dict[str, list[str]] = {}
        for variant, (_, w, mime) in plans[path].items():
            sources.setdefault(mime, []).append(f"{variant} {w}w")
        result[path] = Responsive(width, height, {m: ", ".join(s) for m, s in sources.items()},
                                  {variant: cached for variant, (cached, _, _) in plans[path].items()})
    return result


def _plan(path: str, digest: str, width: int, cache_dir: Path) -> dict[str, tuple[Path, int, str]]:
    """Variant site path -> (cached file, width, MIME type), e.g. /images/post2/1-480.avif. The
    cached files are named by the source's sha256 and the builder's code version."""
    digest = store.digest([digest, store.code_version()])[:24]
    stem = path.rsplit(".", 1)[0]
    widths = [w for w in WIDTHS if w < width] + [width]
    plan = {}
    for mime, (ext, _) in FORMATS.items():
        for w in widths:
            plan[f"{stem}-{w}.{ext}"] = (cache_dir / "images" / digest / f"{w}.{ext}", w, mime)
    return plan


def _make_variant(source: Path, target: Path, width: int, mime: str) -> None:
    try:
        _encode_variant(source, target, width, mime)
    except Exception as err:  # noqa: BLE001 (Pillow's errors are many: a damaged file, a missing codec)
        raise BuildError(f"could not make its {FORMATS[mime][0].upper()} variant at {width} px: "
                         f"{type(err).__name__}: {err}", source) from err


def _encode_variant(source: Path, target: Path, width: int, mime: str) -> None:
    from PIL import Image

    ext, options = FORMATS[mime]
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
