"""The figures page's data: every figure of the manifest with its highlighted script, its
numbers held against their bars, and the posts that show it. The theme's `figures.html` lays it
out; this module decides nothing a reader sees but what is there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builder import store, strings
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
    sources = config.cache_dir / "figures" / "sources"
    found, kept = [], set()
    for record in site.figures.published():
        figure = declared.get(record.name)
        script = figure.script if figure else config.figures_dir / Path(record.script).name
        source_html, lines, cached = highlighted(script, sources)
        kept.add(cached)
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
    _forget_others(sources, kept)
    return found


def highlighted(script: Path, cache: Path) -> tuple[str, int, str]:
    """A script's source as Pygments HTML (the `.highlight` colours of code.css), its lines, and
    the name of the cached copy. Highlighting ten scripts takes Pygments about a tenth of a
    second, on every build that makes pages: the HTML is kept in `cache`, named by the script's
    text and Pygments' version, so it is made again only when either changes."""
    try:
        text = script.read_text(encoding="utf-8")
    except OSError:
        return "", 0, ""
    import pygments

    name = store.digest([text, pygments.__version__, HIGHLIGHT_OPTIONS])[:32] + ".html"
    try:
        return (cache / name).read_text(encoding="utf-8"), text.count("\n"), name
    except (OSError, UnicodeDecodeError):
        pass
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import PythonLexer

    html = pygments.highlight(text, PythonLexer(), HtmlFormatter(**HIGHLIGHT_OPTIONS))
    store.atomic_write(cache / name, html, durable=False)  # damaged: read as a miss, made again
    return html, text.count("\n"), name


HIGHLIGHT_OPTIONS = {"cssclass": "highlight", "wrapcode": True}


def _forget_others(cache: Path, kept: set[str]) -> None:
    """Only the highlighted sources of the scripts as they are now stay in the cache."""
    if cache.is_dir():
        for stale in cache.glob("*.html"):
            if stale.name not in kept:
                stale.unlink(missing_ok=True)


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

