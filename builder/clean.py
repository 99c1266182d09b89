"""`blog clean`: remove what builds wrote, and only that.

The site's files go when the build record says this tool wrote them and they still hold what
it wrote (an edited file, a kept file, anything else stays); the caches that a build makes
again by itself go whole (rendered posts, image variants, typeset math) with this
destination's record; the figures only when asked (they take minutes to make again). Never
touched: the trash (files of someone else's moved aside), other destinations' records, and
any folder the destination rules forbid.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass

from builder import destinations, outputs, state
from builder.config import Config
from builder.errors import BuildError

REBUILT_CACHES = ("render", "images", "math")  # made again by the next build, without figures


@dataclass(frozen=True)
class Cleaned:
    site_files: int  # files of the site removed
    site_kept: tuple[str, ...]  # files left in the destination (not ours, kept, or edited)
    caches: tuple[str, ...]  # cache folders removed, by name
    figures_kept: bool  # made figures are still in the cache


def clean(config: Config, figures: bool = False) -> Cleaned:
    """Remove the site built into `config.destination` and the caches a build makes again."""
    problem = destinations.cache_problem(config) or destinations.destination_problem(config)
    if problem:
        raise BuildError(f"nothing was removed: {problem}")
    destination = config.destination.resolve()
    if not config.cache_dir.is_dir():  # never built here: no record says what is ours
        kept = outputs.foreign_files(destination, config.keep_files)
        return Cleaned(0, tuple(kept), (), False)
    with outputs.exclusive(config.cache_dir):  # never while a build writes
        removed, kept = _remove_site(config)
        caches = [name for name in REBUILT_CACHES if _remove(config.cache_dir / name)]
        if figures and _remove(config.cache_dir / "figures"):
            caches.append("figures")
        record = state.path_for(config.cache_dir, destination)
        if record.is_file():
            record.unlink()
            caches.append("outputs (this destination's record)")
    return Cleaned(removed, tuple(kept), tuple(caches), (config.cache_dir / "figures").is_dir())


def _remove_site(config: Config) -> tuple[int, list[str]]:
    destination = config.destination.resolve()
    if not destination.is_dir():
        return 0, []
    previous = state.load(config.cache_dir, destination)
    removed = outputs.remove_ours(destination, previous.files if previous else {})
    left = outputs.foreign_files(destination, config.keep_files) if destination.is_dir() else []
    return removed, left


def _remove(folder) -> bool:
    if not folder.is_dir() or folder.is_symlink():
        return False
    shutil.rmtree(folder)
    return True
