"""Jinja2 environment and the context every template gets: `Site` -> pages' HTML.

Everything a reader sees is in the theme: the layouts set their own titles and descriptions,
the interface strings come from the language's table (`t`), and the figure notes and `blog
serve`'s error are templates too, so `_templates/` can change any of it.
"""

from __future__ import annotations

import dataclasses
import traceback
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from builder import figure_page, mathjax, strings
from builder.config import Config
from builder.errors import BuildError
from builder.model import Document, Post, Provenance, Rendered, Site
from builder.permalinks import HTML_EXTENSIONS
from builder.text import category_slug, slugify, vi_date

THEME = Path(__file__).parent / "theme"
THEME_ASSETS = THEME / "assets"
THEME_ASSET_URL = "/assets/theme/"
TOC_MIN_HEADINGS = 4
PROVENANCE_TEMPLATE = "_provenance.html"


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, by file and source checksum (Jinja2
    checks it: a changed template is compiled again). Every build makes a new environment, so
    without this `blog serve`'s rebuilds compiled every template again each time."""

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def make_environment(config: Config | None = None) -> jinja2.Environment:
    """Theme templates, each overridable by a file of the same name in `_templates/`. Without
    a config (`blog serve` before any config was read): the theme alone, in the default language."""
    config = config or Config(source=Path("."), destination=Path("."))
    loaders = []
    overrides = config.source / "_templates"
    if overrides.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(overrides)))
    loaders.append(jinja2.FileSystemLoader(str(THEME / "templates")))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "xml"], default=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_COMPILED,
    )
    env.filters["long_date"] = lambda value: strings.long_date(value, config.lang)
    env.filters["vi_date"] = vi_date  # what _templates/ overrides written before long_date use
    env.filters["slugify"] = slugify
    separator = strings.table(config.lang)["decimal_separator"]
    env.filters["decimal"] = lambda value, places=1: f"{value:.{places}f}".replace(".", separator)
    env.filters["number"] = lambda value: _number(value, separator)
    env.filters["from_iso"] = datetime.fromisoformat
    env.globals["t"] = strings.table(config.lang)
    env.globals["lang"] = config.lang
    return env


def provenance_notes(config: Config, provenance: dict[str, Provenance]) -> dict[str, Provenance]:
    """Each generated image's provenance with its note's HTML, from `_provenance.html` (which
    links to the figure's entry on the figures page)."""
    if not provenance:
        return provenance
    env = make_environment(config)
    template = env.get_template(PROVENANCE_TEMPLATE)
    figures_page = config.baseurl + figure_page.page_url(config)
    noted = {}
    for src, made in provenance.items():
        note = _render(env, PROVENANCE_TEMPLATE, src, {"made": made, "figures_page": figures_page}).strip()
        try:  # the note goes into the post's element tree
            ET.fromstring(note)
        except ET.ParseError as err:
            raise BuildError(f"the figure note must be one well-formed XHTML element: {err}",
                             template.filename) from err
        noted[src] = dataclasses.replace(made, note=note)
    return noted


def serve_error(env: jinja2.Environment, error: str, has_build: bool) -> str:
    """`blog serve`'s error over the page (the last good build, or none)."""
    return env.get_template("_serve_error.html").render(error=error, has_build=has_build)


def serve_no_build_page(env: jinja2.Environment) -> str:
    """What `blog serve` shows (with the error over it) when there is no build at all yet."""
    return env.get_template("_serve_no_build.html").render().strip()


def render_site(site: Site, env: jinja2.Environment) -> dict[str, str]:
    """Every HTML page of the site, keyed by its output path."""
    config = site.config
    common = _common_context(site)
    out: dict[str, str] = {}
    home_page = next((p for p in site.pages if p.url == "/"), None)
    for index, post in enumerate(site.posts):
        newer = site.posts[index - 1] if index > 0 else None
        older = site.posts[index + 1] if index + 1 < len(site.posts) else None
        out[post.output_path] = _render(env, "post.html", post.output_path, _post_context(
            site, post, newer, older, common))
    for page in site.pages:
        if page is home_page:
            continue
        rendered = page.rendered
        if not page.is_markdown and (_is_full_document(rendered.html)
                                     or not page.output_path.endswith(HTML_EXTENSIONS)):
            out[page.output_path] = rendered.html  # a hand-written HTML page, JSON, CSV: as it is
            continue
        out[page.output_path] = _render(env, "page.html", page.output_path, {
            **common, **_document_context(site, page, rendered), "og_type": "website"})
    out["index.html"] = _render(env, "home.html", "index.html", {
        **common, "page": home_page, "canonical": _canonical(config, "/"), "og_type": "website",
        "og_image": "", "rendered": home_page.rendered if home_page else None,
        "has_math": bool(home_page and home_page.rendered.has_math)})
    for category in site.categories:
        path = category.url.lstrip("/") + "index.html"
        out[path] = _render(env, "category.html", path, {
            **common, "category": category, "canonical": _canonical(config, category.url),
            "og_type": "website", "og_image": "", "has_math": False})
    out["404.html"] = _render(env, "404.html", "404.html", {
        **common, "canonical": "", "og_type": "website", "og_image": "", "has_math": False})
    if common["figures_page"]:
        _render_figures_page(site, env, common, out)
    return out


