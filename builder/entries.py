"""Which files Jekyll reads and which it ignores (its EntryFilter), on this project's paths.

An entry is ignored when its name starts with `_`, `.`, `#` or `~`, or ends with `~`, unless
`include:` names it; `exclude:` (plus Jekyll's own defaults) leaves out a path, a path prefix or
a glob. Inside `_posts/` an entry is its path below that folder, and only its first component
and its file name are checked, as Jekyll checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
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
        if not included and self._matches(tuple(p for p in self.exclude if p not in self.include), rel):
            return False
        if included:
            return True
        return not (entry.startswith(SPECIAL_START) or name.startswith(SPECIAL_START) or entry.endswith("~"))

    def excluded(self, rel: str) -> bool:
        """`exclude:` alone (for paths that `include:` names directly)."""
        return self._matches(tuple(p for p in self.exclude if p not in self.include), rel)

    def _matches(self, patterns: tuple[str, ...], entry: str) -> bool:
        """Jekyll's `glob_include?`: a glob (`*` crosses folders), a prefix of the path, or a
        folder named with a trailing `/`. Both sides are taken relative to the source."""
        path = entry.strip("/")
        is_folder = None
        for pattern in patterns:
            pattern = pattern.lstrip("/")
            if not pattern:
                continue
            if fnmatchcase(path, pattern) or path.startswith(pattern):
                return True
            if pattern.endswith("/") and pattern == path + "/":
                if is_folder is None:
                    is_folder = (self.source / path).is_dir()
                if is_folder:
                    return True
        return False
