"""The one way the builder keeps anything on disk between runs: atomic writes (with fsync),
versioned JSON records, hashing, the build lock, and the code version every cache is keyed by.

A write goes to a temporary file beside its target (same folder, same filesystem), is flushed
to disk, and is renamed over the target: a reader sees the old file or the new one, never half
of one. A record is a JSON object with a "version" (1 when it has none); one written by another
version reads as absent, so a format change never misreads an old cache. The code version is the sha256 of
every file of the package (Python, theme, MathJax script) and of the libraries whose behaviour
shapes the output, so upgrading the builder invalidates every cached result it could change.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).parent
# Not part of the code version, nor even walked: bytecode, and MathJax's installed files
# (thousands; builder/node/package-lock.json, which is hashed, pins them).
SKIPPED = {"__pycache__", "node_modules"}
# The libraries whose versions change what a build makes: the readers, the theme's engine,
# the image encoder, and what the figure scripts compute with.
LIBRARIES = ("markdown", "pymdown-extensions", "python-liquid", "pygments", "jinja2", "pyyaml", "pillow",
             "torch", "torchvision", "matplotlib", "numpy", "scikit-learn", "scikit-image")
TEMP_SUFFIX = ".tmp"
_DIST_INFO = re.compile(r"^([A-Za-z0-9_.\-]+?)-([0-9][^-]*)\.dist-info$")


# --- writing ---------------------------------------------------------------------------------


def temp_path(target: Path) -> Path:
    """A name for a temporary file beside `target`, unique across processes and threads."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")


@contextmanager
def atomic_target(target: Path, *, durable: bool = True) -> Iterator[Path]:
    """A temporary path to write `target` through (for writers that want a file name, such as
    Pillow's `save`): renamed over `target` when the block succeeds, removed when it fails.
    `durable` flushes the file and its folder to disk before and after the rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(target)
    try:
        yield tmp
        if durable:
            _fsync_file(tmp)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if durable:
        _fsync_folder(target.parent)


def atomic_write(target: Path, data: bytes | str, *, durable: bool = True) -> None:
    """Write `data` (text as UTF-8) to `target` atomically.

    `durable=False` skips fsync, for entries whose damage after a power cut is detected when
    read (a cache entry that no longer parses is a miss) and which are written by the thousand."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_target(target, durable=durable) as tmp:
        tmp.write_bytes(payload)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    """The rename itself reaches the disk (POSIX; Windows has no folder handles to flush)."""
    if os.name == "nt":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on folders: the file itself is flushed
        pass
    finally:
        os.close(fd)


# --- records ---------------------------------------------------------------------------------


class UnreadableRecord(ValueError):
    """A record file that exists but is not a JSON object (damaged, or written by hand)."""


def read_record(path: Path, version: int) -> dict[str, Any] | None:
    """The record at `path`; None when there is none or another version wrote it. A file that
    is not a JSON object raises UnreadableRecord (callers decide whether that deserves a word)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise UnreadableRecord(str(err)) from err
    try:
        data = json.loads(text)
    except ValueError as err:
        raise UnreadableRecord(str(err)) from err
    if not isinstance(data, dict):
        raise UnreadableRecord("not a JSON object")
    # A record from before records carried a version is version 1.
    return data if data.get("version", 1) == version else None


def write_record(path: Path, version: int, data: dict[str, Any], *, durable: bool = True,
                 indent: int | None = None) -> None:
    text = json.dumps({"version": version, **data}, ensure_ascii=False, indent=indent)
    atomic_write(path, text + ("\n" if indent else ""), durable=durable)


# --- keyed caches ----------------------------------------------------------------------------


class KeyedCache:
    """Text entries by key in one SQLite file (a table `entry`): thousands of small cache
    entries written in one transaction instead of a file each, written and renamed. It is only
    a cache: a damaged file is removed and started afresh, and commits do not wait for the disk
    (WAL, synchronous=NORMAL; a torn last transaction is lost, never half-read). The connection
    opens on first use and must be closed before a fork (`close`); it opens again when used."""

    def __init__(self, path: Path):
        self.path = path
        self.db: Any = None

    def __enter__(self) -> KeyedCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    @property
    def connection(self) -> Any:
        import sqlite3

        if self.db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = self._open()
            except sqlite3.DatabaseError:  # damaged: it is only a cache
                self.path.unlink(missing_ok=True)
                self.db = self._open()
        return self.db

    def _open(self) -> Any:
        import sqlite3

        db = sqlite3.connect(self.path, timeout=60)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS entry (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.commit()
        return db

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), 500):  # below SQLite's limit on query parameters
            chunk = wanted[start:start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, value FROM entry WHERE key IN ({marks})"
            found.update(self.connection.execute(query, chunk))
        return found

    def put_many(self, rows: Iterable[tuple[str, str]]) -> None:
        """(key, value) rows in one transaction; `rows` may be a generator (encoded one at a time)."""
        with self.connection as db:
            db.executemany("INSERT OR REPLACE INTO entry (key, value) VALUES (?, ?)", rows)


# --- hashing ---------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digest(value: Any) -> str:
    """sha256 of a JSON-able value (keys sorted; anything else by its str)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)
                          .encode()).hexdigest()


