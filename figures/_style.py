"""One visual family for every figure: font, palette, sizes, title block.

Sizes follow from how the theme shows a figure (the figure worker checks them on every save):
a body figure is 1200 px wide (8 in at 150 dpi). On a 360 px phone it is shown 328 CSS px wide,
so SMALL (21.5 pt = 44.8 px) reads as 12.2 CSS px there, the least we allow. On a 1280 px
screen it is shown 480 CSS px wide, so TITLE (25.5 pt = 53.1 px) reads as 21.2 CSS px, no
larger than the article's own second-level headings (21.6 CSS px): a figure never outshouts
the text around it.

Every figure is drawn twice from the same numbers: once with the light palette and once with
the dark one (for readers whose system is in dark mode). Scripts read colours as module
attributes (`S.INK`, `S.BLUE`, ...) while drawing; they resolve to the palette in use, which
`use(scheme)` sets (matplotlib's own defaults follow it too). `themed(draw, ...)` wraps a draw
function so that the figure worker can call it once per scheme. Photos and data images keep
their own colours in both.

A wide layout (`WIDE_WIDTH_PX`) is drawn for screens from 40rem up, where the theme shows it up
to 55rem wide: the same text sizes at that width as a body figure at 30rem.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402

WIDTH_IN = 8.0
DPI = 150
WIDTH_PX = WIDTH_IN * DPI
WIDE_WIDTH_PX = 2200  # a wide layout: shown up to 880 CSS px, the same scale (0.4) as 1200 at 480
MARGIN_PX = 48  # left and right margin of the title block and of full-width content
SMALL = 21.5
BODY = 23
TITLE = 25.5


@dataclass(frozen=True)
class Palette:
    name: str  # "light" or "dark"
    ink: str
    muted: str
    blue: str
    orange: str
    green: str
    red: str
    purple: str
    teal: str
    pink: str
    olive: str
    light: str
    paper: str
    rule: str
    on_fill: str  # text on a saturated fill (a bar)
    maps: str  # colormap of feature maps and activations
    diverging: str  # colormap of signed values such as kernels
    surface: tuple[str, str]  # a loss surface: its smallest value (pale) to its largest
    ink_map: str  # a grey image of ink on this paper (a handwritten digit)
    series: tuple[str, ...] = field(default=())


LIGHT_PALETTE = Palette(
    name="light", ink="#1d1f23", muted="#5b6270", blue="#0b5cad", orange="#e07b00", green="#2e8b57",
    red="#c0392b", purple="#7b4fa0", teal="#1f8c8c", pink="#c2185b", olive="#8c6d1f", light="#e6f0fa",
    paper="#fdfcfa", rule="#d9d6cf", on_fill="#ffffff", maps="magma", diverging="RdBu_r",
    surface=("#f7fbff", "#08306b"), ink_map="gray_r",
    series=("#0b5cad", "#e07b00", "#2e8b57", "#c0392b", "#7b4fa0", "#8c6d1f", "#1f8c8c", "#c2185b",
            "#546e7a", "#6d4c41"))

# The theme's dark page (#15171b) and text (#e7e7e4); hues lifted so that each keeps at least
# 4.5:1 against the paper, as text and thin lines need.
DARK_PALETTE = Palette(
    name="dark", ink="#e7e7e4", muted="#a9afba", blue="#7cb8f5", orange="#f5a54a", green="#5fc88f",
    red="#f28b7d", purple="#c39cf0", teal="#4fc4c4", pink="#f47fb0", olive="#d2b15a", light="#1d2a38",
    paper="#15171b", rule="#3a3f48", on_fill="#15171b", maps="magma", diverging="RdBu_r",
    surface=("#cfe3f7", "#142338"), ink_map="gray",
    series=("#7cb8f5", "#f5a54a", "#5fc88f", "#f28b7d", "#c39cf0", "#d2b15a", "#4fc4c4", "#f47fb0",
            "#a7bcc6", "#c9a48f"))

PALETTES = {"light": LIGHT_PALETTE, "dark": DARK_PALETTE}
_current = LIGHT_PALETTE
# Module attribute -> palette field, resolved while drawing (see __getattr__).
_COLOURS = {"INK": "ink", "MUTED": "muted", "BLUE": "blue", "ORANGE": "orange", "GREEN": "green",
            "RED": "red", "PURPLE": "purple", "TEAL": "teal", "PINK": "pink", "OLIVE": "olive",
            "LIGHT": "light", "PAPER": "paper", "RULE": "rule", "ON_FILL": "on_fill", "MAPS": "maps",
            "DIVERGING": "diverging", "INK_MAP": "ink_map"}


def __getattr__(name: str):
    """`S.INK`, `S.BLUE`, ...: the colour of the palette in use (module attributes resolved now,
    not at import, so that one script draws in either palette)."""
    if name in _COLOURS:
        return getattr(_current, _COLOURS[name])
    if name == "PALETTE":
        return list(_current.series)
    if name == "PALETTE_IN_USE":
        return _current
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rc(p: Palette) -> dict:
    return {
        # DejaVu Sans ships with matplotlib and covers every Vietnamese letter.
        "font.family": "DejaVu Sans",
        "font.size": BODY,
        "axes.titlesize": BODY,
        "axes.labelsize": BODY,
        "xtick.labelsize": SMALL,
        "ytick.labelsize": SMALL,
        "legend.fontsize": SMALL,
        "axes.edgecolor": p.muted,
        "axes.labelcolor": p.ink,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "xtick.color": p.muted,
        "ytick.color": p.muted,
        "text.color": p.ink,
        "figure.facecolor": p.paper,
        "axes.facecolor": p.paper,
        "savefig.facecolor": "auto",  # the figure's own paper, whichever palette drew it
        "figure.dpi": DPI,
        "axes.prop_cycle": plt.cycler(color=list(p.series)),
        "svg.fonttype": "path",  # glyphs as outlines: the same letters without DejaVu Sans installed
        # Unhinted glyphs: the raster places letters exactly where the SVG does (hinting moves
        # each by a fraction of a pixel, a line's end by a few), so one layout check holds for both.
        "text.hinting": "no_hinting",
        "svg.hashsalt": "figure",  # stable ids: the same SVG bytes on every run
    }


plt.rcParams.update(_rc(LIGHT_PALETTE))


@contextmanager
def use(scheme: str) -> Iterator[Palette]:
    """Draw with the named palette ("light" or "dark") inside this block."""
    global _current
    previous, _current = _current, PALETTES[scheme]
    try:
        with plt.rc_context(_rc(_current)):
            yield _current
    finally:
        _current = previous


def themed(draw: Callable, *args, **kwargs) -> Callable:
    """`draw(*args, **kwargs)` as the figure worker calls it: once per colour scheme, with that
    scheme's palette in use while the figure is drawn and written (`finish(fig)`; matplotlib
    makes some artists, such as ticks, only then). The numbers are computed once, before; only
    the drawing repeats."""

    def in_scheme(scheme: str, finish: Callable):
        with use(scheme):
            return finish(draw(*args, **kwargs))

    return in_scheme


def tint(colour: str, strength: float = 0.22) -> str:
    """`colour` laid thinly over the paper: a soft fill (light on light paper, dark on dark)."""
    from matplotlib.colors import to_hex, to_rgb

    top, paper = to_rgb(colour), to_rgb(_current.paper)
    return to_hex([strength * t + (1 - strength) * b for t, b in zip(top, paper, strict=True)])


def surface_map():
    """The loss surface's colormap: pale for small values, deep for large ones, in either palette."""
    from matplotlib.colors import LinearSegmentedColormap

    low, high = _current.surface
    return LinearSegmentedColormap.from_list(f"surface-{_current.name}", [low, high])


