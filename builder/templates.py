"""Jinja2 environment and the context every template gets: `Site` -> pages' HTML."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from builder import mathjax, pagination, strings
from builder.config import Config
from builder.content import category_slug, vi_date
from builder.errors import BuildError
from builder.model import Category, Document, Post, Rendered, Site
from builder.permalinks import HTML_EXTENSIONS

THEME = Path(__file__).parent / "theme"
THEME_ASSETS = THEME / "assets"
THEME_ASSET_URL = "/assets/theme/"
TOC_MIN_HEADINGS = 4
NAV_CATEGORIES = 6  # categories named in every page's header
ARCHIVE_PATH = "/archive/"  # every post by year, linked from every page's footer

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


@dataclass(frozen=True)
class PageJob:
    """One page to render: its template, how to make its context, and its key."""

    output: str  # path relative to the destination
    template: str
    context: Callable[[], dict[str, Any]]
    # Everything the theme's templates show on this page, compared by value between builds
    # (`blog serve` renders again only the pages whose key changed); None: always render.
    key: tuple | None = None
    html: str | None = None  # a page written as it is (hand-written HTML, JSON, CSV)
    sitemap: str | None = None  # a list page's site path, for the sitemap (posts and pages are the site's)


def render_site(site: Site, env: jinja2.Environment) -> dict[str, str]:
    """Every HTML page of the site, keyed by its output path."""
    return render_pages(env, page_jobs(site, env))


def render_pages(env: jinja2.Environment, jobs: list[PageJob]) -> dict[str, str]:
    """The jobs' pages by output path. (Rendered here, in this process: forked workers cost
    more in start-up and in sending a thousand pages back than Jinja2 takes to render them.)"""
    return {job.output: render_job(job, env) for job in jobs}


def render_job(job: PageJob, env: jinja2.Environment) -> str:
    return job.html if job.html is not None else _render(env, job.template, job.output, job.context())


def page_jobs(site: Site, env: jinja2.Environment) -> list[PageJob]:
    """Every HTML page of the site: posts, pages, the home and category lists page by page,
    the archive and the 404 page. Keys are None when `_templates/` overrides the theme (an
    override may show anything)."""
    config = site.config
    common = _common_context(site)
    shared = None if (config.source / "_templates").is_dir() else _common_key(site, common)

    def key(*parts: Any) -> tuple | None:
        return None if shared is None else (shared, *parts)

    jobs: list[PageJob] = []
    home_page = next((p for p in site.pages if p.url == "/"), None)
    by_slug = {c.slug: c for c in site.categories}
    for index, post in enumerate(site.posts):
        newer = site.posts[index - 1] if index > 0 else None
        older = site.posts[index + 1] if index + 1 < len(site.posts) else None
        categories = [by_slug[s] for s in dict.fromkeys(map(category_slug, post.categories))]
        jobs.append(PageJob(post.output_path, "post.html",
                            partial(_post_context, site, post, newer, older, categories, common),
                            key("post", post, site.rendered[post.rel], _neighbour(newer), _neighbour(older),
                                tuple(c.name for c in categories), site.images.get(post.background))))
    for page in site.pages:
        if page is home_page:
            continue
        rendered = site.rendered[page.rel]
        if not page.is_markdown and (_is_full_document(rendered.html)
                                     or not page.output_path.endswith(HTML_EXTENSIONS)):
            jobs.append(PageJob(page.output_path, "", dict, html=rendered.html))  # as it is
            continue
        context = partial(_page_context, site, page, rendered, common)
        jobs.append(PageJob(page.output_path, "page.html", context, key("page", page, rendered)))
    jobs += _home_jobs(site, common, home_page, key)
    jobs += _category_jobs(site, common, key)
    if _archive_is_ours(site):
        jobs.append(PageJob(ARCHIVE_PATH.lstrip("/") + "index.html", "archive.html",
                            partial(_archive_context, site, common),
                            key("archive", tuple((p.url, p.title, p.date) for p in site.posts)),
                            sitemap=ARCHIVE_PATH))
    jobs.append(PageJob("404.html", "404.html", partial(_not_found_context, site, common),
                        key("404", tuple((p.url, p.title) for p in site.posts[:5]))))
    return jobs


def _home_jobs(site: Site, common: dict[str, Any], home_page: Document | None, key) -> list[PageJob]:
    config = site.config
    t = common["t"]
    rendered = site.rendered.get(home_page.rel) if home_page else None
    jobs = []
    for paginator in pagination.paginate(pagination.home_posts(site.posts), config.paginate, "/",
                                         config.paginate_path):
        first = paginator.page == 1
        title = "" if first else t["page_number"].format(number=paginator.page)
        context = {
            **common, "page": home_page, "page_title": title, "description": config.description,
            "canonical": _canonical(config, paginator.path), "og_type": "website", "og_image": "",
            "rendered": rendered if first else None, "paginator": paginator,
            "has_math": bool(first and rendered and rendered.has_math)}
        jobs.append(PageJob(paginator.output_path, "home.html", partial(dict, context),
                            key("home", paginator, _cards(site, paginator), home_page, rendered),
                            sitemap=None if first else paginator.path))
    return jobs


def _category_jobs(site: Site, common: dict[str, Any], key) -> list[PageJob]:
    config = site.config
    t = common["t"]
    jobs = []
    for category in site.categories:
        for paginator in pagination.paginate(category.posts, config.paginate, category.url,
                                             config.paginate_path):
            title = t["category_title"].format(name=category.name)
            if paginator.page > 1:
                title = f"{title} · {t['page_number'].format(number=paginator.page)}"
            context = {
                **common, "category": category, "paginator": paginator, "page_title": title,
                "description": t["category_description"].format(name=category.name),
                "canonical": _canonical(config, paginator.path), "og_type": "website", "og_image": "",
                "has_math": False}
            jobs.append(PageJob(paginator.output_path, "category.html", partial(dict, context),
                                key("category", category.name, len(category.posts), paginator,
                                    _cards(site, paginator)), sitemap=paginator.path))
    return jobs


def _archive_context(site: Site, common: dict[str, Any]) -> dict[str, Any]:
    t = common["t"]
    return {**common, "years": pagination.by_year(site.posts), "page_title": t["archive_title"],
            "description": t["archive_description"], "canonical": _canonical(site.config, ARCHIVE_PATH),
            "og_type": "website", "og_image": "", "has_math": False}


def _not_found_context(site: Site, common: dict[str, Any]) -> dict[str, Any]:
    t = common["t"]
    return {**common, "page_title": t["not_found_title"], "description": site.config.description,
            "canonical": "", "og_type": "website", "og_image": "", "has_math": False}


def _page_context(site: Site, page: Document, rendered: Rendered, common: dict[str, Any]) -> dict[str, Any]:
    return {**common, **_document_context(site, page, rendered), "og_type": "website"}


def archive_path(site: Site) -> str | None:
    """The archive's site path, or None where a page of the site's own is written there."""
    return ARCHIVE_PATH if _archive_is_ours(site) else None


def _archive_is_ours(site: Site) -> bool:
    taken = ARCHIVE_PATH.lstrip("/") + "index.html"
    return not any(page.output_path == taken for page in site.pages) and taken not in site.static_files


def _common_key(site: Site, common: dict[str, Any]) -> tuple:
    """What every page of the theme shows from the site: the header's categories, the footer's year."""
    return (common["now"].year, tuple((c.name, c.url) for c in site.categories[:NAV_CATEGORIES]),
            common["archive"])


def _neighbour(post: Post | None) -> tuple[str, str] | None:
    return (post.url, post.title) if post else None


def _cards(site: Site, paginator: pagination.Paginator) -> tuple:
    """What a list shows of each post besides the post itself: its reading time and excerpt."""
    shown = (site.rendered[post.rel] for post in paginator.posts)
    return tuple((rendered.reading_minutes, rendered.excerpt) for rendered in shown)


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
        "archive": archive_path(site), "nav_categories": site.categories[:NAV_CATEGORIES],
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
                  categories: list[Category], common: dict[str, Any]) -> dict[str, Any]:
    config = site.config
    rendered = site.rendered[post.rel]
    local = post.background.startswith("/")
    background = config.baseurl + post.background if local else post.background
    variants = site.images.get(post.background)
    return {
        **common, **_document_context(site, post, rendered),
        "og_type": "article", "background": background,
        "background_image": variants,
        "background_sources": [(m, variants.srcset(m, config.baseurl)) for m in variants.sources]
        if variants else [],
        "og_image": _canonical(config, post.background) if local else background,
        "categories": categories, "newer": newer, "older": older,
    }


def _canonical(config: Config, path: str) -> str:
    return config.absolute(path) if config.url else ""


def _is_full_document(html: str) -> bool:
    return html.lstrip()[:15].lower().startswith(("<!doctype", "<html"))

