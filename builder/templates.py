"""Jinja2 environment and the context every template gets: `Site` -> pages' HTML."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from builder import mathjax, strings
from builder.config import Config
from builder.content import category_slug, vi_date
from builder.errors import BuildError
from builder.model import Document, Post, Rendered, Site
from builder.permalinks import HTML_EXTENSIONS

THEME = Path(__file__).parent / "theme"
THEME_ASSETS = THEME / "assets"
THEME_ASSET_URL = "/assets/theme/"
TOC_MIN_HEADINGS = 4

def make_environment(config: Config) -> jinja2.Environment:
    """Theme templates, each overridable by a file of the same name in `_templates/`."""
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
    )
    env.filters["long_date"] = lambda value: strings.long_date(value, config.lang)
    env.filters["vi_date"] = vi_date  # what _templates/ overrides written before long_date use
    return env


def render_site(site: Site, env: jinja2.Environment) -> dict[str, str]:
    """Every HTML page of the site, keyed by its output path."""
    config = site.config
    common = _common_context(site)
    t = common["t"]
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
        rendered = site.rendered[page.rel]
        if not page.is_markdown and (_is_full_document(rendered.html)
                                     or not page.output_path.endswith(HTML_EXTENSIONS)):
            out[page.output_path] = rendered.html  # a hand-written HTML page, JSON, CSV: as it is
            continue
        out[page.output_path] = _render(env, "page.html", page.output_path, {
            **common, **_document_context(site, page, rendered), "og_type": "website"})
    out["index.html"] = _render(env, "home.html", "index.html", {
        **common, "page": home_page, "page_title": "", "description": config.description,
        "canonical": _canonical(config, "/"), "og_type": "website", "og_image": "",
        "rendered": site.rendered.get(home_page.rel) if home_page else None,
        "has_math": bool(home_page and site.rendered[home_page.rel].has_math)})
    for category in site.categories:
        path = category.url.lstrip("/") + "index.html"
        out[path] = _render(env, "category.html", path, {
            **common, "category": category, "page_title": t["category_title"].format(name=category.name),
            "description": t["category_description"].format(name=category.name),
            "canonical": _canonical(config, category.url), "og_type": "website", "og_image": "",
            "has_math": False})
    out["404.html"] = _render(env, "404.html", "404.html", {
        **common, "page_title": t["not_found_title"], "description": config.description,
        "canonical": "", "og_type": "website", "og_image": "", "has_math": False})
    return out


def theme_files() -> dict[str, Path]:
    """Theme assets to copy: output path -> file."""
    files = {THEME_ASSET_URL.lstrip("/") + p.name: p for p in sorted(THEME_ASSETS.iterdir())}
    files["favicon.ico"] = THEME_ASSETS / "favicon.ico"
    return files


def code_css() -> str:
    """Pygments colours for highlighted code, light and dark."""
    light = HtmlFormatter(style="friendly").get_style_defs(".highlight")
    dark = HtmlFormatter(style="monokai").get_style_defs(".highlight")
    return f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"


def _render(env: jinja2.Environment, name: str, output: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as err:
        raise BuildError(f"template error: {err.message}", err.filename or name, err.lineno) from None
    except jinja2.TemplateError as err:
        raise BuildError(f"template {name} failed while writing {output}: {err}") from None


def _common_context(site: Site) -> dict[str, Any]:
    config = site.config

    def url(path: str) -> str:
        return config.baseurl + path

    return {
        "config": config, "site": site, "url": url, "now": datetime.now(config.tz),
        "rendered_of": lambda doc: site.rendered[doc.rel],
        "mathjax_src": config.mathjax_src, "has_code": False, "t": strings.table(config.lang),
        "math_render": config.math_render,
        "mathjax_css": "/" + mathjax.STYLESHEET, "mathjax_config": mathjax.client_config,
    }


def _document_context(site: Site, doc: Document, rendered: Rendered) -> dict[str, Any]:
    config = site.config
    description = doc.front.get("description") or rendered.excerpt or config.description
    top = min((h.level for h in rendered.headings), default=1)
    return {
        "page": doc, "rendered": rendered, "page_title": doc.title,
        "description": str(description), "canonical": _canonical(config, doc.url),
        "has_math": rendered.has_math, "has_code": 'class="highlight"' in rendered.html,
        "og_image": "",
        "toc": rendered.headings if len(rendered.headings) >= TOC_MIN_HEADINGS else (),
        "toc_top": top,
    }


def _post_context(site: Site, post: Post, newer: Post | None, older: Post | None,
                  common: dict[str, Any]) -> dict[str, Any]:
    config = site.config
    rendered = site.rendered[post.rel]
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


def _canonical(config: Config, path: str) -> str:
    return config.absolute(path) if config.url else ""


def _is_full_document(html: str) -> bool:
    return html.lstrip()[:15].lower().startswith(("<!doctype", "<html"))

