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
import functools
import hashlib
import json
import logging
import marshal
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from builder import store, strings
from builder.config import Config
from builder.model import (
    RENDERED_SUFFIXES,
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

if TYPE_CHECKING:  # imported where workers are used: a build with nothing to render needs none
    from builder import workers

log = logging.getLogger(__name__)

PARALLEL_MIN = 48  # below this, starting processes costs more than it saves
STORE_BATCH = 100  # cache entries stored in one transaction
CACHE_FORMAT = 3  # the version of a cache entry's record (3: marshal data)
_WORD = re.compile(r"\w")
_LINK_TAG = re.compile(r"\{%-?\s*(post_url|link)\b")
# Inside `{% liquid ... %}` tags go one per line, with no `{%` before them: a line (or the
# tag's first words) that starts with post_url or link there (any such line, to be safe).
_LIQUID_TAG = re.compile(r"\{%-?\s*liquid\b")
_LIQUID_LINK_TAG = re.compile(r"(?:^|\bliquid)[ \t]*(post_url|link)\b", re.MULTILINE)
# `site`, `site.X` or `site["X"]`; starts with its letters so that it is searched fast (a
# leading \b makes the search try every position): the word boundary before is checked after.
_SITE_REFERENCE = re.compile(r"site\b(?:\s*\.\s*(\w+)|\s*\[\s*['\"](\w+)['\"])?")


_Result = tuple[Rendered, list[str], dict]  # a body, the warnings about it, the image sizes it used


@dataclass(frozen=True)
class RenderJob:
    """What every document's rendering shares; inherited by worker processes as it is."""

    config: Config
    tables: LinkTables
    site_vars: dict[str, Any]
    provenance: dict[str, Provenance]  # image URL -> how it was made
    static: frozenset[str]


def render_site(config: Config, gathered: Gathered, figure_set: FigureSet, images: dict[str, Responsive],
                memory: RenderMemory | None = None,
                early: EarlyRendering | None = None) -> tuple[list[Post], list[Page]]:
    """Every post and page with its rendered body attached; warns about images no file provides.
    `memory`: see `render_documents`; `early`: what was handed to workers while the site was
    read (see `EarlyRendering`)."""
    job = RenderJob(config=config, tables=link_tables(config, gathered),
                    site_vars=site_variables(config, gathered.posts),
                    provenance=early.provenance if early else provenance_notes(config, figure_set, images),
                    static=frozenset(gathered.static))
    rendered = render_documents(job, [*gathered.posts, *gathered.pages], memory, early)
    posts = [dataclasses.replace(post, rendered=rendered[post.rel]) for post in gathered.posts]
    pages = [dataclasses.replace(page, rendered=rendered[page.rel]) for page in gathered.pages]
    available = {"/" + rel for rel in gathered.static} | set(figure_set.files)
    _warn_missing_images(config, [*posts, *pages], available)
    return posts, pages


def provenance_notes(config: Config, figure_set: FigureSet,
                     images: dict[str, Responsive]) -> dict[str, Provenance]:
    """How each generated image was made, as the figures' notes say it (image URL -> note)."""
    from builder import templates  # the figure notes are the theme's

    return templates.provenance_notes(config, figure_set.provenance(config.baseurl, images))


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
                log.warning("%s:%d: image %s: no file provides it", doc.source, _line_showing(doc, path), src)


def _line_showing(doc: Document, path: str) -> int:
    """The 1-based line of `doc`'s file that names the image `path` (a site path, written with
    or without `{{ site.baseurl }}` before it), else the line where the body starts."""
    try:
        lines = doc.source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return doc.body_line
    for wanted in (path, path.lstrip("/")):
        for number, line in enumerate(lines, 1):
            if wanted in line:
                return number
    return doc.body_line


def render_documents(job: RenderJob, documents: list[Document], memory: RenderMemory | None = None,
                     early: EarlyRendering | None = None) -> dict[str, Rendered]:
    """Every document's Rendered, by rel path; warnings are logged here, in this process.

    `memory` (kept by a caller that builds again and again in one process, `blog serve`)
    remembers each document's key and result: a document that is the same object as last
    time is not hashed again, and a result whose key is unchanged is not read from disk.
    `early`: workers started before the site was read, and what they were handed meanwhile
    (see `EarlyRendering`); they render the rest."""
    memory = memory if memory is not None else early.memory if early else RenderMemory()
    path = job.config.cache_dir / "render" / "documents.sqlite"
    # Nothing remembered and no cache (a first build, or one after the cache was cleared):
    # every document is rendered whatever its key, so the keys are computed while the
    # workers render, not before they start.
    recalled = bool(memory.results) or path.exists()
    keys = _keys(job, documents, memory) if recalled else {}
    with store.KeyedCache(path) as cache:
        results, missing = _recall(job, documents, keys, memory, cache) if recalled else ({}, list(documents))
        processes = _processes(len(missing))
        if processes > 1:
            cache.close()  # a connection must not cross a fork; opened again to store
        began = time.perf_counter()
        fresh: list[tuple[Document, _Result]] = []
        with _rendering(job, missing, processes, early) as rendered_now:
            if not recalled:
                keys = _keys(job, documents, memory)
            # Each entry is stored as its document comes back, while the workers render the
            # rest (but for what MathJax typesets next), a transaction per STORE_BATCH: SQLite
            # copies its log into the database (and waits for the disk) as it grows, not all at
            # the end, after the last document. What the last document leaves waits for the
            # typeset ones: one transaction after the last document, not two.
            batch: list[tuple[str, bytes]] = []
            for doc, result, stored in rendered_now:
                fresh.append((doc, result))
                if not _typeset_after(job, result[0]):  # a worker's result comes as it is stored
                    key = keys[doc.rel]
                    batch.append(_encode(key, *result) if stored is None else (key, stored))
                if len(batch) == STORE_BATCH and len(fresh) < len(missing):  # more to come
                    cache.put_many(batch)
                    batch = []
        if early:  # they came as they were rendered: said and typeset in the documents' order
            position = {doc.rel: n for n, doc in enumerate(missing)}
            fresh.sort(key=lambda done: position[done[0].rel])
        if job.config.math_render == "build":
            fresh = _typeset_math(job.config, fresh)
            batch += [_encode(keys[doc.rel], *result) for doc, result in fresh
                      if _typeset_after(job, result[0])]
        if batch:
            cache.put_many(batch)
        for doc, (rendered, warnings, sizes) in fresh:
            for warning in warnings:
                log.warning("%s", warning)
            results[doc.rel] = rendered
            memory.results[doc.rel] = (keys[doc.rel], rendered, warnings, sizes)
    if missing:
        log.info("rendered %d of %d documents in %.2f s (%d process%s)", len(missing), len(documents),
                 time.perf_counter() - began, processes, "" if processes == 1 else "es")
    memory.forget_all_but(keys)
    return {doc.rel: results[doc.rel] for doc in documents}


def _recall(job: RenderJob, documents: list[Document], keys: dict[str, str], memory: RenderMemory,
            cache: store.KeyedCache) -> tuple[dict[str, Rendered], list[Document]]:
    """What is remembered or cached, and the documents that must be rendered."""
    results: dict[str, Rendered] = {}
    entries = {}
    for doc in documents:
        remembered = memory.results.get(doc.rel)
        if remembered and remembered[0] == keys[doc.rel] and _sizes_hold(remembered[3], job):
            entries[doc.rel] = remembered[1:]
    stored = cache.get_many([keys[doc.rel] for doc in documents if doc.rel not in entries])
    missing = []
    for doc in documents:
        entry = entries.get(doc.rel) or _entry(stored.get(keys[doc.rel]), job)
        if entry is None:
            missing.append(doc)
            continue
        results[doc.rel], warnings, _ = entry
        memory.results[doc.rel] = (keys[doc.rel], *entry)
        for warning in warnings:  # a cached document still says what is wrong with it
            log.warning("%s", warning)
    return results, missing


@dataclass
class RenderMemory:
    """What one process remembers between builds: per document (by rel path) the document
    object and the part of its key that depends on it alone, and its last key and result."""

    parts: dict[str, tuple[Document, str, _Part]] = field(default_factory=dict)
    results: dict[str, tuple[str, Rendered, list[str], dict]] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)  # the settings' key, by what it hashes

    def forget_all_but(self, rels: Any) -> None:
        """Documents gone since (deleted, renamed) are forgotten."""
        self.parts = {rel: self.parts[rel] for rel in rels if rel in self.parts}
        self.results = {rel: self.results[rel] for rel in rels if rel in self.results}


