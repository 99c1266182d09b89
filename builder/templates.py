"""Jinja2 environment and the context every template gets: `Site` -> pages' HTML.

Everything a reader sees is in the theme: the layouts set their own titles and descriptions,
the interface strings come from the language's table (`t`), and the figure notes and `blog
serve`'s error are templates too, so `_templates/` can change any of it.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import sys
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from pygments.formatters import HtmlFormatter

from builder import figure_page, mathjax, pagination, store, strings
from builder.config import Config
from builder.errors import BuildError
from builder.model import Category, Document, Post, Provenance, Rendered, Site
from builder.permalinks import HTML_EXTENSIONS
from builder.text import category_slug, slugify, vi_date

log = logging.getLogger(__name__)

THEME = Path(__file__).parent / "theme"
THEME_ASSETS = THEME / "assets"
THEME_INCLUDES = THEME / "_includes"  # what `{% include %}` finds when the site has no such file
THEME_ASSET_URL = "/assets/theme/"
TOC_MIN_HEADINGS = 4
PROVENANCE_TEMPLATE = "_provenance.html"
ARCHIVE_PATH = "/archive/"  # every post by year, linked from every page's footer
# Parts of every page that show only the site, each rendered once per build: context name -> template.
SITE_PARTS = {"site_header": "_header.html", "site_footer": "_footer.html"}


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, by file and source checksum (Jinja2
    checks it: a changed template is compiled again). Every build makes a new environment, so
    without this `blog serve`'s rebuilds compiled every template again each time.

    The theme's own templates are also kept on disk beside them, in `theme/__pycache__/`, as
    Python keeps its bytecode (and not when Python writes none: `PYTHONDONTWRITEBYTECODE`), in a
    folder named by the builder's code version, which covers the environment's options, the
    theme and Jinja2's version; Jinja2 checks Python's version and each template's checksum. So
    a first build pays for compiling only once per installed builder, never for another site's
    templates: a site's own `_templates/` are kept in memory only."""

    def __init__(self, theme: Path) -> None:
        self.code: dict[str, bytes] = {}
        self.theme = theme
        self.on_disk: set[str] = set()  # keys of the theme's templates

    def get_bucket(self, environment: jinja2.Environment, name: str, filename: str | None,
                   source: str) -> jinja2.bccache.Bucket:
        if filename is not None and Path(filename).is_relative_to(self.theme / "templates"):
            self.on_disk.add(self.get_cache_key(name, filename))
        return super().get_bucket(environment, name, filename, source)

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        folder = self.folder() if bucket.key in self.on_disk and bucket.key not in self.code else None
        if folder is not None:
            try:
                self.code[bucket.key] = (folder / bucket.key).read_bytes()
            except OSError:  # not compiled yet (or unreadable): compiled, then written
                pass
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()
        folder = self.folder()
        if folder is not None and bucket.key in self.on_disk:
            try:
                _forget_older_versions(folder)
                store.atomic_write(folder / bucket.key, self.code[bucket.key], durable=False)
            except OSError as err:  # a read-only installation: compiled in each process, as before
                log.debug("compiled template not kept in %s: %s", folder, err)

    def folder(self) -> Path | None:
        if sys.dont_write_bytecode:
            return None
        return self.theme / "__pycache__" / f"jinja2-{store.code_version()[:20]}"


def _forget_older_versions(folder: Path) -> None:
    """The compiled templates of other code versions (only the folders named as ours)."""
    if folder.is_dir() or not folder.parent.is_dir():
        return
    for old in folder.parent.iterdir():
        if old != folder and _COMPILED_FOLDER.fullmatch(old.name):
            shutil.rmtree(old, ignore_errors=True)


_COMPILED_FOLDER = re.compile(r"jinja2-[0-9a-f]{20}")
_COMPILED = _CompiledTemplates(THEME)


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


@dataclasses.dataclass(frozen=True)
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


