"""What every drawn figure must pass before it is saved: nothing overlaps, text is readable.

Run by `FigureContext.save` on each matplotlib figure, so every build checks every figure.
After one full draw, every text artist's window extent is compared

- with the figure's edge (no text cut off),
- with every other text artist's extent,
- with every image and plot area it does not belong to (another axes' picture or plot),
- with the border of each box or patch it touches in its own axes (a label is either well
  inside a box, away from its border, or outside it), with arrows, and with plotted lines
  and markers of its own axes,

and its size is converted to CSS pixels as the theme shows the image: the smallest text on
a 360 px phone and the largest on a 1280 px screen (see the constants below, and the browser
test that measures them in Chromium).

Matplotlib is imported by the caller (the figure worker); this module only reads artists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# How the theme shows a figure (builder/theme/assets/theme.css): on a 360 px phone the post
# column is the screen less 1rem of padding each side; from 1280 px up a figure is at most
# 30rem wide; the article's h2 is 1.35rem. tests/test_figure_quality.py measures all three
# in Chromium, so a theme change that breaks them fails a test instead of passing silently.
PHONE_DISPLAY_PX = 328
DESKTOP_DISPLAY_PX = 480
# A wide layout (a second drawing of a tall figure) is shown from 40rem screens up, at most 55rem
# wide: 40rem less the page's 1.25rem padding each side at its narrowest.
WIDE_BREAKPOINT_PX = 640
WIDE_MIN_DISPLAY_PX = 600
WIDE_DISPLAY_PX = 880
ARTICLE_H2_CSS_PX = 21.6
MIN_TEXT_CSS_PX = 12.0

TEXT_GAP_PX = 2.0  # two texts closer than this (image px) are touching
BORDER_MARGIN_PX = 3.0  # a label inside a box keeps this far from its border line


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float  # image pixels, origin top-left
    x1: float
    y1: float

    def grown(self, by: float) -> Box:
        return Box(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)

    def meets(self, other: Box) -> bool:
        return self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1

    def holds(self, other: Box) -> bool:
        return (self.x0 <= other.x0 and self.y0 <= other.y0 and other.x1 <= self.x1
                and other.y1 <= self.y1)

    def __str__(self) -> str:
        return f"x {self.x0:.0f}–{self.x1:.0f}, y {self.y0:.0f}–{self.y1:.0f} px"


@dataclass(frozen=True)
class Element:
    label: str
    box: Box
    owner: Any  # the axes it belongs to; None for the figure itself


def check_figure(fig, display: tuple[float, float] = (PHONE_DISPLAY_PX, DESKTOP_DISPLAY_PX),
                 ) -> dict[str, Any]:
    """Draw `fig` once and return what was measured and every problem found.

    `display`: the narrowest and widest CSS width the theme shows this drawing at (a body figure:
    a 360 px phone's column to 30rem; a wide layout: see WIDE_*).
    Keys: `problems` (list of sentences naming both elements), `texts` (every visible text, in
    drawing order), `headline`, `subtitle`, `min_text_css_px_at_phone` (the smallest text at the
    narrowest display), `max_text_css_px_at_desktop` (the largest at the widest), `texts_checked`.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    height = fig.bbox.height
    width = fig.bbox.width

    def box_of(bbox) -> Box:
        return Box(bbox.x0, height - bbox.y1, bbox.x1, height - bbox.y0)

    texts = _visible_texts(fig)
    text_elements = [Element(_describe_text(t), box_of(_text_extent(t, renderer)), t.axes) for t in texts]
    problems: list[str] = []
    canvas = Box(0, 0, width, height)
    for element in text_elements:
        if not canvas.holds(element.box):
            problems.append(f"{element.label} runs off the figure's edge ({element.box})")
    for i, first in enumerate(text_elements):
        for second in text_elements[i + 1:]:
            if first.box.grown(TEXT_GAP_PX / 2).meets(second.box.grown(TEXT_GAP_PX / 2)):
                problems.append(f"{first.label} overlaps {second.label}")
    areas = _areas(fig, renderer, box_of)
    for element in text_elements:
        for area in areas:
            if area.owner is not element.owner and element.box.meets(area.box):
                problems.append(f"{element.label} overlaps {area.label}")
    patch_boxes = _patch_boxes(fig, renderer, box_of)  # measured once: rounded boxes are costly to measure
    for text, element in zip(texts, text_elements, strict=True):
        problems += _own_axes_problems(fig, text, element, patch_boxes, box_of)
    problems += _size_problems(fig, texts, width, display)
    sizes = [t.get_fontsize() * fig.dpi / 72 for t in texts]
    shown = min(width, display[0]) / width, min(width, display[1]) / width
    return {
        "problems": problems,
        "texts": [t.get_text() for t in texts],
        "headline": next((t.get_text() for t in texts if t.get_gid() == "headline"), None),
        "subtitle": next((t.get_text() for t in texts if t.get_gid() == "subtitle"), None),
        "texts_checked": len(texts),
        "min_text_px": round(min(sizes), 1) if sizes else None,
        "min_text_css_px_at_phone": round(min(sizes) * shown[0], 2) if sizes else None,
        "max_text_css_px_at_desktop": round(max(sizes) * shown[1], 2) if sizes else None,
    }


def _visible_texts(fig) -> list:
    """Every text that a draw of `fig` puts on the canvas, found the way matplotlib draws:
    invisible artists and their children are skipped, an axes drawn with `axis("off")` draws
    no ticks or axis labels, and an axis draws only the ticks inside its view."""
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    found = []

    def visit(artist) -> None:
        if not artist.get_visible():
            return
        if isinstance(artist, Axis):
            if not artist.axes.axison:
                return
            for tick in artist._update_ticks():
                found.extend(label for label in (tick.label1, tick.label2) if label.get_visible())
            found.extend(t for t in (artist.label, artist.offsetText) if t.get_visible())
            return
        if isinstance(artist, Text):
            found.append(artist)
        for child in artist.get_children():
            visit(child)

    visit(fig)
    unique = list(dict.fromkeys(found))
    return [t for t in unique if t.get_text().strip() and t.get_alpha() != 0]


def _text_extent(text, renderer):
    """The text's own box, grown to its background box (annotations) when it has one."""
    from matplotlib.transforms import Bbox

    extent = text.get_window_extent(renderer)
    patch = text.get_bbox_patch()
    if patch is not None:
        extent = Bbox.union([extent, patch.get_window_extent(renderer)])
    return extent


def _describe_text(text) -> str:
    words = " ".join(text.get_text().split())
    return f'text "{words[:48]}{"…" if len(words) > 48 else ""}"'


def _axes_name(fig, axes) -> str:
    return f"axes {fig.axes.index(axes) + 1}" if axes is not None else "the figure"


def _areas(fig, renderer, box_of) -> list[Element]:
    """What a text from elsewhere must not cover: every picture, and every plot area with its
    frame; for an axes drawn without a frame (a canvas for boxes and arrows), each thing on it."""
    areas = []
    for axes in fig.axes:
        if not axes.get_visible():
            continue
        name = _axes_name(fig, axes)
        for image in axes.images:
            if image.get_visible():
                areas.append(Element(f"the image in {name}", box_of(image.get_window_extent(renderer)), axes))
        if axes.axison:
            areas.append(Element(f"the plot area of {name}", box_of(axes.bbox), axes))
            continue
        for artist in _drawn(axes):
            areas.append(Element(f"{_describe_artist(artist)} in {name}",
                                 box_of(artist.get_window_extent(renderer)), axes))
    for image in fig.images:
        areas.append(Element("a picture placed on the figure", box_of(image.get_window_extent(renderer)),
                             None))
    return areas


def _drawn(axes) -> list:
    """Patches, lines and collections an axes actually draws (not its background)."""
    items = [p for p in axes.patches if p.get_visible()]
    items += [line for line in axes.lines if line.get_visible() and len(line.get_xydata())]
    items += [c for c in axes.collections if c.get_visible()]
    return items


def _describe_artist(artist) -> str:
    kind = type(artist).__name__
    gid = artist.get_gid()
    return f"the {kind} {gid!r}" if gid else f"a {kind}"


def _patch_boxes(fig, renderer, box_of) -> dict[Any, list[tuple[Any, Box, float]]]:
    """For the figure and each axes: its visible patches, their boxes, and half their line width."""
    px_per_pt = fig.dpi / 72
    found = {}
    for owner, patches in [(None, fig.patches), *[(axes, axes.patches) for axes in fig.axes]]:
        found[owner] = [(patch, box_of(patch.get_window_extent(renderer)),
                         patch.get_linewidth() * px_per_pt / 2 if patch.get_edgecolor()[3] > 0 else 0.0)
                        for patch in patches if patch.get_visible()]
    return found


def _own_axes_problems(fig, text, element: Element, patch_boxes, box_of) -> list[str]:
    """A text against the boxes, arrows and lines of the axes (or figure) it is drawn in."""
    from matplotlib.patches import FancyArrowPatch

    owner = text.axes
    problems = []
    for patch, box, half_line in patch_boxes.get(owner, []):
        if patch is getattr(text, "arrow_patch", None) or not element.box.meets(box.grown(half_line)):
            continue
        where = f"{_describe_artist(patch)} ({box}) in {_axes_name(fig, owner)}"
        if isinstance(patch, FancyArrowPatch):
            problems.append(f"{element.label} touches {where}")
        elif not box.grown(-(half_line + BORDER_MARGIN_PX)).holds(element.box):
            problems.append(f"{element.label} crosses the border of {where}")
    if owner is not None:
        frame = box_of(owner.bbox)
        seen = Box(max(element.box.x0, frame.x0), max(element.box.y0, frame.y0),
                   min(element.box.x1, frame.x1), min(element.box.y1, frame.y1))
        for line in owner.lines:
            clipped = line.get_clip_on()
            if clipped and (seen.x0 >= seen.x1 or seen.y0 >= seen.y1):
                continue  # the line is cut at the frame; this text lies outside it
            if line.get_visible() and _line_meets(line, seen if clipped else element.box, fig):
                problems.append(f"{element.label} overlaps {_describe_artist(line)} in "
                                f"{_axes_name(fig, owner)}")
    return problems


def _line_meets(line, box: Box, fig) -> bool:
    """Whether a plotted line's segments or markers enter the box."""
    import numpy as np

    points = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
    if not len(points):
        return False
    height = fig.bbox.height
    points = np.column_stack([points[:, 0], height - points[:, 1]])
    px_per_pt = fig.dpi / 72
    if line.get_marker() not in (None, "None", "", " "):
        reach = line.get_markersize() * px_per_pt / 2
        marked = box.grown(reach)
        inside = ((points[:, 0] > marked.x0) & (points[:, 0] < marked.x1) & (points[:, 1] > marked.y0)
                  & (points[:, 1] < marked.y1))
        if inside.any():
            return True
    if line.get_linestyle() in ("None", "", " ") or len(points) < 2:
        return False
    grown = box.grown(line.get_linewidth() * px_per_pt / 2)
    return any(_segment_meets(a, b, grown) for a, b in zip(points[:-1], points[1:], strict=True))


def _segment_meets(a, b, box: Box) -> bool:
    """Liang–Barsky clipping: does the segment a→b pass through the box?"""
    t0, t1 = 0.0, 1.0
    dx, dy = b[0] - a[0], b[1] - a[1]
    for p, q in ((-dx, a[0] - box.x0), (dx, box.x1 - a[0]), (-dy, a[1] - box.y0), (dy, box.y1 - a[1])):
        if p == 0:
            if q < 0:
                return False
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return False
    return True


def _size_problems(fig, texts, width: float, display: tuple[float, float]) -> list[str]:
    """One sentence per rule broken, naming the worst text and how many others break it."""
    phone = min(width, display[0]) / width
    desktop = min(width, display[1]) / width
    narrowest = "on a 360 px phone" if display[0] == PHONE_DISPLAY_PX else f"at {display[0]:g} CSS px wide"
    widest = "on a 1280 px screen" if display[1] == DESKTOP_DISPLAY_PX else f"at {display[1]:g} CSS px wide"
    sized = sorted(((t.get_fontsize() * fig.dpi / 72, i, t) for i, t in enumerate(texts)),
                   key=lambda item: item[:2])
    small = [(px, t) for px, _, t in sized if px * phone < MIN_TEXT_CSS_PX - 1e-6]
    large = [(px, t) for px, _, t in reversed(sized) if px * desktop > ARTICLE_H2_CSS_PX + 1e-6]
    problems = []
    if small:
        px, text = small[0]
        others = f" (and {len(small) - 1} more texts)" if len(small) > 1 else ""
        problems.append(f"{_describe_text(text)}{others} is {px * phone:.1f} CSS px {narrowest}, "
                        f"below {MIN_TEXT_CSS_PX:g}")
    if large:
        px, text = large[0]
        others = f" (and {len(large) - 1} more texts)" if len(large) > 1 else ""
        problems.append(f"{_describe_text(text)}{others} is {px * desktop:.1f} CSS px {widest}, "
                        f"larger than the article's headings ({ARTICLE_H2_CSS_PX:g})")
    return problems
