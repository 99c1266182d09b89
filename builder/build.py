"""The orchestrator: gather everything, render it, then write `_site/` in one swap."""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builder import content, feeds, figures, images, templates
from builder.config import Config
from builder.errors import BuildError
from builder.liquid import LinkTables, LiquidRenderer
from builder.markdown import Provenance, make_markdown, normalise_backslash_urls, render_markdown
from builder.model import Document, Post, Rendered, Site

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildResult:
    site: Site
    pages_written: int
    static_copied: int
    warnings: tuple[str, ...]
    seconds: float


def build(config: Config, progress: figures.Progress | None = None) -> BuildResult:
    """Build the site into `config.destination`; on any error the old output stays."""
    started = time.perf_counter()
    with _collect_warnings() as warnings:
        figure_set = make_figures(config, progress=progress)
        site = gather_and_render(config, figure_set)
        outputs = _outputs(site)
        copies = _copies(site)
        if config.strict and warnings:
            raise BuildError(f"{len(warnings)} warning(s) and --strict is on; nothing written")
    write_atomically(config.destination, outputs, copies)
    return BuildResult(site, sum(p.endswith(".html") for p in outputs), len(copies),
                       tuple(warnings), time.perf_counter() - started)


def make_figures(config: Config, names: list[str] | None = None, force: bool = False,
                 progress: figures.Progress | None = None) -> figures.FigureSet:
    """Run the stale figure scripts (none stale: torch is never imported)."""
    settings = figures.FigureSettings(config.figures_dir, config.cache_dir, config.quick, config.device)
    return figures.ensure(settings, names=names, force=force, progress=progress)


def gather_and_render(config: Config, figure_set: figures.FigureSet | None = None) -> Site:
    figure_set = figure_set or figures.FigureSet()
    posts, pages, static = content.gather(config)
    liquid = LiquidRenderer(_link_tables(config, posts, pages, static), config.baseurl, config.url)
    site_vars = _site_variables(config, posts)
    responsive = _responsive_images(config, figure_set)
    md = make_markdown(_provenance(config, figure_set, responsive), kramdown=config.markdown == "kramdown",
                       image_size=_static_image_sizes(config, static))
    jekyll = config.markdown == "kramdown"
    rendered = {doc.rel: _render_document(doc, liquid, md, site_vars, jekyll) for doc in [*posts, *pages]}
    site = Site(config=config, posts=tuple(posts), pages=tuple(pages),
                static_files=tuple(static), categories=tuple(content.group_categories(posts)),
                rendered=rendered, figures=figure_set, images=responsive)
    _warn_missing_images(site)
    return site


def _responsive_images(config: Config, figure_set: figures.FigureSet) -> dict[str, images.Responsive]:
    """AVIF and WebP variants of every generated JPEG (made once, then cached)."""
    jpegs = {}
    for path, file in figure_set.files.items():
        size = figure_set.entries[path].get("images", {}).get(path, {})
        if path.lower().endswith((".jpg", ".jpeg")) and size.get("width"):
            jpegs[path] = (file, size["width"], size["height"])
    return images.responsive_images(jpegs, config.cache_dir)


def _static_image_sizes(config: Config, static: list[str]) -> Callable[[str], tuple[int, int] | None]:
    """Width and height of an image in the site's own files, by URL (read once each)."""
    available = set(static)
    known: dict[str, tuple[int, int] | None] = {}

    def size(src: str) -> tuple[int, int] | None:
        path = _site_path(src, config.baseurl)
        if path is None or path.lstrip("/") not in available:
            return None
        if path not in known:
            known[path] = images.image_size(config.source / path.lstrip("/"))
        return known[path]

    return size


def _provenance(config: Config, figure_set: figures.FigureSet,
                responsive: dict[str, images.Responsive]) -> dict[str, Provenance]:
    """Image URL -> how it was made (and its variants), for every generated image."""
    alts = {path: alt for figure in figure_set.figures for path, alt in figure.outputs.items()}
    notes = {}
    for path, entry in figure_set.entries.items():
        size = entry.get("images", {}).get(path, {})
        variants = responsive.get(path)
        sources = tuple((mime, variants.srcset(mime, config.baseurl)) for mime in variants.sources) \
            if variants else ()
        notes[config.baseurl + path] = Provenance(
            script=entry["script"], href=config.baseurl + "/" + entry["script"],
            device=entry["device"], seconds=entry["seconds"], alt=alts.get(path, ""),
            width=size.get("width", 0), height=size.get("height", 0), sources=sources)
    return notes


def _render_document(doc: Document, liquid: LiquidRenderer, md, site_vars: dict, jekyll: bool) -> Rendered:
    context = {"site": site_vars, "page": _page_variables(doc)}
    # Jekyll runs Liquid over everything, code included ({% raw %} is how its posts protect code).
    text = liquid.render(doc.body, context, doc.source, doc.body_line, doc.is_markdown and not jekyll)
    rendered = render_markdown(md, text) if doc.is_markdown else Rendered(
        html=text, has_math='class="arithmatex"' in text)
    html, windows_paths = normalise_backslash_urls(rendered.html)
    for path in windows_paths:
        log.warning("%s: Windows-style path %s in a link or image, served as %s", doc.source, path,
                    path.replace("\\", "/"))
    return dataclasses.replace(rendered, html=html) if windows_paths else rendered


