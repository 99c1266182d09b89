"""Where a build may write. Every check runs before anything is written (no figure, no cache,
no lock file), compares resolved real paths (symbolic links, `..` and trailing slashes
undone), and fails with one line saying why and what to do instead.

The project folder is the one that holds the source folder; `figures/` and `.cache/` live
beside the source there (see `config.load_config`).
"""

from __future__ import annotations

from pathlib import Path

from builder import outputs, state
from builder.config import Config, project_folder
from builder.entries import EntryFilter
from builder.errors import BuildError

# Folders the build reads although their names start with "_": at the top of the source, and
# (posts and drafts) in any folder, as Jekyll reads them.
READ_FOLDERS = ("_includes", "_templates", "_data")
POST_FOLDERS = ("_posts", "_drafts")


class DestinationError(BuildError):
    """A destination (or cache folder) that a build must not write to."""


def check_build(config: Config, force: bool = False) -> None:
    """Refuse a dangerous destination or cache folder, and a destination holding files this
    tool did not write (unless `force`)."""
    problem = cache_problem(config) or destination_problem(config)
    if problem:
        raise DestinationError(problem)
    destination = config.destination.resolve()
    if destination.exists() and not destination.is_dir():
        raise DestinationError(outputs.not_a_folder_message(_shown(config.destination)))
    if force or not destination.is_dir():
        return
    if state.load(config.cache_dir, destination) is not None:
        return  # ours: what we did not write in it is kept or moved aside, never deleted
    strangers = outputs.foreign_files(destination, config.keep_files)
    # While another build runs, the folder may be its own, not yet recorded: the writer asks
    # again under the lock.
    if strangers and not outputs.build_running(config.cache_dir):
        raise outputs.ForeignFilesError(outputs.foreign_message(
            _shown(config.destination), strangers, config.keep_files, config.cache_dir / "trash"))


def check_cache(config: Config) -> None:
    """For commands that write only to the cache (`blog figures`)."""
    problem = cache_problem(config)
    if problem:
        raise DestinationError(problem)


def destination_problem(config: Config) -> str | None:
    """Why the site must not be built into `config.destination`, or None; it says where that
    destination was chosen (-d on the command line, or _config.yml) when not by default."""
    problem = _destination_problem(config)
    return problem + _origin(config) if problem else None


def _destination_problem(config: Config) -> str | None:
    where = _shown(config.destination)
    destination = config.destination.resolve()
    source = config.source.resolve()
    project = source.parent
    default = project_folder(source) / "_site"
    instead = f"choose a folder of its own, such as {default} (the default)"
    relation = _relation(destination, source, project, config)
    if relation:
        return f"destination {where} {relation}; {instead}"
    if destination.is_relative_to(source) and not _ignored_inside(destination, config):
        return (f"destination {where} lies inside the source folder {source}, which the next build would "
                f"read back in; {instead}, or one the build ignores inside it (a name starting with _ or ., "
                "or one listed under exclude in _config.yml)")
    for role, folder in (("figures folder", config.figures_dir), ("cache folder", config.cache_dir)):
        folder = folder.resolve()
        if destination == folder:
            return f"destination {where} is the {role} {folder}; {instead}"
        if folder.is_relative_to(destination):
            return f"destination {where} contains the {role} {folder}; {instead}"
        if destination.is_relative_to(folder):
            return f"destination {where} lies inside the {role} {folder}; {instead}"
    return None


def cache_problem(config: Config) -> str | None:
    """Why `config.cache_dir` must not be used for the cache, or None."""
    cache = config.cache_dir.resolve()
    source = config.source.resolve()
    relation = _relation(cache, source, source.parent, config)
    if relation is None and cache.is_relative_to(source) and not _ignored_inside(cache, config):
        relation = f"lies inside the source folder {source}"
    figures = config.figures_dir.resolve()
    if relation is None and figures.is_relative_to(cache):
        relation = f"{'is' if figures == cache else 'contains'} the figures folder {figures}"
    if relation is None and cache.is_relative_to(figures):
        relation = f"lies inside the figures folder {figures}"
    if relation is None:
        return None
    return (f"the cache folder {_shown(config.cache_dir)} {relation}; set cache_dir in _config.yml to a "
            f"folder of its own (the default is .cache beside the source folder)")


def _relation(path: Path, source: Path, project: Path, config: Config) -> str | None:
    """What makes `path` a place no build may fill: a root, a home, the project, the source."""
    home = Path.home().resolve()
    if path == Path(path.anchor):
        return "is the root of the filesystem"
    if path == home:
        return "is your home folder"
    if home.is_relative_to(path):
        return f"contains your home folder {home}"
    if path == project:
        return (f"is the project folder (it holds {source.name}/, {config.figures_dir.name}/ and "
                f"{config.cache_dir.name}/); building there would replace them")
    if project.is_relative_to(path):
        return f"contains the project folder {project} and the source folder {source}"
    if path == source:
        return "is the source folder: the site is built from it, not into it"
    return None


def _ignored_inside(path: Path, config: Config) -> bool:
    """A folder inside the source that the build never reads (Jekyll's rules: a name starting
    with _, ., # or ~, or one `exclude:` names), other than the folders it does read."""
    source = config.source.resolve()
    parts = path.relative_to(source).parts
    if not parts or parts[0] in READ_FOLDERS or any(part in POST_FOLDERS for part in parts):
        return False
    entries = EntryFilter.of(source, config.include, config.exclude)
    return any(not entries.keeps(name, "/".join(parts[:i + 1])) for i, name in enumerate(parts))


def _origin(config: Config) -> str:
    """Where a destination that is not the default was chosen, so the user knows what to change."""
    if "destination" in config.options:
        return "; the destination was given with -d on the command line"
    if config.site.get("destination"):
        return f"; the destination was set in {config.source / '_config.yml'}"
    return ""


def _shown(path: Path) -> str:
    """The path as the user wrote it, with where it really is when that differs."""
    real = path.resolve()
    return str(path) if str(path) == str(real) else f"{path} ({real})"
