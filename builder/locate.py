"""Where the site is when no `-s` is given, found as Jekyll users expect from anywhere inside
the project: from the current folder upwards, the first folder that holds `site_src/` (this
project's layout) or is a Jekyll site itself (it holds `_config.yml`)."""

from __future__ import annotations

from pathlib import Path

from builder.config import CONFIG_NAME
from builder.errors import BuildError

SITE_FOLDER = "site_src"


def find_source(start: Path | None = None) -> Path:
    """The site folder for a command run in `start` (default: the current folder). It is
    given relative to `start` when it lies inside it (`site_src`, `.`), else as a resolved
    absolute path, so that the project folder beside it is always the right one."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / SITE_FOLDER).is_dir():
            return _shown(folder / SITE_FOLDER, here)
        if (folder / CONFIG_NAME).is_file():
            return _shown(folder, here)
    raise BuildError(f"no site here: neither {SITE_FOLDER}/ nor {CONFIG_NAME} in {here} or any folder "
                     f"above it; run blog inside the project, or name the site folder with -s DIR")


def _shown(found: Path, here: Path) -> Path:
    return found.relative_to(here) if found.is_relative_to(here) else found
