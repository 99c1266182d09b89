"""A drawn figure as a small, self-contained SVG: what matplotlib writes, made lean.

Matplotlib's SVG backend (with `svg.fonttype: path`, set by figures/_style.py) writes every
glyph once as an outline and places it with `<use>`: the letters look the same on a reader's
phone whether or not it has DejaVu Sans. What it writes is generous: metadata, an id on every
group, six decimals, a `transform` per glyph, photos as PNG. This module rewrites exactly
those constructs of matplotlib's output, nothing else:

- comments (each text written again) and metadata dropped;
- numbers rounded to what a screen can show (0.1 pt, a fifth of a pixel of the 1200 px figure);
  glyph outlines (in 1/64 font units) stored at 1/8 of their precision with the scale adjusted;
- ids shortened, and dropped where nothing refers to them; `xlink:href` written as `href`;
- an embedded picture stays PNG (exact pixels: digits, feature maps, filters) unless it is a
  photograph, which WebP stores in a fraction of the bytes (it is kept only when less than
  half the PNG's size: flat pictures stay exact); the dark drawing reuses the light one's.

Run inside the figure worker (matplotlib and Pillow are there); the output is the same bytes on
every run of the same figure.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")
_PNG = re.compile(r"data:image/png;base64,\s*([A-Za-z0-9+/=\s]+)")
_GLYPH = re.compile(r'<path id="([^"]+)" d="([^"]*)" transform="scale\(([\d.]+)\)"/>')
_GLYPH_USE = re.compile(r'<use xlink:href="(#[^"]+)" transform="translate\(([-\d.e]+) 0\)"/>')
_ID = re.compile(r' id="([^"]+)"')
_REFERENCE = re.compile(r'(url\(#|href="#)([^)"]+)')
_NUMERIC_ATTRIBUTE = re.compile(r'( (?:x|y|width|height|transform|viewBox|points)=")([^"]*)"')
_STYLE_NUMBER = re.compile(r"(stroke-width|opacity|stroke-miterlimit|stroke-dashoffset): ?([\d.]+)")
_DATA_URI = re.compile(r"(data:image/[a-z]+;base64,[A-Za-z0-9+/=]+)")
GLYPH_COARSENING = 8  # glyph outlines are written in 1/64 font units; 1/8 is far below a pixel
PHOTO_WEBP_QUALITY = 75  # photographs and feature maps inside a figure; no text is in them


def svg_bytes(fig: Any) -> bytes:
    """The figure as matplotlib's SVG backend draws it, made lean (see the module docstring)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                                 "Type": None})
    return minify(buffer.getvalue().decode("utf-8")).encode("utf-8")


def _short(value: float) -> str:
    magnitude = abs(value)
    digits = 1 if magnitude >= 10 else 2 if magnitude >= 1 else 4
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _numbers(text: str) -> str:
    return _NUMBER.sub(lambda m: _short(float(m.group())), text)


def _path_data(data: str) -> str:
    data = re.sub(r"\s*([MLQCZz])\s*", r"\1", _numbers(data))
    return re.sub(r" -", "-", re.sub(r"\s+", " ", data)).strip()


def _glyph(match: re.Match) -> str:
    """A glyph outline at 1/GLYPH_COARSENING of matplotlib's precision, scaled back up."""
    coarse = _NUMBER.sub(lambda m: str(round(float(m.group()) / GLYPH_COARSENING)), match.group(2))
    scale = float(match.group(3)) * GLYPH_COARSENING
    return f'<path id="{match.group(1)}" d="{_path_data(coarse)}" transform="scale({_short(scale)})"/>'


_PICTURES: dict[bytes, str] = {}  # the same picture in the light and the dark drawing: encoded once
SMALL_PICTURE = 8192  # bytes of PNG below which a picture stays as matplotlib wrote it


def _picture(match: re.Match) -> str:
    raw = base64.b64decode(re.sub(r"\s", "", match.group(1)))
    if raw not in _PICTURES:
        _PICTURES[raw] = _smaller_picture(raw)
    return _PICTURES[raw]


def _smaller_picture(raw: bytes) -> str:
    """Matplotlib's PNG, or the same picture as WebP when that takes less than half the bytes
    (a photograph; flat pictures such as digits and feature maps stay exact)."""
    png = "data:image/png;base64," + base64.b64encode(raw).decode("ascii")
    if len(raw) < SMALL_PICTURE:
        return png
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as image:
        webp = io.BytesIO()
        # Keep the alpha channel: matplotlib composites the pictures of one axes into one, with
        # transparent gaps between them that must show the paper, not black.
        image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB").save(
            webp, format="WEBP", quality=PHOTO_WEBP_QUALITY, method=4)
    if len(webp.getvalue()) * 2 < len(raw):
        return "data:image/webp;base64," + base64.b64encode(webp.getvalue()).decode("ascii")
    return png


def _short_id(index: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    name = ""
    while True:
        name = letters[index % 26] + name
        index //= 26
        if not index:
            return name


def minify(text: str) -> str:
    """Matplotlib's SVG text, rewritten as the module docstring says."""
    # Matplotlib writes each text again as a comment: the picture has it as outlines already.
    text = re.sub(r"<\?xml.*?\?>\s*|<!DOCTYPE.*?>\s*|<metadata>.*?</metadata>\s*|<!--.*?-->\s*", "", text,
                  flags=re.S)
    text = _PNG.sub(_picture, text)
    text = re.sub(r"\s*\n\s*", " ", text)
    text = _GLYPH.sub(_glyph, text)
    text = _GLYPH_USE.sub(lambda m: f'<use href="{m.group(1)}" x="{_short(float(m.group(2)))}"/>', text)
    text = text.replace("xlink:href=", "href=")
    referenced = {name for _, name in _REFERENCE.findall(text)}
    short: dict[str, str] = {}
    for name in _ID.findall(text):
        if name in referenced and name not in short:
            short[name] = _short_id(len(short))
    text = _ID.sub(lambda m: f' id="{short[m.group(1)]}"' if m.group(1) in short else "", text)
    text = _REFERENCE.sub(lambda m: m.group(1) + short.get(m.group(2), m.group(2)), text)
    parts = _DATA_URI.split(text)  # never touch the digits of an embedded picture
    for index in range(0, len(parts), 2):
        part = re.sub(r' d="([^"]*)"', lambda m: f' d="{_path_data(m.group(1))}"', parts[index])
        part = _NUMERIC_ATTRIBUTE.sub(lambda m: f'{m.group(1)}{_numbers(m.group(2))}"', part)
        part = _STYLE_NUMBER.sub(lambda m: f"{m.group(1)}:{_short(float(m.group(2)))}", part)
        part = re.sub(r";\s+", ";", part).replace(": ", ":")
        parts[index] = part
    text = "".join(parts)
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "") if "xlink:" not in text else text
    text = re.sub(r">\s+<", "><", text)
    text = re.sub(r"<g>(<path [^>]*/>)</g>", r"\1", text)  # a group around one shape says nothing
    return text.strip() + "\n"
