"""The orchestrator: make the figures, gather everything, render it, then write what changed.

Nothing heavy is imported at module level: a build where nothing changed stops after the
fingerprint check, without Markdown, Liquid, Jinja2 or torch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from builder import content, destinations, figures, images, outputs, render
from builder.config import Config
from builder.errors import BuildError
from builder.model import Post, Site

log = logging.getLogger(__name__)
# Not part of the builder's fingerprint, nor even walked: bytecode, and MathJax's installed
# files (thousands; builder/node/package-lock.json pins them).
_SKIPPED = {"__pycache__", "node_modules"}


@dataclass(frozen=True)
class BuildResult:
    posts: int
    pages: int  # HTML pages besides the posts
    static: int  # files copied as they are
    written: int  # files written this time (0: nothing changed)
    warnings: tuple[str, ...]
    seconds: float
    figures: figures.FigureSet
    site: Site | None = None  # None when nothing changed and nothing was rendered
    moved: tuple[str, ...] = ()  # files we did not write (or edited by hand), moved aside to `trash`
    trash: Path | None = None


def build(config: Config, progress: figures.Progress | None = None, incremental: bool = True,
          force: bool = False) -> BuildResult:
    """Build the site into `config.destination`, writing only what changed; on any error
    the previous output stays as it was. A dangerous destination, or one holding files this
    tool did not write (unless `force`), is refused before anything is written.
    `incremental=False` (a fresh folder, as `serve`, `check` and `deploy` use) never skips
    the work and keeps no record of a folder it made afresh."""
    started = time.perf_counter()
    destinations.check_build(config, force)
    state_file = outputs.state_path(config.cache_dir, config.destination)
    with outputs.exclusive(config.cache_dir), _collect_warnings() as warnings:
        figure_set = make_figures(config, progress=progress)
        state = outputs.load_state(state_file)  # also when not incremental: it says what is ours
        fingerprint = _fingerprint(config, figure_set) if incremental else ""
        if incremental and state and _still_valid(state, fingerprint, config):
            for warning in state.get("warnings", []):  # said again, so --strict stays honest
                log.warning("%s", warning)
            _check_strict(config, warnings)
            return BuildResult(state["posts"], state["pages"], state["static"], 0, tuple(warnings),
                               time.perf_counter() - started, figure_set)
        site = gather_and_render(config, figure_set)
        pages = _outputs(site)
        copies = _copies(site)
        _check_strict(config, warnings)
        try:
            report = outputs.write_site(config.destination, pages, copies, state["files"] if state else None,
                                        trash_root=config.cache_dir / "trash", keep=config.keep_files,
                                        force=force)
        except OSError as err:  # a full disk, a read-only folder: the previous output is still whole
            where = err.filename or config.destination
            raise BuildError(f"could not write the site ({err.strerror or err}); {config.destination} "
                             "was left as it was", where) from None
        html = sum(p.endswith(".html") for p in pages)
        if incremental or not report.fresh:  # a throwaway folder made afresh needs no record
            outputs.save_state(state_file, {
                "fingerprint": fingerprint, "files": report.state, "warnings": list(warnings),
                "posts": len(site.posts), "pages": html - len(site.posts), "static": len(copies),
                "valid_until": site.next_publication.isoformat() if site.next_publication else None})
    return BuildResult(len(site.posts), html - len(site.posts), len(copies), report.written, tuple(warnings),
                       time.perf_counter() - started, figure_set, site, tuple(report.moved), report.trash)


def _check_strict(config: Config, warnings: list[str]) -> None:
    if config.strict and warnings:
        raise BuildError(f"{len(warnings)} warning(s) and --strict is on; nothing written")


def _fingerprint(config: Config, figure_set: figures.FigureSet) -> str:
    """sha256 of everything a build reads: the source tree, the settings, the builder's own
    code and theme, the figures' manifest, and the year (the footer shows it)."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    real_source = config.source.resolve()  # the output and the cache, when inside the source, are not inputs
    outside = (config.destination.resolve(), config.cache_dir.resolve())
    skipped = [config.source / f.relative_to(real_source) for f in outside if f.is_relative_to(real_source)]
    source = sorted(p for p in config.source.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                    and not any(p.is_relative_to(folder) for folder in skipped))
    for root, paths in ((config.source, source), (package, _package_files(package))):
        for path in paths:
            digest.update(f"{path.relative_to(root)}\0".encode() + path.read_bytes() + b"\0")
    settings = {k: v for k, v in dataclasses.asdict(config).items()}
    digest.update(json.dumps([settings, figure_set.entries, datetime.now(config.tz).year], sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()


def _package_files(package: Path) -> list[Path]:
    found = []
    for folder, folders, files in os.walk(package):
        folders[:] = [name for name in folders if name not in _SKIPPED]
        found += [Path(folder) / name for name in files]
    return sorted(found)


def _still_valid(state: dict[str, Any], fingerprint: str, config: Config) -> bool:
    """Nothing changed: same inputs, outputs untouched, and no future post has come due."""
    if state.get("fingerprint") != fingerprint:
        return False
    due = state.get("valid_until")
    if due and datetime.now(config.tz) >= datetime.fromisoformat(due):
        return False
    return outputs.outputs_intact(config.destination.resolve(), state["files"], config.keep_files)


def make_figures(config: Config, names: list[str] | None = None, force: bool = False,
                 progress: figures.Progress | None = None) -> figures.FigureSet:
    """Run the stale figure scripts (none stale: torch is never imported)."""
    settings = figures.FigureSettings(config.figures_dir, config.cache_dir, config.quick, config.device)
    return figures.ensure(settings, names=names, force=force, progress=progress)


def gather_and_render(config: Config, figure_set: figures.FigureSet | None = None) -> Site:
    figure_set = figure_set or figures.FigureSet()
    posts, pages, static, next_publication = content.gather(config)
    responsive = _responsive_images(config, figure_set)
    job = render.RenderJob(config=config, tables=_link_tables(config, posts, pages, static),
                           site_vars=_site_variables(config, posts),
                           provenance=_provenance(config, figure_set, responsive), static=frozenset(static))
    rendered = render.render_documents(job, [*posts, *pages])
    site = Site(config=config, posts=tuple(posts), pages=tuple(pages),
                static_files=tuple(static), categories=tuple(content.group_categories(posts)),
                rendered=rendered, figures=figure_set, images=responsive, next_publication=next_publication)
    _warn_missing_images(site)
    return site


def _responsive_images(config: Config, figure_set: figures.FigureSet) -> dict[str, images.Responsive]:
    """What `<picture>` offers for every generated JPEG: AVIF and WebP variants (made once, then
    cached), and for a drawn figure its dark and wide renditions, as SVG where that is lighter."""
    jpegs, renditions = {}, {}
    for path, file in figure_set.files.items():
        entry = figure_set.entries[path]
        size = entry.get("images", {}).get(path, {})
        if path.lower().endswith((".jpg", ".jpeg")) and size.get("width"):
            # The manifest's sha256 of the file (checked by the figure cache): no second hash.
            jpegs[path] = (file, size["width"], size["height"], entry["sha256"][path])
            folder = file.parents[len(Path(path.lstrip("/")).parts) - 1]
            drawn = images.renditions_of(entry, path, folder)
            if drawn:
                renditions[path] = drawn
    return images.responsive_images(jpegs, config.cache_dir, renditions)


def _provenance(config: Config, figure_set: figures.FigureSet,
                responsive: dict[str, images.Responsive]) -> dict[str, Any]:
    """Image URL -> how it was made (and its variants), for every generated image."""
    from builder.markdown import Provenance

    alts = {path: alt for figure in figure_set.figures for path, alt in figure.outputs.items()}
    notes = {}
    for path, entry in figure_set.entries.items():
        size = entry.get("images", {}).get(path, {})
        variants = responsive.get(path)
        sources = tuple((s.mime, s.with_base(config.baseurl), s.media, s.sizes, s.width, s.height)
                        for s in variants.sources) if variants else ()
        notes[config.baseurl + path] = Provenance(
            script=entry["script"], href=config.baseurl + "/" + entry["script"],
            device=entry["device"], seconds=entry["seconds"], alt=alts.get(path, ""),
            width=size.get("width", 0), height=size.get("height", 0), sources=sources,
            wide=bool(variants and variants.wide))
    return notes


def _link_tables(config: Config, posts: list[Post], pages: list, static: list[str]):
    from builder.liquid import LinkTables

    files = {doc.rel: doc.url for doc in [*posts, *pages]}
    files.update({rel: "/" + rel for rel in static})
    return LinkTables(post_urls={p.name: p.url for p in posts}, file_urls=files,
                      site_includes=config.source / "_includes")


def _site_variables(config: Config, posts: list[Post]) -> dict[str, Any]:
    """`{{ site.X }}`: the config's own keys plus what Jekyll adds."""
    post_vars = [render.page_variables(p) for p in posts]
    categories: dict[str, list] = {}
    for post, variables in zip(posts, post_vars, strict=True):
        for category in post.categories:
            categories.setdefault(category, []).append(variables)
    return {**config.site, "posts": post_vars, "categories": categories,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


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
            path = render.site_path(src, config.baseurl)
            if path is not None and path not in available:
                log.warning("%s: image %s: no file provides it", doc.source, src)


def _outputs(site: Site) -> dict[str, str]:
    from builder import feeds, templates  # Jinja2 and Pygments: only when pages are made

    env = templates.make_environment(site.config)
    outputs = templates.render_site(site, env)
    category_paths = [c.url for c in site.categories]
    outputs["feed.xml"] = feeds.atom_feed(site)
    outputs["sitemap.xml"] = feeds.sitemap(site, category_paths)
    outputs["robots.txt"] = feeds.robots(site)
    outputs[templates.THEME_ASSET_URL.lstrip("/") + "code.css"] = templates.code_css()
    if _typeset_math(site):
        from builder import mathjax

        chars = {rule for rendered in site.rendered.values() for rule in rendered.math_css}
        outputs[mathjax.STYLESHEET] = mathjax.stylesheet(site.config, chars)
    if site.figures.figures:
        outputs["figures.json"] = figures.manifest_json(site.figures)
    outputs[".nojekyll"] = ""  # GitHub Pages must not run Jekyll over the built site
    cname = str(site.config.site.get("cname") or "").strip()
    if cname:
        outputs["CNAME"] = cname + "\n"
    return outputs


def _copies(site: Site) -> dict[str, Path]:
    from builder import templates

    copies = templates.theme_files()
    if _typeset_math(site):
        from builder import mathjax

        copies.update(mathjax.font_files())
    copies.update({rel: site.config.source / rel for rel in site.static_files})
    copies.update({path.lstrip("/"): file for path, file in site.figures.files.items()})
    for variants in site.images.values():
        copies.update({path.lstrip("/"): file for path, file in variants.files.items()})
    if site.figures.figures:  # publish the scripts so every provenance note links to its source
        folder = site.config.figures_dir
        copies.update({f"figures/{p.name}": p for p in sorted(folder.glob("*.py"))})
    return copies


def _typeset_math(site: Site) -> bool:
    """Some page carries math typeset at build time (it needs MathJax's stylesheet and fonts)."""
    return site.config.math_render == "build" and any(r.has_math for r in site.rendered.values())


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