def _typeset_math(config: Config, fresh: list[tuple[Document, _Result]]):
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

def _processes(count: int) -> int:
    from builder import workers

    return workers.available(count, PARALLEL_MIN)


@contextmanager
def started_workers(config: Config, memory: RenderMemory | None = None) -> Iterator[workers.Started | None]:
    """Render workers forked now, for a first build of a large site (no render cache: every
    document will be rendered), or None. While this process reads the site, they import
    Liquid and Markdown and set them up, work that otherwise happens here, on one core, before
    the workers can start. They are stopped when the block ends, used or not. Not for `blog
    serve` (`memory` given): it builds while its server's threads run (see `workers.start`)."""
    if memory is not None or (config.cache_dir / "render" / "documents.sqlite").exists():
        yield None
        return
    processes = _processes(_posts_up_to(config.source / "_posts", PARALLEL_MIN))
    from builder import workers

    started = workers.start(processes, functools.partial(_warm, config)) if processes > 1 else None
    try:
        yield started
    finally:
        if started is not None:
            started.close()


def _posts_up_to(folder: Path, enough: int) -> int:
    """How many Markdown and HTML files `folder` holds, in its subfolders too (a site's other
    `_posts` folders are left out), counted up to `enough`."""
    from builder.entries import is_file, tree

    count = 0
    for parts, entry in tree(folder):
        if count >= enough:
            break
        count += os.path.splitext(parts[-1])[1].lower() in RENDERED_SUFFIXES and is_file(entry)
    return count


