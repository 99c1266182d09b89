"""One visual family for every figure: font, palette, sizes, title block.

Sizes are chosen for phones: a body figure is 1200 px wide (8 in at 150 dpi) and is shown
about 328 CSS px wide on a 360 px phone, so 1 CSS px there is ~3.7 image px. SMALL (20 pt =
42 px) is the smallest text allowed and still reads as ~11 CSS px on that phone.
"""

from __future__ import annotations

import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

WIDTH_IN = 8.0
DPI = 150
SMALL = 20
BODY = 22
TITLE = 30

INK = "#1d1f23"
MUTED = "#5b6270"
BLUE = "#0b5cad"
ORANGE = "#e07b00"
GREEN = "#2e8b57"
RED = "#c0392b"
PURPLE = "#7b4fa0"
LIGHT = "#e6f0fa"
PAPER = "#fdfcfa"
RULE = "#d9d6cf"
PALETTE = [BLUE, ORANGE, GREEN, RED, PURPLE, "#8c6d1f", "#1f8c8c", "#c2185b", "#546e7a", "#6d4c41"]
MAPS = "magma"  # feature maps and activations
DIVERGING = "RdBu_r"  # signed values such as kernels

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


def wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width))


TITLE_CHARS = 30  # what fits across 1200 px at TITLE size (DejaVu Sans averages ~0.6 em)
SUBTITLE_CHARS = 44


def _line_px(points: float) -> float:
    return points * DPI / 72 * 1.3


def _header(title: str, subtitle: str) -> tuple[str, str]:
    return wrap(title, TITLE_CHARS), wrap(subtitle, SUBTITLE_CHARS) if subtitle else ""


def header_height_px(title: str, subtitle: str = "") -> float:
    """Height that `title_block` takes, for laying out a figure before it exists."""
    title, subtitle = _header(title, subtitle)
    height = 25 + _line_px(TITLE) * (title.count("\n") + 1)
    if subtitle:
        height += _line_px(SMALL) * (subtitle.count("\n") + 1.6)
    return height + 20


def title_block(fig, title: str, subtitle: str = "") -> float:
    """Title and an honest subtitle (how the figure was made) at the top; returns the
    figure fraction below them, where the content may start."""
    height_px = fig.get_size_inches()[1] * DPI
    wrapped_title, wrapped_subtitle = _header(title, subtitle)
    y = 1 - 25 / height_px
    fig.text(0.04, y, wrapped_title, fontsize=TITLE, fontweight="bold", va="top", color=INK,
             linespacing=1.15)
    y -= _line_px(TITLE) * (wrapped_title.count("\n") + 1) / height_px
    if wrapped_subtitle:
        fig.text(0.04, y - _line_px(SMALL) * 0.3 / height_px, wrapped_subtitle, fontsize=SMALL,
                 va="top", color=MUTED, linespacing=1.25)
    return 1 - header_height_px(title, subtitle) / height_px
