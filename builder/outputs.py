"""Writing the site: only what changed, never a half-written site.

Each output's sha256 (and the size and mtime it had when written) is recorded in
`.cache/outputs/`. A build writes the changed files to temporary names first and renames them
into place only when every one of them was written, then removes files no output claims, so
a failure (a full disk, say) leaves the previous site as it was. Unchanged files are not touched:
their mtimes stay. A destination without a record is built in a fresh folder and swapped in.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TMP_SUFFIX = ".blog-tmp"


@dataclass
class WriteReport:
    written: int = 0
    removed: int = 0
    unchanged: int = 0
    state: dict[str, Any] = field(default_factory=dict)


@contextmanager
def exclusive(lock_file: Path) -> Iterator[None]:
    """One build at a time per destination: a second waits for the first to finish."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def state_path(cache_dir: Path, destination: Path) -> Path:
    key = hashlib.sha256(str(destination.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "outputs" / f"{key}.json"


def load_state(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data.get("files"), dict) else None
    except (OSError, ValueError, AttributeError):
        return None


def save_state(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def outputs_intact(destination: Path, files: dict[str, list]) -> bool:
    """Every recorded output is still there, as it was written (size and mtime)."""
    for rel, (_, size, mtime_ns) in files.items():
        try:
            stat = (destination / rel).stat()
        except OSError:
            return False
        if stat.st_size != size or stat.st_mtime_ns != mtime_ns:
            return False
    return _all_files(destination) == set(files)


def write_site(destination: Path, outputs: dict[str, str], copies: dict[str, Path],
               previous: dict[str, list] | None) -> WriteReport:
    """Make `destination` hold exactly `outputs` (text) and `copies` (files)."""
    contents: dict[str, bytes | Path] = {rel: text.encode("utf-8") for rel, text in outputs.items()}
    contents.update({rel: path for rel, path in copies.items() if rel not in contents})
    hashes = {rel: _sha256(data) for rel, data in contents.items()}
    destination = destination.resolve()
    if previous is None or not destination.is_dir():
        _write_fresh(destination, contents)
        return WriteReport(written=len(contents), state=_record(destination, hashes))
    changed = [rel for rel, digest in hashes.items()
               if not _same(destination / rel, digest, previous.get(rel))]
    stale = _all_files(destination) - set(contents)
    if not changed and not stale:
        return WriteReport(unchanged=len(contents), state=previous)
    try:
        _write_in_place(destination, {rel: contents[rel] for rel in changed}, stale)
    except (NotADirectoryError, FileExistsError, IsADirectoryError):
        _write_fresh(destination, contents)  # a file where a folder must go: rebuild the tree whole
        return WriteReport(written=len(contents), state=_record(destination, hashes))
    files = {rel: previous[rel] for rel in hashes if rel not in changed}
    files.update(_record(destination, {rel: hashes[rel] for rel in changed}))
    return WriteReport(written=len(changed), removed=len(stale), unchanged=len(hashes) - len(changed),
                       state=files)


def _sha256(data: bytes | Path) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.read_bytes()).hexdigest()


def _same(target: Path, digest: str, recorded: list | None) -> bool:
    if not recorded or recorded[0] != digest:
        return False
    try:
        stat = target.stat()
    except OSError:
        return False
    return stat.st_size == recorded[1] and stat.st_mtime_ns == recorded[2]


def _record(destination: Path, hashes: dict[str, str]) -> dict[str, list]:
    records = {}
    for rel, digest in hashes.items():
        stat = (destination / rel).stat()
        records[rel] = [digest, stat.st_size, stat.st_mtime_ns]
    return records


def _all_files(destination: Path) -> set[str]:
    found = set()
    for folder, _, names in os.walk(destination):
        base = os.path.relpath(folder, destination)
        for name in names:
            found.add(name if base == "." else f"{base}/{name}".replace(os.sep, "/"))
    return found


def _put(target: Path, data: bytes | Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        target.write_bytes(data)
    else:
        shutil.copyfile(data, target)


def _write_in_place(destination: Path, changed: dict[str, bytes | Path], stale: set[str]) -> None:
    pending: list[tuple[Path, Path]] = []
    try:
        for rel, data in changed.items():  # phase 1: every new file under a temporary name
            target = destination / rel
            tmp = target.with_name(target.name + TMP_SUFFIX)
            _put(tmp, data)
            pending.append((tmp, target))
    except BaseException:
        for tmp, _ in pending:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, target in pending:  # phase 2: renames, which need no space
        os.replace(tmp, target)
    for rel in sorted(stale):  # phase 3: what no output claims any more
        (destination / rel).unlink(missing_ok=True)
    for folder, _, _ in os.walk(destination, topdown=False):  # children before their parents
        if Path(folder) != destination and not os.listdir(folder):
            os.rmdir(folder)


def _write_fresh(destination: Path, contents: dict[str, bytes | Path]) -> None:
    """Everything into a new folder beside `destination`, then swap it in."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.new-", dir=destination.parent))
    try:
        for rel, data in contents.items():
            _put(staging / rel, data)
        os.chmod(staging, 0o755)
        _swap(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _swap(staging: Path, destination: Path) -> None:
    if not destination.exists():
        staging.rename(destination)
        return
    old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
    destination.rename(old)
    try:
        staging.rename(destination)
    except BaseException:
        old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)
