"""`blog clean`: remove what builds wrote, and only that.

The site's files go when the build record says this tool wrote them and they still hold what
it wrote (an edited file, a kept file, anything else stays). Of the caches that a build makes
again by itself (rendered posts, image variants, typeset math) every entry named as a build
names its own goes, with this destination's record; anything else in those folders stays (the
cache folder may be one other programs use too, such as `~/.cache`). The figures go only when
asked (they take minutes to make again). Never touched: the trash (files of someone else's
moved aside), other destinations' records, and any folder the destination rules forbid.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from builder import destinations, outputs, state
from builder.config import Config
from builder.errors import BuildError

# The caches the next build makes again without figures, and how a build names what it puts in
# each: the render and formula databases (and the per-entry folders of older versions), the
# image variants' folders (source hash, then the encoding profile) and the SVGs' sizes.
_TEMPORARY = r"|\..+\.tmp"  # a write cut short (store.temp_path)
REBUILT_CACHES = {
    "render": re.compile(r"documents\.sqlite(-wal|-shm|-journal)?|[0-9a-f]{2}" + _TEMPORARY),
    "images": re.compile(r"[0-9a-f]{24}(-picture|-drawing)?|svg-sizes\.json" + _TEMPORARY),
    "math": re.compile(r"formulas\.sqlite(-wal|-shm|-journal)?|stylebook-[0-9a-f]+\.json" + _TEMPORARY),
}


@dataclass(frozen=True)
class Cleaned:
    site_files: int  # files of the site removed
    site_kept: tuple[str, ...]  # files left in the destination (not ours, kept, or edited)
    caches: tuple[str, ...]  # cache folders emptied, by name
    figures_kept: bool  # made figures are still in the cache
    caches_kept: tuple[str, ...] = ()  # entries of those folders no build names so: not ours


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
        caches, strangers = [], []
        for name, ours in REBUILT_CACHES.items():
            emptied, left = _remove_entries(config.cache_dir / name, ours)
            caches += [name] if emptied else []
            strangers += left
        if figures and _remove(config.cache_dir / "figures"):
            caches.append("figures")
        record = state.path_for(config.cache_dir, destination)
        if record.is_file():
            record.unlink()
            caches.append("outputs (this destination's record)")
    return Cleaned(removed, tuple(kept), tuple(caches), (config.cache_dir / "figures").is_dir(),
                   tuple(strangers))


def _remove_site(config: Config) -> tuple[int, list[str]]:
    destination = config.destination.resolve()
    if not destination.is_dir():
        return 0, []
    previous = state.load(config.cache_dir, destination)
    removed = outputs.remove_ours(destination, previous.files if previous else {})
    left = outputs.foreign_files(destination, config.keep_files) if destination.is_dir() else []
    return removed, left


def _remove_entries(folder: Path, ours: re.Pattern) -> tuple[bool, list[str]]:
    """Remove the entries of `folder` named as a build names its own, and the folder when
    nothing else is left; return whether any went, and what stayed."""
    if not folder.is_dir() or folder.is_symlink():
        return False, []
    removed, left = False, []
    for entry in sorted(folder.iterdir()):
        if not ours.fullmatch(entry.name) or entry.is_symlink():
            left.append(str(entry))
        elif entry.is_dir():
            shutil.rmtree(entry)
            removed = True
        else:
            entry.unlink()
            removed = True
    if not left:
        folder.rmdir()
    return removed or not left, left


def _remove(folder) -> bool:
    if not folder.is_dir() or folder.is_symlink():
        return False
    shutil.rmtree(folder)
    return True