def deferred_pages(env: jinja2.Environment, jobs: list[PageJob]) -> dict[str, str | Callable[[], str]]:
    """The jobs' pages, each to be rendered when it is written: the writers (this process and
    its forked ones) render them next to the writing, instead of this process holding every
    page first.
    The templates are compiled here, once, for the workers to inherit. Rendering a page must
    not log warnings (a worker's would be lost, and --strict has already looked): whatever a
    page could warn about is found when its job is made (`page_jobs`)."""
    for name in sorted({job.template for job in jobs if job.html is None}):
        _compiled(env, name)
    # This build's environment: its templates stay as compiled now, so rendering a page does not
    # look at the template files again (a `stat` per template per page).
    env.auto_reload = False
    return {job.output: job.html if job.html is not None else partial(render_job, job, env) for job in jobs}


def render_job(job: PageJob, env: jinja2.Environment) -> str:
    return job.html if job.html is not None else _render(env, job.template, job.output, job.context())


def page_jobs(site: Site, env: jinja2.Environment) -> list[PageJob]:
    """Every HTML page of the site: posts, pages, the home and category lists page by page,
    the archive and the 404 page. Keys are None when `_templates/` overrides the theme (an
    override may show anything)."""
    config = site.config
    common = _common_context(site)
    common.update(_site_parts(env, common))
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
                            key("post", post, post.rendered, _neighbour(newer), _neighbour(older),
                                tuple(c.name for c in categories), site.images.get(post.background))))
    for page in site.pages:
        if page is home_page:
            continue
        rendered = page.rendered
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
    jobs.append(PageJob("404.html", "404.html", partial(_not_found_context, common),
                        key("404", tuple((p.url, p.title) for p in site.posts[:5]))))
    if common["figures_page"]:
        jobs += _figures_page_job(site, common, key)
    return _site_files_first(site, jobs)


def _site_parts(env: jinja2.Environment, common: dict[str, Any]) -> dict[str, Markup]:
    """The header and footer, the same on every page: rendered once per build from the site's
    values (no page's are there), for the layouts to insert as they are. A site's own
    `_header.html` or `_footer.html` is rendered likewise; a layout of its own need not use them."""
    once = "every page (rendered once per build, without a page)"
    return {name: Markup(_render(env, template, once, common)) for name, template in SITE_PARTS.items()}


def _site_files_first(site: Site, jobs: list[PageJob]) -> list[PageJob]:
    """The site's own files keep their output paths: a theme page with the same path (404.html,
    the archive, a list page, the figures page) is left out. A page or a static file there is
    taken as meant (a Jekyll site's own 404 page, say); a post there is a `Conflict:` warning
    (an error under --strict), since a post rarely means to replace a list of posts, and
    without it the post's text would silently vanish. (feed.xml, sitemap.xml and robots.txt are
    the builder's own whatever the site holds: see content.GENERATED.)"""
    posts = {post.output_path: post for post in site.posts}
    # The home page's own file is shown by the theme's home list (its text above the posts).
    own = {*(doc.output_path for doc in site.documents if doc.url != "/"), *site.static_files}
    kept, seen = [], set()
    for job in jobs:
        if job.output in seen:
            if job.output in posts:
                log.warning("Conflict: %s is written by %s and by the theme's %s; the post is kept",
                            job.output, posts[job.output].source, job.template)
            continue
        if job.output in own and job.template not in ("post.html", "page.html", ""):
            continue  # a static file of the site's own: the writer copies it
        seen.add(job.output)
        kept.append(job)
    return kept


def _figures_page_job(site: Site, common: dict[str, Any], key) -> list[PageJob]:
    """The figures page (a page of the site's own at its URL wins: see _site_files_first). Its
    key: the posts that show each figure (the figures themselves change only with a whole build)."""
    url = figure_page.page_url(site.config)
    path = url.lstrip("/") + "index.html" if url.endswith("/") else url.lstrip("/")
    shown = tuple((image, tuple((p.url, p.title, p.date) for p in posts))
                  for image, posts in sorted(figure_page.posts_by_image(site).items()))

    def context() -> dict[str, Any]:
        return {**common, "entries": figure_page.entries(site), "canonical": _canonical(site.config, url),
                "og_type": "website", "og_image": "", "has_math": False, "has_code": True}

    return [PageJob(path, "figures.html", context, key("figures", shown), sitemap=url)]


