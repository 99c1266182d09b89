"""`blog serve`'s fast path: a save that touches only posts is not a whole build.

After a whole build, the dev server keeps what it made: the site (every document and its
rendered body), each page's key (what the theme shows on it, see `templates.PageJob`) and the
sha256 of every file in the folder it serves. When the files that changed are all posts of a
`_posts/` folder, `Preview.update` reads only those again, renders only documents whose cache
key changed (the others are remembered, not even read from disk), renders only the pages whose
key changed (the post, its neighbours, the list pages it is on, the archive...), and writes only
the files whose bytes changed into the served folder. Everything else (a page, a layout, the
config, a figure, a post that conflicts with another file) gets a whole build, as before.
The result is the same site a whole build makes (tests/test_serve.py compares them).
"""

from __future__ import annotations

import hashlib
import time
from contextlib import AbstractContextManager
from functools import partial
from pathlib import Path
from typing import Any

from builder import build, content, outputs, site_files, templates
from builder.config import Config
from builder.errors import BuildError
from builder.model import BuildResult, Clock, Gathered, system_clock
from builder.render import RenderMemory


class Preview:
    """What the last whole build of the served folder made, kept to update it in place."""

    def __init__(self, config: Config, result: BuildResult, memory: RenderMemory,
                 clock: Clock = system_clock):
        if result.site is None or result.files is None:
            raise ValueError("a preview starts from a build that rendered and wrote the site")
        self.config = config
        self.memory = memory
        self.clock = clock
        self.site = result.site
        self.figure_set = result.figures
        self.digests = {rel: record[0] for rel, record in result.files.items()}
        self.copies = frozenset(site_files.copied(self.site))
        # Which of two files writing one URL wins is decided by the whole site only.
        self.usable = not any(warning.startswith("Conflict:") for warning in result.warnings)
        self.env = templates.make_environment(config)
        jobs = templates.page_jobs(self.site, self.env)
        self.keys = {job.output: job.key for job in jobs}
        self.pending: set[Path] = set()  # saved files a failed update did not bring in
        for name in sorted({job.template for job in jobs if job.html is None}):
            self.env.get_template(name)  # compiled now, not on the first save

    def update(self, changed: list[Path], moment: AbstractContextManager | None = None) -> BuildResult | None:
        """Bring the served folder up to date after `changed` files were saved (or removed);
        None when that needs a whole build. `moment`: the lock the server's readers hold."""
        if not self.usable:
            return None
        started = time.perf_counter()
        changed = sorted({*changed, *self.pending})
        try:
            result = self._update(changed, moment, started)
        except BuildError:
            self.pending = set(changed)  # not in the site yet: read again with the next save
            raise
        self.pending = set()
        return result

    def _update(self, changed: list[Path], moment: AbstractContextManager | None,
                started: float) -> BuildResult | None:
        with outputs.exclusive(self.config.cache_dir), build.collect_warnings() as warnings:
            site = self.site
            before = Gathered(list(site.posts), list(site.pages), list(site.static_files),
                              site.next_publication)
            now = self.clock(self.config.tz)
            gathered = content.update_posts(self.config, before, changed, now)
            if gathered is None:
                return None
            site = build.render_gathered(self.config, gathered, self.figure_set, now, self.memory)
            copies = site_files.copied(site)
            if frozenset(copies) != self.copies:  # MathJax's fonts come or go: a whole build
                return None
            keys: dict[str, Any] = {}
            texts = site_files.made(site, self.env, partial(self._render_changed, keys=keys))
            written = self._write(texts, copies, moment)
        self.site, self.keys = site, keys
        html = sum(rel.endswith(".html") for rel in texts)
        return BuildResult(len(site.posts), html - len(site.posts), len(copies), written, tuple(warnings),
                           time.perf_counter() - started, self.figure_set, site)

    def _render_changed(self, env: Any, jobs: list[templates.PageJob], keys: dict[str, Any]) -> dict:
        """The pages whose key changed, rendered; None for the others (their files are right)."""
        pages: dict[str, str | None] = {}
        for job in jobs:
            keys[job.output] = job.key
            same = job.key is not None and self.keys.get(job.output) == job.key
            pages[job.output] = None if same else templates.render_job(job, env)
        return pages

    def _write(self, texts: dict[str, str | None], copies: dict[str, Path],
               moment: AbstractContextManager | None) -> int:
        changed: dict[str, bytes] = {}
        digests: dict[str, str] = {}
        for rel, text in texts.items():
            if text is None:
                continue
            data = text.encode("utf-8")
            digest = hashlib.sha256(data).hexdigest()
            if self.digests.get(rel) != digest:
                changed[rel], digests[rel] = data, digest
        removed = [rel for rel in self.digests if rel not in texts and rel not in copies]
        if changed or removed:
            try:
                outputs.update_in_place(self.config.destination, changed, removed, moment)
            except OSError as err:  # a full disk: what was served is still whole
                raise BuildError(f"could not write the site ({err.strerror or err})",
                                 err.filename or self.config.destination) from None
        for rel in removed:
            del self.digests[rel]
        self.digests.update(digests)
        return len(changed)