def _render_figures_page(site: Site, env: jinja2.Environment, common: dict[str, Any],
                         out: dict[str, str]) -> None:
    """The figures page, unless a page of the site's own is at its URL (the site's wins)."""
    url = figure_page.page_url(site.config)
    path = url.lstrip("/") + "index.html" if url.endswith("/") else url.lstrip("/")
    if path in out:
        return
    out[path] = _render(env, "figures.html", path, {
        **common, "entries": figure_page.entries(site), "canonical": _canonical(site.config, url),
        "og_type": "website", "og_image": "", "has_math": False, "has_code": True})


def figures_page_path(site: Site) -> str | None:
    """The figures page's site path when the site has one (for the sitemap)."""
    return figure_page.page_url(site.config) if site.figures.records else None


def theme_files() -> dict[str, Path]:
    """Theme assets to copy: output path -> file."""
    files = {THEME_ASSET_URL.lstrip("/") + p.name: p for p in sorted(THEME_ASSETS.iterdir())}
    files["favicon.ico"] = THEME_ASSETS / "favicon.ico"
    return files


def code_css() -> str:
    """Pygments colours for highlighted code, light and dark: two styles whose every colour keeps
    4.5:1 on the theme's code background (xcode on #f3f2ef, lightbulb on #1f2228), each in its
    own scheme so that no light colour survives on the dark background."""
    light = HtmlFormatter(style="xcode").get_style_defs(".highlight")
    dark = HtmlFormatter(style="lightbulb").get_style_defs(".highlight")
    return (f"@media not all and (prefers-color-scheme: dark) {{\n{light}\n}}\n"
            f"@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n")


def _render(env: jinja2.Environment, name: str, output: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise BuildError(f"template error: {err.message}", err.filename or name, err.lineno) from err
    except Exception as err:  # noqa: BLE001 (an undefined name, a filter given a value it cannot take)
        where, line = _template_line(err)
        detail = str(err) if isinstance(err, jinja2.TemplateError) else f"{type(err).__name__}: {err}"
        raise BuildError(f"template {name} failed while writing {output}: {detail}", where, line) from err


def _template_line(err: BaseException) -> tuple[str | None, int | None]:
    """The template file and line where rendering failed: Jinja2 gives the frames of template
    code the template's own file name and line numbers."""
    found: tuple[str | None, int | None] = (None, None)
    for frame, line in traceback.walk_tb(err.__traceback__):
        filename = frame.f_code.co_filename
        if filename.endswith((".html", ".xml", ".txt", ".j2")) and Path(filename).is_file():
            found = (filename, line)
    return found


def _common_context(site: Site) -> dict[str, Any]:
    config = site.config

    def url(path: str) -> str:
        return config.baseurl + path

    now = site.now or datetime.now(config.tz)
    return {
        "config": config, "site": site, "url": url, "now": now,
        # The footer's years: from the oldest post to the year of the build.
        "first_year": min((post.date.year for post in site.posts), default=now.year),
        "figures_page": figures_page_path(site),
        "rendered_of": lambda doc: doc.rendered,  # for _templates/ written before `post.rendered`
        "mathjax_src": config.mathjax_src, "has_code": False, "t": strings.table(config.lang),
        "math_render": config.math_render,
        "mathjax_css": "/" + mathjax.STYLESHEET, "mathjax_config": mathjax.client_config,
    }


def _document_context(site: Site, doc: Document, rendered: Rendered) -> dict[str, Any]:
    config = site.config
    top = min((h.level for h in rendered.headings), default=1)
    return {
        "page": doc, "rendered": rendered, "canonical": _canonical(config, doc.url),
        "has_math": rendered.has_math, "has_code": 'class="highlight"' in rendered.html,
        "og_image": "",
        "toc": rendered.headings if len(rendered.headings) >= TOC_MIN_HEADINGS else (),
        "toc_top": top,
    }


def _post_context(site: Site, post: Post, newer: Post | None, older: Post | None,
                  common: dict[str, Any]) -> dict[str, Any]:
    config = site.config
    rendered = post.rendered
    local = post.background.startswith("/")
    background = config.baseurl + post.background if local else post.background
    by_slug = {c.slug: c for c in site.categories}
    categories = [by_slug[s] for s in dict.fromkeys(map(category_slug, post.categories))]
    variants = site.images.get(post.background)
    return {
        **common, **_document_context(site, post, rendered),
        "og_type": "article", "background": background,
        "background_image": variants,
        "background_sources": [(s.mime, s.with_base(config.baseurl)) for s in variants.sources]
        if variants else [],
        "og_image": _canonical(config, post.background) if local else background,
        "categories": categories, "newer": newer, "older": older,
    }


def _number(value: Any, separator: str) -> str:
    """A metric as a reader reads it: six significant digits, the language's decimal separator."""
    if isinstance(value, float):
        return f"{value:.6g}".replace(".", separator)
    return str(value)


def _canonical(config: Config, path: str) -> str:
    return config.absolute(path) if config.url else ""


def _is_full_document(html: str) -> bool:
    return html.lstrip()[:15].lower().startswith(("<!doctype", "<html"))