def _warm(config: Config) -> None:
    """What a started worker does before its work comes: Liquid and Markdown imported and set
    up (the regular expressions they compile on first use included), and the theme's module,
    where Liquid looks for the theme's includes (imported once here, not by each worker)."""
    from builder import templates  # noqa: F401
    from builder.markdown import render_markdown

    renderer = _Renderer(RenderJob(config=config, tables=LinkTables({}, {}, config.source / "_includes"),
                                   site_vars={}, provenance={}, static=frozenset()))
    render_markdown(renderer.md, "*x*")  # as Python-Markdown or as kramdown, whichever the site reads


def _renderer_for(job: RenderJob) -> tuple[_Renderer]:
    return (_Renderer(job),)


@contextmanager
def _rendering(job: RenderJob, documents: list[Document], processes: int,
               early: EarlyRendering | None = None) -> Iterator[Iterator[_Done]]:
    """Every document with its result, as each is done: in forked workers, or here. In order
    of `documents`, but for workers started early (those rendered meanwhile come first)."""
    if early is not None:
        with early.results(job, documents) as results:
            yield results
        return
    if not documents:
        yield iter(())
        return
    # Made here, before any fork: the workers inherit the imported libraries and the set-up
    # Liquid and Markdown instead of each importing and building them.
    renderer = _Renderer(job)
    if processes > 1:
        from builder import workers

        with workers.forked(_render_stored, documents, processes, renderer) as results:
            yield ((doc, _read_back(stored), stored) for doc, stored in zip(documents, results, strict=True))
    else:
        yield ((doc, renderer.render(doc), None) for doc in documents)


# A document, its result, and the result as its cache entry's value when a worker sent it so.
_Done = tuple[Document, _Result, bytes | None]


def _render_stored(doc: Document, renderer: _Renderer) -> bytes:
    """A document rendered in a worker, sent back as its cache entry's value: a third of what
    pickling the result costs there, half of what unpickling it costs in this process, which
    then stores it as it is."""
    return _stored(*renderer.render(doc))


def _render_early(doc: Document, renderer: _Renderer) -> bytes | None:
    """A document rendered before the site is known (as `_render_stored`); None if it fails
    (rendered again once the site is known: its error is then said in the documents' order, as
    any other's)."""
    try:
        return _stored(*renderer.render(doc))
    except Exception:  # noqa: BLE001 (any failure: said by the second rendering)
        return None