# --- the build lock --------------------------------------------------------------------------


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """Hold `lock_file` (made if missing) for the block; a second holder waits. Works on
    every platform (the filelock package: flock on POSIX, msvcrt on Windows)."""
    import filelock

    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with filelock.FileLock(str(lock_file)):
        yield


def is_locked(lock_file: Path) -> bool:
    """Whether someone holds `lock_file` now (a missing lock file is not made)."""
    import filelock

    if not lock_file.exists():
        return False
    lock = filelock.FileLock(str(lock_file), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


# --- the code version ------------------------------------------------------------------------


def package_files(package: Path = PACKAGE) -> list[Path]:
    """Every file of the package that shapes a build, sorted."""
    found = []
    for folder, folders, files in os.walk(package):
        folders[:] = sorted(name for name in folders if name not in SKIPPED)
        found += [Path(folder) / name for name in files if not name.endswith((".pyc", TEMP_SUFFIX))]
    return sorted(found)


@functools.cache
def code_version() -> str:
    """sha256 of the builder itself: every package file and the versions of LIBRARIES. Every
    cache (figures, image variants, rendered documents, the output record) is keyed by it."""
    return _code_version(PACKAGE)


def _code_version(package: Path) -> str:
    sha = hashlib.sha256()
    for path in package_files(package):
        sha.update(f"{path.relative_to(package).as_posix()}\0".encode() + path.read_bytes() + b"\0")
    sha.update(json.dumps(library_versions(LIBRARIES), sort_keys=True).encode())
    return sha.hexdigest()


@functools.cache
def code_version_of(module: str) -> str:
    """sha256 of one builder module and of every builder module it imports, at any depth and
    inside functions too: the code that can change what that module makes. The figure cache is
    keyed by the worker's, so a change to the theme or a command never retrains a figure, while
    a change to anything the worker runs does (no hand-kept list to forget a module in)."""
    return _code_version_of(PACKAGE, module)


def _code_version_of(package: Path, module: str) -> str:
    sha = hashlib.sha256()
    for path in _module_closure(package, module):
        sha.update(f"{path.relative_to(package).as_posix()}\0".encode() + path.read_bytes() + b"\0")
    return sha.hexdigest()


def _module_closure(package: Path, module: str) -> list[Path]:
    """The files of `module` and of the builder modules it imports, transitively, sorted."""
    pending, found = [module], {}
    while pending:
        name = pending.pop()
        path = _module_file(package, name)
        if name in found or path is None:
            continue
        found[name] = path
        if path.name == "__init__.py":  # a subpackage: all of its modules
            pending += [f"{name}.{p.stem}" for p in path.parent.glob("*.py") if p.stem != "__init__"]
        # `from builder.x import NAME` also yields "x.NAME": no such file, so it is passed over.
        pending += [n.removeprefix("builder.") for n in imported_modules(path) if n.startswith("builder.")]
    return sorted(found.values())


def imported_modules(path: Path) -> set[str]:
    """The dotted names a Python file imports, anywhere in it (inside functions too); for
    `from a import b` both `a` and `a.b`, since `b` may be a module. Relative imports are
    not followed (neither the builder nor the figure scripts use them)."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _module_file(package: Path, name: str) -> Path | None:
    base = package.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


@functools.cache
def library_versions(names: tuple[str, ...]) -> dict[str, str]:
    """Installed versions of `names` (and Python's), from the names of the packages' metadata
    folders: one directory listing instead of a metadata search per package (~20 ms each)."""
    wanted = {_normal(name): name for name in names}
    versions: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            match = _DIST_INFO.match(entry)
            if match:
                name = wanted.get(_normal(match.group(1)))
                if name and name not in versions:
                    versions[name] = match.group(2)
    for name in names:
        if name not in versions:  # an unusual install: ask the slow way
            from importlib import metadata

            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = "absent"
    versions["python"] = ".".join(map(str, sys.version_info[:3]))
    return {name: versions[name] for name in [*names, "python"]}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()
