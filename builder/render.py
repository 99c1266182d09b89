"""Documents to HTML bodies: Liquid, then Markdown. Cached by content hash, and spread over
processes when many documents need it. This stage owns what Jekyll's Liquid sees: the `site`
and `page` variables and the `post_url`/`link` tables.

A document's cache key covers everything its body can depend on: its text and front matter,
its page variables, the `site` variables its Liquid actually names, the include files, the
`post_url`/`link` tables when it uses those tags, the generated images' provenance, the reading
mode, and the code and library versions that render it. A hit skips Liquid and Markdown.
"""

from __future__ import annotations

import dataclasses
import logging
import multiprocessing
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder import store, strings
from builder.config import Config
from builder.model import (
    Document,
    FigureSet,
    Gathered,
    Heading,
    LinkTables,
    Page,
    Post,
    Provenance,
    Rendered,
    Responsive,
)

log = logging.getLogger(__name__)

PARALLEL_MIN = 48  # below this, starting processes costs more than it saves
CACHE_FORMAT = 2  # the version of a cache entry's record
_LINK_TAG = re.compile(r"\{%-?\s*(post_url|link)\b")
_SITE_REFERENCE = re.compile(r"\bsite\b(?:\s*\.\s*(\w+)|\s*\[\s*['\"](\w+)['\"])?")


@dataclass(frozen=True)
class RenderJob:
    """What every document's rendering shares; inherited by worker processes as it is."""

    config: Config
    tables: LinkTables
    site_vars: dict[str, Any]
    provenance: dict[str, Provenance]  # image URL -> how it was made
    static: frozenset[str]


def render_site(config: Config, gathered: Gathered, figure_set: FigureSet,
                images: dict[str, Responsive]) -> tuple[list[Post], list[Page]]:
    """Every post and page with its rendered body attached; warns about images no file provides."""
    from builder import templates  # the figure notes are the theme's

    job = RenderJob(config=config, tables=link_tables(config, gathered),
                    site_vars=site_variables(config, gathered.posts),
                    provenance=templates.provenance_notes(config,
                                                          figure_set.provenance(config.baseurl, images)),
                    static=frozenset(gathered.static))
    rendered = render_documents(job, [*gathered.posts, *gathered.pages])
    posts = [dataclasses.replace(post, rendered=rendered[post.rel]) for post in gathered.posts]
    pages = [dataclasses.replace(page, rendered=rendered[page.rel]) for page in gathered.pages]
    available = {"/" + rel for rel in gathered.static} | set(figure_set.files)
    _warn_missing_images(config, [*posts, *pages], available)
    return posts, pages