class EarlyRendering:
    """Documents handed to the workers of a first build as the site is read (see
    `started_workers`), rendered meanwhile, and the rest handed to them once it is known.

    A document qualifies when its text (with the include files) names nothing that depends on
    the other documents: no `site` as a whole, no `site.X` that `site_variables` makes (posts,
    categories, time), no `post_url` or `link`; the same test its cache key makes. It is
    rendered with the settings' `site` variables alone, the site's static files and the
    figures' notes, which are known before the first post is read. Once the site is read, a
    result is kept only if all of that still holds with the whole site: the same document
    object (or an equal one), each `site.X` it names the very same value, the same static files.
    Any other is rendered again, as a failure is: errors are said in the documents' order."""

    CHUNK = 16  # documents handed out at a time while reading

    def __init__(self, config: Config, started: workers.Started, provenance: dict[str, Provenance]):
        self.config = config
        self.started = started
        self.provenance = provenance
        self.memory = RenderMemory()  # the documents' key parts, hashed as they are read
        self.job: RenderJob | None = None
        self.sent: list[Document] = []  # in the order handed out
        self._waiting: list[Document] = []
        self._includes = ""
        # The `site` variables the documents decide (their values are not the settings').
        self._made = {name for name, value in site_variables(config, []).items()
                      if name not in config.site or config.site[name] is not value}

    def static_files(self, static: list[str]) -> None:
        """The site's static files, as far as reading has found (before any document)."""
        self.job = RenderJob(config=self.config, tables=LinkTables({}, {}, self.config.source / "_includes"),
                             site_vars=dict(self.config.site), provenance=self.provenance,
                             static=frozenset(static))
        self._includes = _include_texts(self.config)
        self.started.share(_render_early, self.job, setup=_renderer_for)

    def read(self, doc: Document) -> None:
        """A document just read: handed out (with others) if it qualifies."""
        if self.job is None:
            return
        part = _part(doc, self._includes)
        self.memory.parts[doc.rel] = (doc, self._includes, part)  # for its key, later
        if part.uses_links or "" in part.site_names or part.site_names & self._made:
            return
        self._waiting.append(doc)
        if len(self._waiting) == self.CHUNK:
            self._hand_out()

    def _hand_out(self) -> None:
        if self._waiting:
            self.started.hand_out(self._waiting, self.CHUNK)
            self.sent += self._waiting
            self._waiting = []

    @contextmanager
    def results(self, job: RenderJob, documents: list[Document]) -> Iterator[Iterator[_Done]]:
        """Every document of `documents` with its result: those rendered early that still
        hold first, then the rest, in order."""
        self._hand_out()
        kept = self._still_valid(job, documents)
        rest = [doc for doc in documents if doc.rel not in kept]
        if rest:
            self.started.share(_render_stored, job, setup=_renderer_for)
            self.started.hand_out(rest)
        with self.started.all_results() as results:
            yield self._matched(job, documents, kept, rest, results)

    def _still_valid(self, job: RenderJob, documents: list[Document]) -> dict[str, Document]:
        """The documents rendered early whose results hold for the whole site, by rel path."""
        early = self.job
        if early is None or job.static != early.static or job.provenance is not early.provenance:
            return {}
        final = {doc.rel: doc for doc in documents}
        kept = {}
        for doc in self.sent:
            now = final.get(doc.rel)
            part = self.memory.parts[doc.rel][2]
            if now is not None and (now is doc or now == doc) and all(
                    job.site_vars.get(name) is early.site_vars.get(name) for name in part.site_names):
                kept[doc.rel] = now
        return kept

    def _matched(self, job: RenderJob, documents: list[Document], kept: dict[str, Document],
                 rest: list[Document], results: Iterator[Any]) -> Iterator[_Done]:
        handed = [*self.sent, *rest]
        failed: list[Document] = []  # kept, but failed early: rendered again here, in order
        awaited = 0  # the document whose result comes next
        try:
            for result in results:  # to their end: the workers are then known to be done
                doc = handed[awaited]
                if awaited >= len(self.sent):
                    yield doc, _read_back(result), result
                elif doc.rel in kept:
                    if result is None:
                        failed.append(kept[doc.rel])
                    else:
                        yield kept[doc.rel], _read_back(result), result
                awaited += 1
        except Exception:
            if len(self.sent) <= awaited < len(handed):  # one of the rest failed: did one before it?
                yield from self._again_here(job, documents, failed, before=handed[awaited])
            raise
        yield from self._again_here(job, documents, failed)

    @staticmethod
    def _again_here(job: RenderJob, documents: list[Document], failed: list[Document],
                    before: Document | None = None) -> Iterator[_Done]:
        """The documents that failed early (before `before`, in the documents' order) rendered
        again here with the whole site: the first that fails again raises its error."""
        order = {doc.rel: n for n, doc in enumerate(documents)}
        again = sorted((doc for doc in failed if before is None or order[doc.rel] < order[before.rel]),
                       key=lambda doc: order[doc.rel])
        if again:
            renderer = _Renderer(job)
            for doc in again:
                yield doc, renderer.render(doc), None


