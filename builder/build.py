"""The orchestrator: the order of the stages, and nothing else.

Make the figures; if nothing changed since the last build of this destination, stop (the
incremental state says so without importing Markdown, Liquid, Jinja2 or torch); otherwise
gather, make the image variants, render, list the site's files, write what changed, and
record what was written.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from builder import content, destinations, figures, images, outputs, render, site_files, state
from builder.config import Config
from builder.errors import BuildError, StrictError
from builder.model import (
    BuildResult,
    BuildState,
    Clock,
    FigureSet,
    Gathered,
    Responsive,
    Site,
    SiteFiles,
    WriteReport,
    system_clock,
)

if TYPE_CHECKING:
    from builder.workers import Started

log = logging.getLogger(__name__)


@contextmanager
def cycles_collected_after() -> Iterator[None]:
    """Python's cycle collector paused for the block (as it was after it). A build holds
    hundreds of thousands of objects that live until it ends (the posts, their variables, the
    rendered bodies); the collector's passes over them found almost nothing to free (a few
    thousand objects at 1,000 posts) and cost about 50 ms of a cold 1,000-post build, all in
    this process, before and between the workers (a full pass while Markdown is set up, 200
    young ones). Workers forked meanwhile inherit it paused: they render and write a bounded
    share of the site and end. Reference counting frees everything else as before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@cycles_collected_after()
def build(config: Config, progress: figures.Progress | None = None, incremental: bool = True,
          force: bool = False, clock: Clock = system_clock,
          memory: render.RenderMemory | None = None) -> BuildResult:
    """Build the site into `config.destination`, writing only what changed; on any error
    the previous output stays as it was. A dangerous destination, or one holding files this
    tool did not write (unless `force`), is refused before anything is written.
    `incremental=False` (a fresh folder, as `serve`, `check` and `deploy` use) never skips
    the work and keeps no record of a folder it made afresh. `clock` says what "now" is
    (future posts, the footer's year). `memory`: see `render.render_documents`."""
    started_at = time.perf_counter()
    destinations.check_build(config, force)
    with outputs.exclusive(config.cache_dir), collect_warnings() as warnings:
        for warning in config.warnings:  # _config.yml's, said on every build
            log.warning("%s", warning)
        # A first build's render workers warm up while the figures are checked (or made: they
        # then wait) and the site is read.
        with render.started_workers(config, memory) as started:
            figure_set = make_figures(config, progress=progress)
            now = clock(config.tz)
            previous = state.load(config.cache_dir, config.destination)  # also when not incremental: ours?
            documents: dict[Path, bytes] = {}  # the posts and pages the fingerprint read, for gathering
            fingerprint = state.fingerprint(config, figure_set, now, documents) if incremental else ""
            if incremental and previous and state.still_valid(previous, fingerprint, config, now):
                for warning in previous.warnings:  # said again, so --strict stays honest
                    if warning not in config.warnings:
                        log.warning("%s", warning)
                _check_strict(config, warnings)
                return BuildResult(previous.posts, previous.pages, previous.static, 0, tuple(warnings),
                                   time.perf_counter() - started_at, figure_set,
                                   future_skipped=previous.future_skipped)
            site = gather_and_render(config, figure_set, clock, memory, documents, started)
        files = site_files.collect(site)
        _check_strict(config, warnings)
        report = _write(config, files, previous, force)
        pages = sum(p.endswith(".html") for p in files.texts) - len(site.posts)
        if incremental or not report.fresh:  # a throwaway folder made afresh needs no record
            state.save(config.cache_dir, config.destination, BuildState(
                fingerprint, report.state, tuple(warnings), len(site.posts), pages, len(files.copies),
                site.next_publication, site.future_skipped))
    return BuildResult(len(site.posts), pages, len(files.copies), report.written, tuple(warnings),
                       time.perf_counter() - started_at, figure_set, site, tuple(report.moved), report.trash,
                       site.future_skipped, report.state)


def make_figures(config: Config, names: list[str] | None = None, force: bool = False,
                 progress: figures.Progress | None = None) -> FigureSet:
    """Run the stale figure scripts (none stale: torch is never imported)."""
    settings = figures.settings_of(config)
    return figures.ensure(settings, names=names, force=force, progress=progress)


def gather_and_render(config: Config, figure_set: FigureSet | None = None,
                      clock: Clock = system_clock, memory: render.RenderMemory | None = None,
                      documents: dict[Path, bytes] | None = None, started: Started | None = None) -> Site:
    """Read the site, make the image variants, render every document: the whole `Site`.
    `documents`: see `content.gather`; `started`: see `render.started_workers` (they render
    what they can while the site is read: see `render.EarlyRendering`)."""
    now = clock(config.tz)
    figure_set = figure_set or FigureSet()
    variants = early = None
    if started is not None:  # the figures' notes are part of what they render with
        variants = _image_variants(config, figure_set)
        early = render.EarlyRendering(config, started, render.provenance_notes(config, figure_set, variants))
    return render_gathered(config, content.gather(config, now, documents, early), figure_set, now,
                           memory, early, variants)


def render_gathered(config: Config, gathered: Gathered, figure_set: FigureSet, now: datetime,
                    memory: render.RenderMemory | None = None, early: render.EarlyRendering | None = None,
                    variants: dict[str, Responsive] | None = None) -> Site:
    """The site made of what `content` gathered: every document rendered (or recalled).
    `variants`: the image variants, when already made."""
    variants = _image_variants(config, figure_set) if variants is None else variants
    posts, pages = render.render_site(config, gathered, figure_set, variants, memory, early)
    return Site(config=config, posts=tuple(posts), pages=tuple(pages), static_files=tuple(gathered.static),
                categories=tuple(content.group_categories(posts)), figures=figure_set, images=variants,
                next_publication=gathered.next_publication, now=now,
                future_skipped=gathered.future_skipped)


def _image_variants(config: Config, figure_set: FigureSet) -> dict[str, Responsive]:
    return images.responsive_images(figure_set.responsive_inputs(), config.cache_dir, figure_set.renditions())


def _write(config: Config, files: SiteFiles, previous: BuildState | None, force: bool) -> WriteReport:
    try:
        return outputs.write_site(config.destination, files.texts, files.copies,
                                  previous.files if previous else None, trash_root=config.cache_dir / "trash",
                                  keep=config.keep_files, force=force)
    except OSError as err:  # a full disk, a read-only folder: the previous output is still whole
        where = err.filename or config.destination
        raise BuildError(f"could not write the site ({err.strerror or err}); {config.destination} "
                         "was left as it was", where) from err


def _check_strict(config: Config, warnings: list[str]) -> None:
    if config.strict and warnings:
        raise StrictError(f"{len(warnings)} warning(s) and --strict is on; nothing written",
                          warnings=tuple(warnings))


@contextmanager
def collect_warnings() -> Iterator[list[str]]:
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