def figure(height_in: float, width_in: float = WIDTH_IN):
    return plt.figure(figsize=(width_in, height_in), dpi=DPI)


_TEXT_PATHS = TextToPath()


def text_width_px(text: str, size: float, bold: bool = False, family: str = "DejaVu Sans") -> float:
    """Width of one line as matplotlib will draw it, in image pixels."""
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=family, size=size, weight="bold" if bold else "normal")
    width, _, _ = _TEXT_PATHS.get_text_width_height_descent(text, prop, ismath=False)
    return width * DPI / 72


def wrap(text: str, width_px: float, size: float = SMALL, bold: bool = False) -> str:
    """Greedy line breaking by measured width (not by a character count), so a line never
    runs past `width_px` whatever its letters."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if line and text_width_px(candidate, size, bold) > width_px:
                lines.append(line)
                line = word
            else:
                line = candidate
        lines.append(line)
    return "\n".join(lines)


def line_px(points: float, spacing: float = 1.2) -> float:
    """Height of one line of text at `points`, in image pixels."""
    return points * DPI / 72 * spacing


TITLE_SPACING, SUBTITLE_SPACING = 1.15, 1.25


def _header(title: str, subtitle: str, width_px: float) -> tuple[str, str]:
    width = width_px - 2 * MARGIN_PX
    return wrap(title, width, TITLE, bold=True), wrap(subtitle, width, SMALL) if subtitle else ""


def header_height_px(title: str, subtitle: str = "", width_px: float = WIDTH_PX) -> float:
    """Height that `title_block` takes, for laying out a figure before it exists."""
    title, subtitle = _header(title, subtitle, width_px)
    height = 25 + line_px(TITLE, TITLE_SPACING) * (title.count("\n") + 1) + 12
    if subtitle:
        height += line_px(SMALL, SUBTITLE_SPACING) * (subtitle.count("\n") + 1)
    return height + 36


def title_block(fig, title: str, subtitle: str = "") -> float:
    """Headline and an honest subtitle (what was made, and how) at the top; returns the figure
    fraction below them, where the content may start. The headline's gid marks it for the
    worker's check that it stays no larger than the article's own headings."""
    width_px, height_px = fig.get_size_inches() * DPI
    wrapped_title, wrapped_subtitle = _header(title, subtitle, width_px)
    y = 1 - 25 / height_px
    left = MARGIN_PX / width_px
    fig.text(left, y, wrapped_title, fontsize=TITLE, fontweight="bold", va="top", color=_current.ink,
             linespacing=TITLE_SPACING, gid="headline")
    y -= (line_px(TITLE, TITLE_SPACING) * (wrapped_title.count("\n") + 1) + 12) / height_px
    if wrapped_subtitle:
        fig.text(left, y, wrapped_subtitle, fontsize=SMALL, va="top", color=_current.muted,
                 linespacing=SUBTITLE_SPACING, gid="subtitle")
    return 1 - header_height_px(title, subtitle, width_px) / height_px


class Layout:
    """Pixel coordinates from the top-left corner of a figure of known height, converted to the
    figure fractions matplotlib wants (its origin is bottom-left)."""

    def __init__(self, fig, height_px: float):
        self.fig, self.height = fig, height_px
        self.width = fig.get_size_inches()[0] * DPI

    def y(self, top_px: float) -> float:
        return 1 - top_px / self.height

    def h(self, px: float) -> float:
        return px / self.height

    def x(self, px: float) -> float:
        return px / self.width

    def axes(self, left_px: float, top_px: float, width_px: float, height_px: float, off: bool = True):
        """An axes whose box is given in pixels from the top-left corner."""
        ax = self.fig.add_axes([self.x(left_px), self.y(top_px + height_px), self.x(width_px),
                                self.h(height_px)])
        if off:
            ax.axis("off")
        return ax

    def text(self, left_px: float, top_px: float, text: str, **style):
        style.setdefault("va", "top")
        style.setdefault("fontsize", SMALL)
        return self.fig.text(self.x(left_px), self.y(top_px), text, **style)

    def canvas(self, left_px: float, top_px: float, width_px: float, height_px: float):
        """An axes without frame whose data units are pixels from its own top-left corner
        (y grows downwards), for laying out boxes, images and labels exactly."""
        ax = self.axes(left_px, top_px, width_px, height_px)
        ax.set_xlim(0, width_px)
        ax.set_ylim(height_px, 0)
        return ax


def number(value: float, digits: int = 1) -> str:
    """A decimal number as Vietnamese writes it: a comma before the decimals."""
    return f"{value:.{digits}f}".replace(".", ",")