def _link_tables(config: Config, posts: list[Post], pages: list, static: list[str]) -> LinkTables:
    files = {doc.rel: doc.url for doc in [*posts, *pages]}
    files.update({rel: "/" + rel for rel in static})
    return LinkTables(post_urls={p.name: p.url for p in posts}, file_urls=files,
                      site_includes=config.source / "_includes")


def _site_variables(config: Config, posts: list[Post]) -> dict[str, Any]:
    """`{{ site.X }}`: the config's own keys plus what Jekyll adds."""
    post_vars = [_page_variables(p) for p in posts]
    categories: dict[str, list] = {}
    for post, variables in zip(posts, post_vars, strict=True):
        for category in post.categories:
            categories.setdefault(category, []).append(variables)
    return {**config.site, "posts": post_vars, "categories": categories,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _page_variables(doc: Document) -> dict[str, Any]:
    variables = {**doc.front, "title": doc.title, "url": doc.url, "path": doc.rel}
    if isinstance(doc, Post):
        variables.update(date=doc.date, categories=list(doc.categories), tags=list(doc.tags),
                         slug=doc.slug, id=doc.url.rstrip("/"), background=doc.background)
    return variables


def _warn_missing_images(site: Site) -> None:
    """An image the body shows that no file provides (yet): a warning naming post and path."""
    config = site.config
    available = {"/" + rel for rel in site.static_files} | set(site.figures.files)
    for doc in [*site.posts, *site.pages]:
        sources = list(site.rendered[doc.rel].images)
        if isinstance(doc, Post) and doc.background:
            sources.append(config.baseurl + doc.background if doc.background.startswith("/")
                           else doc.background)
        for src in dict.fromkeys(sources):
            path = _site_path(src, config.baseurl)
            if path is not None and path not in available:
                log.warning("%s: image %s: no file provides it", doc.source, src)


def _site_path(src: str, baseurl: str) -> str | None:
    """The site path an image URL points at, or None for external/data URLs."""
    if not src.startswith("/") or src.startswith("//"):
        return None
    if baseurl and src.startswith(baseurl + "/"):
        src = src[len(baseurl):]
    return src.split("#")[0].split("?")[0]


def _outputs(site: Site) -> dict[str, str]:
    env = templates.make_environment(site.config)
    outputs = templates.render_site(site, env)
    category_paths = [c.url for c in site.categories]
    outputs["feed.xml"] = feeds.atom_feed(site)
    outputs["sitemap.xml"] = feeds.sitemap(site, category_paths)
    outputs["robots.txt"] = feeds.robots(site)
    outputs[templates.THEME_ASSET_URL.lstrip("/") + "code.css"] = templates.code_css()
    if site.figures.figures:
        outputs["figures.json"] = figures.manifest_json(site.figures)
    outputs[".nojekyll"] = ""  # GitHub Pages must not run Jekyll over the built site
    cname = str(site.config.site.get("cname") or "").strip()
    if cname:
        outputs["CNAME"] = cname + "\n"
    return outputs


def _copies(site: Site) -> dict[str, Path]:
    copies = templates.theme_files()
    copies.update({rel: site.config.source / rel for rel in site.static_files})
    copies.update({path.lstrip("/"): file for path, file in site.figures.files.items()})
    for variants in site.images.values():
        copies.update({path.lstrip("/"): file for path, file in variants.files.items()})
    if site.figures.figures:  # publish the scripts so every provenance note links to its source
        folder = site.config.figures_dir
        copies.update({f"figures/{p.name}": p for p in sorted(folder.glob("*.py"))})
    return copies


def write_atomically(destination: Path, outputs: dict[str, str], copies: dict[str, Path]) -> None:
    """Write everything into a fresh folder beside `destination`, then swap it in."""
    destination = destination.resolve()
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.new-", dir=destination.parent))
    try:
        for rel, source in copies.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        for rel, text in outputs.items():
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        os.chmod(staging, 0o755)
        _swap(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, destination: Path) -> None:
    if not destination.exists():
        staging.rename(destination)
        return
    old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
    destination.rename(old)
    try:
        staging.rename(destination)
    except BaseException:
        old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def _collect_warnings() -> Iterator[list[str]]:
    """Warnings logged by any stage during the build, for the summary and --strict."""
    collected: list[str] = []

    class Collector(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            collected.append(record.getMessage())

    handler = Collector(logging.WARNING)
    package_logger = logging.getLogger("builder")
    package_logger.addHandler(handler)
    try:
        yield collected
    finally:
        package_logger.removeHandler(handler)