def site_variables(config: Config, posts: list[Post]) -> dict[str, Any]:
    """`{{ site.X }}`: the config's own keys plus what Jekyll adds."""
    post_vars = [page_variables(p) for p in posts]
    categories: dict[str, list] = {}
    for post, variables in zip(posts, post_vars, strict=True):
        for category in post.categories:
            categories.setdefault(category, []).append(variables)
    return {**config.site, "posts": post_vars, "categories": categories,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def link_tables(config: Config, gathered: Gathered) -> LinkTables:
    """What `{% post_url %}` and `{% link %}` resolve against."""
    files = {doc.rel: doc.url for doc in [*gathered.posts, *gathered.pages]}
    files.update({rel: "/" + rel for rel in gathered.static})
    return LinkTables(post_urls={p.name: p.url for p in gathered.posts}, file_urls=files,
                      site_includes=config.source / "_includes")


def _warn_missing_images(config: Config, documents: list[Document], available: set[str]) -> None:
    """An image the body shows that no file provides (yet): a warning naming post and path."""
    for doc in documents:
        sources = list(doc.rendered.images)
        if isinstance(doc, Post) and doc.background:
            sources.append(config.baseurl + doc.background if doc.background.startswith("/")
                           else doc.background)
        for src in dict.fromkeys(sources):
            path = site_path(src, config.baseurl)
            if path is not None and path not in available:
                log.warning("%s: image %s: no file provides it", doc.source, src)


def render_documents(job: RenderJob, documents: list[Document]) -> dict[str, Rendered]:
    """Every document's Rendered, by rel path; warnings are logged here, in this process."""
    shared = _shared_key(job)
    includes = _include_texts(job.config)
    keys = {doc.rel: _document_key(doc, job, shared, includes) for doc in documents}
    cache = job.config.cache_dir / "render"
    results: dict[str, Rendered] = {}
    missing = []
    for doc in documents:
        entry = _load(cache, keys[doc.rel], job)
        if entry is None:
            missing.append(doc)
            continue
        results[doc.rel], warnings = entry
        for warning in warnings:  # a cached document still says what is wrong with it
            log.warning("%s", warning)
    started = time.perf_counter()
    processes = _processes(len(missing))
    fresh = list(zip(missing, _render_all(job, missing, processes), strict=True))
    if job.config.math_render == "build":
        fresh = _typeset_math(job.config, fresh)
    for doc, (rendered, warnings, sizes) in fresh:
        for warning in warnings:
            log.warning("%s", warning)
        results[doc.rel] = rendered
        _store(cache, keys[doc.rel], rendered, warnings, sizes)
    if missing:
        log.info("rendered %d of %d documents in %.2f s (%d process%s)", len(missing), len(documents),
                 time.perf_counter() - started, processes, "" if processes == 1 else "es")
    return results


def _typeset_math(config: Config, fresh: list[tuple[Document, tuple[Rendered, list[str], dict]]]):
    """The math of freshly rendered documents typeset by MathJax (one Node.js process for all);
    its TeX errors become the document's warnings, so a cached document repeats them."""
    with_math = [(doc, result) for doc, result in fresh if result[0].has_math]
    if not with_math:
        return fresh
    from builder import mathjax

    pages = [mathjax.MathPage(doc.source, doc.body, doc.body_line, rendered.html)
             for doc, (rendered, _, _) in with_math]
    typeset = iter(mathjax.typeset(config, pages))
    out = []
    for doc, (rendered, warnings, sizes) in fresh:
        if rendered.has_math:
            page = next(typeset)
            rendered = dataclasses.replace(rendered, html=page.html, math_css=page.css)
            warnings = [*warnings, *page.warnings]
        out.append((doc, (rendered, warnings, sizes)))
    return out


# --- rendering, in this process or in workers --------------------------------------------------

_JOB: RenderJob | None = None
_DOCS: list[Document] = []
_RENDERER: Any = None


def _processes(count: int) -> int:
    workers = min(os.cpu_count() or 1, 8)
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    return workers if count >= PARALLEL_MIN and workers > 1 and can_fork else 1


def _render_all(job: RenderJob, documents: list[Document],
                processes: int) -> list[tuple[Rendered, list[str], dict]]:
    global _JOB, _DOCS, _RENDERER
    _JOB, _DOCS, _RENDERER = job, documents, None
    try:
        if processes > 1:
            # fork: the workers inherit the job instead of unpickling it; only indices travel.
            with multiprocessing.get_context("fork").Pool(processes) as pool:
                return pool.map(_render_index, range(len(documents)), chunksize=16)
        return [_render_index(i) for i in range(len(documents))]
    finally:
        _JOB, _DOCS, _RENDERER = None, [], None


def _render_index(index: int) -> tuple[Rendered, list[str], dict]:
    global _RENDERER
    if _RENDERER is None:
        _RENDERER = _Renderer(_JOB)
    return _RENDERER.render(_DOCS[index])


class _Renderer:
    def __init__(self, job: RenderJob):
        from builder import strings
        from builder.liquid import LiquidRenderer
        from builder.markdown import make_markdown

        self.job = job
        self.sizes: dict[str, list[int]] = {}
        self.liquid = LiquidRenderer(job.tables, job.config.baseurl, job.config.url, job.config.liquid,
                                     strings.table(job.config.lang), job.config.tz)
        self.jekyll = job.config.markdown == "kramdown"
        self.md = make_markdown(job.provenance, kramdown=self.jekyll, image_size=self._image_size,
                                footnote_backlink=strings.table(job.config.lang)["footnote_backlink"],
                                kramdown_settings=job.config.site.get("kramdown"))

    def _image_size(self, src: str) -> tuple[int, int] | None:
        from builder.images import image_size

        path = site_path(src, self.job.config.baseurl)
        if path is None or path.lstrip("/") not in self.job.static:
            return None
        size = image_size(self.job.config.source / path.lstrip("/"))
        self.sizes[src] = list(size) if size else None
        return size

    def render(self, doc: Document) -> tuple[Rendered, list[str], dict]:
        from builder.markdown import normalise_backslash_urls, render_markdown

        self.sizes = {}
        context = {"site": self.job.site_vars, "page": page_variables(doc)}
        # Jekyll runs Liquid over everything, code included ({% raw %} is how its posts protect code).
        text = self.liquid.render(doc.body, context, doc.source, doc.body_line,
                                  doc.is_markdown and not self.jekyll)
        rendered = render_markdown(self.md, text) if doc.is_markdown else Rendered(
            html=text, has_math='class="arithmatex"' in text)
        html, windows_paths = normalise_backslash_urls(rendered.html)
        warnings = self.liquid.warnings + [
            f"{doc.source}: Windows-style path {p} in a link or image, served as {p.replace(chr(92), '/')}"
            for p in windows_paths]
        if windows_paths:
            rendered = dataclasses.replace(rendered, html=html)
        return rendered, warnings, self.sizes


def site_path(src: str, baseurl: str) -> str | None:
    """The site path an image URL points at, or None for external/data URLs."""
    if not src.startswith("/") or src.startswith("//"):
        return None
    if baseurl and src.startswith(baseurl + "/"):
        src = src[len(baseurl):]
    return src.split("#")[0].split("?")[0]


def page_variables(doc: Document) -> dict[str, Any]:
    """`{{ page.X }}`: front matter plus what Jekyll adds."""
    variables = {**doc.front, "title": doc.title, "url": doc.url, "path": doc.rel}
    if isinstance(doc, Post):
        variables.update(date=doc.date, categories=list(doc.categories), tags=list(doc.tags),
                         slug=doc.slug, id=doc.url.rstrip("/"), background=doc.background)
    return variables


# --- cache keys and entries -------------------------------------------------------------------


def _include_texts(config: Config) -> str:
    """Every include file a document could use (the site's and the theme's), as one text."""
    from builder.liquid import THEME_INCLUDES

    texts = []
    for folder in (config.source / "_includes", THEME_INCLUDES):
        if folder.is_dir():
            texts += [f"{p.relative_to(folder)}\0{p.read_text(encoding='utf-8', errors='replace')}"
                      for p in sorted(folder.rglob("*")) if p.is_file()]
    return "\0".join(texts)


def _shared_key(job: RenderJob) -> str:
    config = job.config
    provenance = {src: dataclasses.asdict(p) for src, p in job.provenance.items()}
    math = config.math_render
    if math == "build":
        from builder import mathjax

        math += mathjax.cache_version()
    return store.digest([CACHE_FORMAT, store.code_version(), config.markdown, config.site.get("kramdown"),
                         config.baseurl, config.url, config.timezone, config.liquid,
                         strings.table(config.lang), str(config.source), provenance, math])


def _document_key(doc: Document, job: RenderJob, shared: str, includes: str) -> str:
    text = doc.body + ("\0" + includes if "include" in doc.body else "")
    names = {a or b for a, b in _SITE_REFERENCE.findall(text)}
    site = job.site_vars if "" in names else {n: job.site_vars.get(n) for n in sorted(names)}
    tables = [job.tables.post_urls, job.tables.file_urls] if _LINK_TAG.search(text) else None
    return store.digest([shared, doc.rel, str(doc.source), doc.body_line, text, page_variables(doc), site,
                         tables])


def _entry_path(cache: Path, key: str) -> Path:
    return cache / key[:2] / f"{key}.json"


def _load(cache: Path, key: str, job: RenderJob) -> tuple[Rendered, list[str]] | None:
    try:
        data = store.read_record(_entry_path(cache, key), CACHE_FORMAT)
    except ValueError:
        return None
    if data is None:
        return None
    if data.get("image_sizes"):  # the site's own images may have been replaced since
        from builder.images import image_size

        for src, size in data["image_sizes"].items():
            path = site_path(src, job.config.baseurl)
            now = image_size(job.config.source / path.lstrip("/")) if path else None
            if (list(now) if now else None) != size:
                return None
    fields = data["rendered"]
    fields["headings"] = tuple(Heading(**h) for h in fields["headings"])
    fields["images"] = tuple(fields["images"])
    fields["placeholder_alts"] = tuple(tuple(p) for p in fields["placeholder_alts"])
    fields["math_css"] = tuple(fields.get("math_css", ()))
    return Rendered(**fields), data.get("warnings", [])


def _store(cache: Path, key: str, rendered: Rendered, warnings: list[str], sizes: dict) -> None:
    data = {"rendered": dataclasses.asdict(rendered), "warnings": warnings, "image_sizes": sizes}
    # Thousands of entries on a big site, each checked when read (one that no longer parses is
    # a miss): no fsync each.
    store.write_record(_entry_path(cache, key), CACHE_FORMAT, data, durable=False)
