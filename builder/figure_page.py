"""The figures page's data: every figure of the manifest with its highlighted script, its
numbers held against their bars, and the posts that show it. The theme's `figures.html` lays it
out; this module decides nothing a reader sees but what is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from builder import strings
from builder.config import Config
from builder.model import FigureEntry, FigureRecord, MetricRow, Post, Site
from builder.render import site_path

LIST_SHOWN = 12  # a list of numbers longer than this (an image, a table) stays in figures.json


def page_url(config: Config) -> str:
    """The figures page's site path, in the site's language ("/hinh/" in Vietnamese)."""
    return strings.table(config.lang)["figures_page_url"]


def entries(site: Site) -> list[FigureEntry]:
    """One entry per figure that has a record, by name."""
    config = site.config
    declared = {figure.name: figure for figure in site.figures.figures}
    provenance = site.figures.provenance(config.baseurl, site.images)
    shown_in = posts_by_image(site)
    found = []
    for record in site.figures.published():
        figure = declared.get(record.name)
        script = figure.script if figure else config.figures_dir / Path(record.script).name
        source_html, lines = highlighted(script)
        bars = figure.bars_for(record.quick) if figure else {}
        reported, more = _reported(record, bars)
        pictures = tuple((config.baseurl + path, provenance[config.baseurl + path]) for path in record.outputs
                         if config.baseurl + path in provenance)
        posts = {post.url: post for path in record.outputs for post in shown_in.get(path, [])}
        found.append(FigureEntry(
            record=record, href=f"{config.baseurl}/{record.script}", source_html=source_html,
            source_lines=lines,
            pictures=pictures, bars=tuple(_against_bars(record, bars)), reported=tuple(reported),
            more_metrics=more, posts=tuple(posts.values())))
    return found


def highlighted(script: Path) -> tuple[str, int]:
    """A script's source as Pygments HTML (the `.highlight` colours of code.css), and its lines."""
    try:
        text = script.read_text(encoding="utf-8")
    except OSError:
        return "", 0
    html = highlight(text, PythonLexer(), HtmlFormatter(cssclass="highlight", wrapcode=True))
    return html, text.count("\n")


def posts_by_image(site: Site) -> dict[str, list[Post]]:
    """Site path -> the posts whose body or background shows it, newest first."""
    shown: dict[str, list[Post]] = {}
    for post in site.posts:
        paths = [site_path(src, site.config.baseurl) for src in post.rendered.images]
        if post.background.startswith("/"):
            paths.append(post.background)
        for path in dict.fromkeys(p for p in paths if p):
            shown.setdefault(path, []).append(post)
    return shown


def _against_bars(record: FigureRecord, bars: dict[str, float]) -> list[MetricRow]:
    rows = []
    for name, minimum in bars.items():
        value = (record.metrics or {}).get(name)
        values = value if isinstance(value, list) else [value]
        met = value is not None and all(v is not None and v >= minimum for v in values)
        rows.append(MetricRow(name, value, minimum, met))
    return rows


def _reported(record: FigureRecord, bars: dict[str, float]) -> tuple[list[MetricRow], bool]:
    """The metrics without a bar that read as a value (a number, a text, a short list of
    numbers); whether others (matrices, network layouts) were left to figures.json."""
    rows, more = [], False
    for name, value in (record.metrics or {}).items():
        if name in bars:
            continue
        if _readable(value):
            rows.append(MetricRow(name, value))
        else:
            more = True
    return rows, more


def _readable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return (isinstance(value, list) and 0 < len(value) <= LIST_SHOWN
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value))