def _typeset_after(job: RenderJob, rendered: Rendered) -> bool:
    """Whether MathJax typesets this body after it is rendered (in this process, for all at once)."""
    return job.config.math_render == "build" and rendered.has_math


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

    def render(self, doc: Document) -> _Result:
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
    from builder.templates import THEME_INCLUDES  # not from builder.liquid: that imports Liquid

    texts = []
    for folder in (config.source / "_includes", THEME_INCLUDES):
        if folder.is_dir():
            texts += [f"{p.relative_to(folder)}\0{p.read_text(encoding='utf-8', errors='replace')}"
                      for p in sorted(folder.rglob("*")) if p.is_file()]
    return "\0".join(texts)


def _shared_key(job: RenderJob, memory: RenderMemory) -> str:
    config = job.config
    provenance = {src: dataclasses.asdict(p) for src, p in job.provenance.items()}
    math = config.math_render
    if math == "build":
        from builder import mathjax

        math += mathjax.cache_version()
    settings = [CACHE_FORMAT, config.markdown, config.site.get("kramdown"), config.baseurl, config.url,
                config.timezone, config.liquid, strings.table(config.lang), str(config.source), provenance,
                math, sys.implementation.cache_tag]  # marshal's format may change with the Python version
    remembered = json.dumps(settings, sort_keys=True, default=str, ensure_ascii=False)
    if remembered not in memory.shared:  # hashed once per process and settings
        memory.shared = {remembered: store.digest([store.code_version(), remembered])}
    return memory.shared[remembered]


@dataclass(frozen=True)
class _Part:
    """What a document's key needs from the document alone (and the include files it may use)."""

    digest: str
    site_names: frozenset[str]  # the `site.X` it names; "" for `site` as a whole
    uses_links: bool  # post_url or link: the link tables are part of the key


def _part(doc: Document, includes: str) -> _Part:
    text = doc.body + ("\0" + includes if "include" in doc.body else "")
    names = _site_names(text)
    # The text is hashed as it is, after the rest as JSON (which writes a NUL as an escape, so
    # the NUL between them is unambiguous): JSON-escaping a post's text costs more than hashing it.
    sha = hashlib.sha256(json.dumps([doc.rel, str(doc.source), doc.body_line, page_variables(doc)],
                                    sort_keys=True, default=str, ensure_ascii=False).encode())
    sha.update(b"\0" + text.encode("utf-8", "surrogatepass"))
    return _Part(sha.hexdigest(), names, _uses_links(text))


def _uses_links(text: str) -> bool:
    """Whether the text may use `{% post_url %}` or `{% link %}`, written alone or inside a
    `{% liquid %}` tag."""
    if _LINK_TAG.search(text):
        return True
    return "liquid" in text and bool(_LIQUID_TAG.search(text)) and bool(_LIQUID_LINK_TAG.search(text))


