"""One visual family for every figure: font, palette, sizes, title block.

Sizes follow from how the theme shows a figure (the figure worker checks them on every save):
a body figure is 1200 px wide (8 in at 150 dpi). On a 360 px phone it is shown 328 CSS px wide,
so SMALL (21.5 pt = 44.8 px) reads as 12.2 CSS px there, the least we allow. On a 1280 px
screen it is shown 480 CSS px wide, so TITLE (25.5 pt = 53.1 px) reads as 21.2 CSS px, no
larger than the article's own second-level headings (21.6 CSS px): a figure never outshouts
the text around it.

Colours live in one `Palette` so that another one (a dark variant) can be swapped in later;
scripts use the module-level names below, which are the light palette's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.textpath import TextToPath  # noqa: E402

WIDTH_IN = 8.0
DPI = 150
WIDTH_PX = WIDTH_IN * DPI
MARGIN_PX = 48  # left and right margin of the title block and of full-width content
SMALL = 21.5
BODY = 23
TITLE = 25.5


@dataclass(frozen=True)
class Palette:
    ink: str
    muted: str
    blue: str
    orange: str
    green: str
    red: str
    purple: str
    light: str
    paper: str
    rule: str
    maps: str  # colormap of feature maps and activations
    diverging: str  # colormap of signed values such as kernels
    series: tuple[str, ...] = field(default=())


LIGHT_PALETTE = Palette(
    ink="#1d1f23", muted="#5b6270", blue="#0b5cad", orange="#e07b00", green="#2e8b57",
    red="#c0392b", purple="#7b4fa0", light="#e6f0fa", paper="#fdfcfa", rule="#d9d6cf",
    maps="magma", diverging="RdBu_r",
    series=("#0b5cad", "#e07b00", "#2e8b57", "#c0392b", "#7b4fa0", "#8c6d1f", "#1f8c8c", "#c2185b",
            "#546e7a", "#6d4c41"))

PALETTE_IN_USE = LIGHT_PALETTE
_P = PALETTE_IN_USE
INK, MUTED, BLUE, ORANGE = _P.ink, _P.muted, _P.blue, _P.orange
GREEN, RED, PURPLE = _P.green, _P.red, _P.purple
LIGHT, PAPER, RULE, MAPS, DIVERGING = _P.light, _P.paper, _P.rule, _P.maps, _P.diverging
PALETTE = list(PALETTE_IN_USE.series)

plt.rcParams.update({
    # DejaVu Sans ships with matplotlib and covers every Vietnamese letter.
    "font.family": "DejaVu Sans",
    "font.size": BODY,
    "axes.titlesize": BODY,
    "axes.labelsize": BODY,
    "xtick.labelsize": SMALL,
    "ytick.labelsize": SMALL,
    "legend.fontsize": SMALL,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "text.color": INK,
    "figure.facecolor": PAPER,
    "axes.facecolor": PAPER,
    "savefig.facecolor": PAPER,
    "figure.dpi": DPI,
    "axes.prop_cycle": plt.cycler(color=PALETTE),
})


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


def _header(title: str, subtitle: str) -> tuple[str, str]:
    width = WIDTH_PX - 2 * MARGIN_PX
    return wrap(title, width, TITLE, bold=True), wrap(subtitle, width, SMALL) if subtitle else ""


def header_height_px(title: str, subtitle: str = "") -> float:
    """Height that `title_block` takes, for laying out a figure before it exists."""
    title, subtitle = _header(title, subtitle)
    height = 25 + line_px(TITLE, TITLE_SPACING) * (title.count("\n") + 1) + 12
    if subtitle:
        height += line_px(SMALL, SUBTITLE_SPACING) * (subtitle.count("\n") + 1)
    return height + 36


def title_block(fig, title: str, subtitle: str = "") -> float:
    """Headline and an honest subtitle (what was made, and how) at the top; returns the figure
    fraction below them, where the content may start. The headline's gid marks it for the
    worker's check that it stays no larger than the article's own headings."""
    height_px = fig.get_size_inches()[1] * DPI
    wrapped_title, wrapped_subtitle = _header(title, subtitle)
    y = 1 - 25 / height_px
    left = MARGIN_PX / WIDTH_PX
    fig.text(left, y, wrapped_title, fontsize=TITLE, fontweight="bold", va="top", color=INK,
             linespacing=TITLE_SPACING, gid="headline")
    y -= (line_px(TITLE, TITLE_SPACING) * (wrapped_title.count("\n") + 1) + 12) / height_px
    if wrapped_subtitle:
        fig.text(left, y, wrapped_subtitle, fontsize=SMALL, va="top", color=MUTED,
                 linespacing=SUBTITLE_SPACING, gid="subtitle")
    return 1 - header_height_px(title, subtitle) / height_px


class Layout:
    """Pixel coordinates from the top-left corner of a figure of known height, converted to the
    figure fractions matplotlib wants (its origin is bottom-left)."""

    def __init__(self, fig, height_px: float):
        self.fig, self.height = fig, height_px

    def y(self, top_px: float) -> float:
        return 1 - top_px / self.height

    def h(self, px: float) -> float:
        return px / self.height

    @staticmethod
    def x(px: float) -> float:
        return px / WIDTH_PX

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