def _home_jobs(site: Site, common: dict[str, Any], home_page: Document | None, key) -> list[PageJob]:
    config = site.config
    rendered = home_page.rendered if home_page else None
    jobs = []
    for paginator in pagination.paginate(pagination.home_posts(site.posts), config.paginate, "/",
                                         config.paginate_path):
        first = paginator.page == 1
        context = {
            **common, "page": home_page, "canonical": _canonical(config, paginator.path),
            "og_type": "website", "og_image": "", "rendered": rendered if first else None,
            "paginator": paginator, "has_math": bool(first and rendered and rendered.has_math)}
        jobs.append(PageJob(paginator.output_path, "home.html", partial(dict, context),
                            key("home", paginator, _cards(paginator), home_page, rendered),
                            sitemap=None if first else paginator.path))
    return jobs


def _category_jobs(site: Site, common: dict[str, Any], key) -> list[PageJob]:
    config = site.config
    jobs = []
    for category in site.categories:
        for paginator in pagination.paginate(category.posts, config.paginate, category.url,
                                             config.paginate_path):
            context = {
                **common, "category": category, "paginator": paginator,
                "canonical": _canonical(config, paginator.path), "og_type": "website", "og_image": "",
                "has_math": False}
            jobs.append(PageJob(paginator.output_path, "category.html", partial(dict, context),
                                key("category", category.name, len(category.posts), paginator,
                                    _cards(paginator)), sitemap=paginator.path))
    return jobs


def _archive_context(site: Site, common: dict[str, Any]) -> dict[str, Any]:
    return {**common, "years": pagination.by_year(site.posts),
            "canonical": _canonical(site.config, ARCHIVE_PATH), "og_type": "website", "og_image": "",
            "has_math": False}


def _not_found_context(common: dict[str, Any]) -> dict[str, Any]:
    return {**common, "canonical": "", "og_type": "website", "og_image": "", "has_math": False}


def _page_context(site: Site, page: Document, rendered: Rendered, common: dict[str, Any]) -> dict[str, Any]:
    return {**common, **_document_context(site, page, rendered), "og_type": "website"}


def archive_path(site: Site) -> str | None:
    """The archive's site path, or None where a page of the site's own is written there."""
    return ARCHIVE_PATH if _archive_is_ours(site) else None


def _archive_is_ours(site: Site) -> bool:
    taken = ARCHIVE_PATH.lstrip("/") + "index.html"
    return not any(page.output_path == taken for page in site.pages) and taken not in site.static_files


def _common_key(site: Site, common: dict[str, Any]) -> tuple:
    """What every page of the theme shows from the site: the header's categories (all of them:
    how many the header names is the theme's choice), the footer's years and links."""
    return (common["now"].year, common["first_year"], tuple((c.name, c.url) for c in site.categories),
            common["archive"], common["figures_page"])


def _neighbour(post: Post | None) -> tuple[str, str] | None:
    return (post.url, post.title) if post else None


def _cards(paginator: pagination.Paginator) -> tuple:
    """What a list shows of each post besides the post itself: its reading time and excerpt."""
    return tuple((post.rendered.reading_minutes, post.rendered.excerpt) for post in paginator.posts)


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


def _compiled(env: jinja2.Environment, name: str) -> jinja2.Template:
    try:
        return env.get_template(name)
    except jinja2.TemplateSyntaxError as err:
        raise BuildError(f"template error: {err.message}", err.filename or name, err.lineno) from err


def _render(env: jinja2.Environment, name: str, output: str, context: dict[str, Any]) -> str:
    template = _compiled(env, name)
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as err:  # in a template this one includes
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
        "baseurl": config.baseurl,  # `{{ baseurl }}{{ post.url }}`: what url() gives, without a call
        # The footer's years: from the oldest post to the year of the build.
        "first_year": min((post.date.year for post in site.posts), default=now.year),
        "figures_page": figures_page_path(site), "archive": archive_path(site),
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
                  categories: list[Category], common: dict[str, Any]) -> dict[str, Any]:
    config = site.config
    rendered = post.rendered
    local = post.background.startswith("/")
    background = config.baseurl + post.background if local else post.background
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