def _site_names(text: str) -> frozenset[str]:
    """What `site.X` (or `site["X"]`, "" for `site` itself) the text names."""
    names, position = set(), 0
    while match := _SITE_REFERENCE.search(text, position):
        if match.start() and _WORD.match(text, match.start() - 1):  # part of a longer word
            position = match.start() + 1
            continue
        names.add(match.group(1) or match.group(2) or "")
        position = match.end()
    return frozenset(names)


def _keys(job: RenderJob, documents: list[Document], memory: RenderMemory) -> dict[str, str]:
    """Each document's cache key: the settings, the document, the `site` variables it names
    (each hashed once, not once per document) and the link tables if it uses them."""
    shared = _shared_key(job, memory)
    includes = _include_texts(job.config)
    site_digests: dict[str, str] = {}
    tables: list[str] = []
    keys = {}
    for doc in documents:
        remembered = memory.parts.get(doc.rel)
        # The same document (a rendered copy of it compares equal, field by field, and its
        # fields are the very same objects: the comparison is cheap).
        if remembered and remembered[1] == includes and (remembered[0] is doc or remembered[0] == doc):
            part = remembered[2]
        else:
            part = _part(doc, includes)
            memory.parts[doc.rel] = (doc, includes, part)
        for name in part.site_names - site_digests.keys():
            site_digests[name] = store.digest(job.site_vars if name == "" else job.site_vars.get(name))
        if part.uses_links and not tables:
            tables.append(store.digest([job.tables.post_urls, job.tables.file_urls]))
        names = {n: site_digests[n] for n in sorted(part.site_names)}
        keys[doc.rel] = store.digest([shared, part.digest, names, tables[0] if part.uses_links else None])
    return keys


def _encode(key: str, rendered: Rendered, warnings: list[str], sizes: dict) -> tuple[str, bytes]:
    """An entry as `marshal` data, the format Python keeps its own bytecode cache in: a tenth
    of what JSON costs to write (about 10 against 95 µs for a seed-sized post, and 15 against
    55 µs to read back), and a cold build stores a thousand of them in this process."""
    return key, _stored(rendered, warnings, sizes)


def _stored(rendered: Rendered, warnings: list[str], sizes: dict) -> bytes:
    """A result as its cache entry's value."""
    return marshal.dumps((CACHE_FORMAT, _fields(rendered), warnings, sizes))


def _read_back(value: bytes) -> _Result:
    """A result a worker has just sent as `_stored` made it."""
    _, fields, warnings, sizes = marshal.loads(value)
    return _rendered(fields), warnings, sizes


def _fields(rendered: Rendered) -> tuple:
    """`Rendered` as a tuple of plain values, in field order."""
    return (rendered.html, tuple((h.level, h.id, h.text) for h in rendered.headings), rendered.has_math,
            rendered.excerpt, rendered.words, tuple(rendered.images), tuple(rendered.placeholder_alts),
            tuple(rendered.math_css))


def _entry(value: str | bytes | None, job: RenderJob) -> _Result | None:
    """A cached document read back; None when missing, damaged, written by another format, or
    when an image it sized has changed."""
    if not isinstance(value, bytes):
        return None
    try:
        version, fields, warnings, sizes = marshal.loads(value)
        rendered = _rendered(fields)
    except (ValueError, TypeError, EOFError):  # damaged, or not this format's shape
        return None
    if version != CACHE_FORMAT or not isinstance(sizes, dict) or not _sizes_hold(sizes, job):
        return None
    return rendered, warnings, sizes


def _rendered(fields: tuple) -> Rendered:
    """`Rendered` from `_fields`' tuple."""
    html, headings, has_math, excerpt, words, images, placeholder_alts, math_css = fields
    return Rendered(html=html, headings=tuple(Heading(*h) for h in headings), has_math=has_math,
                    excerpt=excerpt, words=words, images=images, placeholder_alts=placeholder_alts,
                    math_css=math_css)


def _sizes_hold(sizes: dict | None, job: RenderJob) -> bool:
    """The site's own images a document gave sizes to still have them (they may have been
    replaced since)."""
    if not sizes:
        return True
    from builder.images import image_size

    for src, size in sizes.items():
        path = site_path(src, job.config.baseurl)
        now = image_size(job.config.source / path.lstrip("/")) if path else None
        if (list(now) if now else None) != size:
            return False
    return True
