"""Which files Jekyll reads and which it ignores (its EntryFilter), on this project's paths.

An entry is ignored when its name starts with `_`, `.`, `#` or `~`, or ends with `~`, unless
`include:` names it; `exclude:` (plus Jekyll's own defaults) leaves out a path, a path prefix or
a glob. Inside `_posts/` an entry is its path below that folder, and only its first component
and its file name are checked, as Jekyll checks them. `tree` lists a folder's entries for them.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import translate
from functools import cached_property, lru_cache
from pathlib import Path

# Jekyll adds these to every site's `exclude:`.
JEKYLL_EXCLUDES = (".sass-cache", ".jekyll-cache", "gemfiles", "Gemfile", "Gemfile.lock", "node_modules",
                   "vendor/bundle/", "vendor/cache/", "vendor/gems/", "vendor/ruby/")
SPECIAL_START = ("_", ".", "#", "~")


@dataclass(frozen=True)
class EntryFilter:
    source: Path
    include: tuple[str, ...]
    exclude: tuple[str, ...]  # the site's own plus Jekyll's defaults

    @classmethod
    def of(cls, source: Path, include: tuple[str, ...], exclude: tuple[str, ...]) -> EntryFilter:
        return cls(source, include, tuple(dict.fromkeys((*exclude, *JEKYLL_EXCLUDES))))

    def keeps(self, entry: str, rel: str) -> bool:
        """Whether Jekyll reads `entry` (a name in a folder, or a path below `_posts/`), whose
        path from the source is `rel`."""
        if entry.endswith("."):
            return False
        name = entry.rsplit("/", 1)[-1]
        included = self._matches(self.include, entry) or self._matches(self.include, name)
        if not included and self._matches(self._excluded_only, rel):
            return False
        if included:
            return True
        return not (entry.startswith(SPECIAL_START) or name.startswith(SPECIAL_START) or entry.endswith("~"))

    def excluded(self, rel: str) -> bool:
        """`exclude:` alone (for paths that `include:` names directly)."""
        return self._matches(self._excluded_only, rel)

    @cached_property
    def _excluded_only(self) -> tuple[str, ...]:
        return tuple(p for p in self.exclude if p not in self.include)

    def _matches(self, patterns: tuple[str, ...], entry: str) -> bool:
        """Jekyll's `glob_include?`: a glob (`*` crosses folders), a prefix of the path, or a
        folder named with a trailing `/`. Both sides are taken relative to the source."""
        if not patterns:
            return False
        globs, prefixes, folders = _matcher(patterns)
        path = entry.strip("/")
        if globs is not None and globs(path) or path.startswith(prefixes):
            return True
        return path in folders and (self.source / path).is_dir()


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> tuple[Callable[[str], object] | None, tuple[str, ...],
                                                frozenset[str]]:
    """The patterns as one test each way, made once: all the globs as one regular expression
    (`fnmatchcase` of each, tried together: a blog's thousands of posts each met a dozen
    patterns one by one), the prefixes, and the folders named with a trailing `/`."""
    cleaned = [pattern.lstrip("/") for pattern in patterns if pattern.lstrip("/")]
    either = "|".join(f"(?:{translate(pattern)})" for pattern in cleaned)
    globs = re.compile(either).match if cleaned else None
    return globs, tuple(cleaned), frozenset(pattern[:-1] for pattern in cleaned if pattern.endswith("/"))


def tree(folder: Path) -> list[tuple[tuple[str, ...], os.DirEntry]]:
    """Every entry below `folder` (by its names below it, in `Path` order), as `rglob("*")`
    lists them: a symbolic link to a folder is listed, not entered. One `scandir` per folder,
    whose entries know their type: a blog's thousands of posts cost no `stat` each."""
    found: list[tuple[tuple[str, ...], os.DirEntry]] = []
    if not folder.is_dir():
        return found

    def visit(directory: str, above: tuple[str, ...]) -> None:
        try:
            with os.scandir(directory) as listing:
                inside = list(listing)
        except PermissionError:
            return
        for entry in inside:
            parts = (*above, entry.name)
            found.append((parts, entry))
            if _is_dir_itself(entry):
                visit(entry.path, parts)

    visit(os.fspath(folder), ())
    found.sort(key=lambda item: item[0])  # Path order: folder by folder, name by name
    return found


def _is_dir_itself(entry: os.DirEntry) -> bool:
    """A folder, not a link to one (what `rglob` enters)."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError as err:
        if err.errno in _GONE:
            return False
        raise


def is_file(entry: os.DirEntry) -> bool:
    """`Path.is_file()` for a listed entry: a file, or a link to one."""
    try:
        return entry.is_file()
    except OSError as err:
        if err.errno in _GONE:
            return False
        raise


# What `Path.is_file()` and `rglob` take as "not there" rather than as an error.
_GONE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)
