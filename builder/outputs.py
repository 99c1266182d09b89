"""Writing the site: only what changed, never a half-written site, never a file we did not write.

Each output's sha256 (and the size and mtime it had when written) is recorded in
`.cache/outputs/`; that record is what makes a destination ours. A build writes the changed
files into a staging folder inside the destination first and moves them into place only when
every one of them was written, so a failure (a full disk, say) leaves the previous site as it
was. Unchanged files are not touched: their mtimes stay.

What a build may remove: a file it wrote (listed in the record, its content still what was
written) that no output claims any more. Everything else in the destination is someone's: a
file matching `keep_files` stays where it is, and the rest (including a file of ours edited by
hand since) is moved aside to a dated folder under `.cache/trash/`, never deleted. A destination
without a record is built in a fresh folder and swapped in when it is missing or empty; one
that holds other people's files is refused unless the build is forced.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

from builder import store
from builder.errors import BuildError
from builder.model import WriteReport

STAGING_PREFIX = ".blog-tmp-"  # our staging folder inside a destination; a killed build may leave one
LOCK_NAME = "build.lock"
# Below this many files, forked workers cost more to start than writing takes in this process.
PARALLEL_MIN_FILES = 200

# What an output holds: text, bytes, a file to copy, or text made when it is written (a page
# rendered by the writer's worker, so that the site's HTML is never all held at once and the
# rendering is spread over the cores with the writing).
Content = str | bytes | Path | Callable[[], str]


class ForeignFilesError(BuildError):
    """The destination holds files this tool did not write, and the build was not forced."""


def lock_path(cache_dir: Path) -> Path:
    """One build at a time per cache (builds share the figure and render caches): one lock
    file, whatever the destination."""
    return cache_dir / "outputs" / LOCK_NAME


def exclusive(cache_dir: Path):
    """Hold the build lock for the block; a second build waits for the first to finish."""
    return store.exclusive(lock_path(cache_dir))


def build_running(cache_dir: Path) -> bool:
    """Whether another build holds the lock now (without making the lock file)."""
    return store.is_locked(lock_path(cache_dir))


def kept(rel: str, keep: Iterable[str]) -> bool:
    """Jekyll's `keep_files` rule: a path is kept when it starts with an entry, so `.git` also
    keeps `.gitignore` and `.github/` (what `jekyll build` does)."""
    return rel.startswith(tuple(keep))


def foreign_files(destination: Path, keep: Iterable[str], record: dict[str, list] | None = None) -> list[str]:
    """Files in `destination` that are neither kept nor ours, sorted (an empty list for a
    missing or empty folder)."""
    if not destination.is_dir():
        return []
    record = record or {}
    files, _ = _scan(destination, tuple(keep), set(record))
    return sorted(rel for rel in files
                  if not _own_leftover(rel) and not kept(rel, keep) and not _ours(destination, rel, record))


def foreign_message(destination: Path | str, strangers: list[str], keep: Iterable[str],
                    trash_root: Path) -> str:
    names = ", ".join(strangers[:3]) + (f" and {len(strangers) - 3} more" if len(strangers) > 3 else "")
    keeping = ", ".join(keep) or "nothing (keep_files is empty)"
    return (f"destination {destination} holds files this tool did not write ({names}); nothing was written. "
            f"Choose an empty or new folder, or run again with --force to keep {keeping} in place and "
            f"move the rest aside to {trash_root}/")


def not_a_folder_message(destination: Path | str) -> str:
    return f"destination {destination} is a file, not a folder; move it away or choose another folder with -d"


def outputs_intact(destination: Path, files: dict[str, list], keep: Iterable[str] = ()) -> bool:
    """Every recorded output is still there, as it was written (size and mtime), and nothing
    else is in the destination but `keep_files`."""
    root = os.fspath(destination)
    for rel, (_, size, mtime_ns) in files.items():
        try:
            stat = os.lstat(f"{root}/{rel}")  # a string, not a Path: a site has thousands of files
        except OSError:
            return False
        if stat.st_size != size or stat.st_mtime_ns != mtime_ns:
            return False
    keep = tuple(keep)
    found, _ = _scan(destination, keep, set(files))
    return all(rel in files or kept(rel, keep) for rel in found)


def write_site(destination: Path, outputs: dict[str, Content], copies: dict[str, Path],
               previous: dict[str, list] | None, *, trash_root: Path, keep: Iterable[str] = (),
               force: bool = False) -> WriteReport:
    """Make `destination` hold `outputs` (text, or text made on demand) and `copies` (files),
    plus what it must keep.

    `previous` is our record of the destination (None: not ours). `trash_root` is where a
    dated folder is made for anything moved aside."""
    # Each output is made, encoded, hashed and (when it changed) written in one go, one at a
    # time, in forked workers for a large site: never all of the site's text at once.
    contents: dict[str, Content] = dict(outputs)
    contents.update({rel: path for rel, path in copies.items() if rel not in contents})
    keep = tuple(keep)
    destination = destination.resolve()
    if destination.exists() and not destination.is_dir():
        raise BuildError(not_a_folder_message(destination))
    if not destination.exists() or (destination.is_dir() and not any(destination.iterdir())):
        try:
            return WriteReport(written=len(contents), fresh=True, state=_write_fresh(destination, contents))
        except _CannotSwap:
            pass  # an empty mount point, say: fill it in place instead
    if previous is None:
        strangers = foreign_files(destination, keep)
        if strangers and not force:
            raise ForeignFilesError(foreign_message(destination, strangers, keep, trash_root))
    return _update(destination, contents, previous or {}, keep, trash_root)


def update_in_place(destination: Path, changed: dict[str, bytes], removed: Iterable[str],
                    moment: AbstractContextManager | None = None) -> None:
    """For a folder that one process made and alone writes (the dev server's): `changed`
    files are written beside their places first, then renamed into them inside `moment` (a lock
    that readers hold too, so a reader sees every file as it was before or after, never
    between); `removed` files (ours, gone from the site) are deleted with the folders they
    leave empty."""
    removed = list(removed)
    staging = _stage(destination, changed)
    try:
        with moment or nullcontext():
            for folder in sorted({rel.rpartition("/")[0] for rel in changed} - {""}):
                os.makedirs(destination / folder, exist_ok=True)
            for rel in changed:
                os.replace(staging / rel, destination / rel)
            for rel in removed:
                (destination / rel).unlink(missing_ok=True)
            _remove_emptied_folders(destination, removed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remove_ours(destination: Path, record: dict[str, list]) -> int:
    """Remove the files of `record` that still hold what we wrote (`blog clean`), then the
    folders that left empty, and `destination` itself when nothing else is in it. Returns how
    many files went; anything else stays."""
    ours = [rel for rel in sorted(record) if _ours(destination, rel, record)]
    for rel in ours:
        (destination / rel).unlink()
    _remove_emptied_folders(destination, ours)
    if destination.is_dir() and not any(destination.iterdir()):
        destination.rmdir()
    return len(ours)


class _CannotSwap(Exception):
    pass


def _update(destination: Path, contents: dict[str, Content], previous: dict[str, list],
            keep: tuple[str, ...], trash_root: Path) -> WriteReport:
    """Write what changed in place; remove what we wrote and no longer need; move the rest aside."""
    files, dirs = _scan(destination, keep, set(contents) | set(previous))
    # Made only if something changed (by the first file written into it): a build that changes
    # nothing touches nothing, not even the destination folder's own modification time.
    staging = destination / f"{STAGING_PREFIX}{os.urandom(6).hex()}"

    def unchanged(rel: str, digest: str) -> str | None:
        if _same(destination / rel, digest, previous.get(rel)):
            return "same"
        if rel in files and _holds(destination / rel, digest):
            return "adopted"  # already what we would write (someone's copy): left as it is
        return None

    try:
        settled = _write_each(contents, staging, unchanged)
        return _settle(destination, contents, settled, staging, files, dirs, previous, keep, trash_root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _settle(destination: Path, contents: dict[str, Content], settled: dict[str, _Settled],
            staging: Path, files: set[str], dirs: set[str], previous: dict[str, list],
            keep: tuple[str, ...], trash_root: Path) -> WriteReport:
    """With every changed output written under `staging`: move aside, remove, then rename the
    staged files into place."""
    hashes = {rel: digest for rel, (digest, _, _) in settled.items()}
    changed = [rel for rel, (_, what, _) in settled.items() if what == "written"]
    adopted = {rel for rel, (_, what, _) in settled.items() if what == "adopted"}
    needed_dirs = {prefix for rel in contents for prefix in _prefixes(rel)[:-1]}
    remove, aside = [], []
    for rel in sorted(files):
        if rel in contents:
            if rel in changed and not _ours(destination, rel, previous):
                aside.append(rel)  # someone's file (or an edit of ours) that an output replaces
        elif _own_leftover(rel) or _ours(destination, rel, previous):
            remove.append(rel)
        elif rel in needed_dirs or _parents_in(rel, contents) or not kept(rel, keep):
            aside.append(rel)  # in the way of an output (kept or not), or simply not ours
    blocking = sorted(rel for rel in dirs if rel in contents)  # a folder where an output file must go
    if not changed and not remove and not aside and not blocking and not adopted:
        return WriteReport(unchanged=len(contents), state={rel: previous[rel] for rel in hashes})
    trash: list[Path] = []

    def trash_folder() -> Path:
        if not trash:
            trash.append(_trash_folder(trash_root, destination))
        return trash[0]

    for rel in aside:
        _move(destination / rel, trash_folder() / rel)
    for rel in remove:
        target = destination / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # our own staging folder, left by a build that was killed
        else:
            target.unlink(missing_ok=True)
    _remove_emptied_folders(destination, [*remove, *aside])
    for rel in blocking:  # what is left of it (empty folders, a kept folder) goes aside whole
        if (destination / rel).exists():
            _move(destination / rel, trash_folder() / rel)
            aside.append(rel)
    for folder in sorted({rel.rpartition("/")[0] for rel in changed} - {""}):
        os.makedirs(destination / folder, exist_ok=True)
    for rel in changed:  # renames, which need no space (and keep each file's size and mtime)
        os.replace(staging / rel, destination / rel)
    state = {rel: previous[rel] for rel in hashes if rel not in changed and rel not in adopted}
    state.update({rel: [hashes[rel], *settled[rel][2]] for rel in changed})
    state.update(_record(destination, {rel: hashes[rel] for rel in adopted}))
    return WriteReport(written=len(changed), removed=sum(not _own_leftover(r) for r in remove),
                       unchanged=len(hashes) - len(changed), moved=aside, trash=trash[0] if trash else None,
                       state=state)


def _parents_in(rel: str, contents: dict[str, Any]) -> list[str]:
    """The output files that `rel` would lie under (a folder of someone's where a file must go)."""
    parts = rel.split("/")
    return [p for p in ("/".join(parts[:i]) for i in range(1, len(parts))) if p in contents]


def _prefixes(rel: str) -> list[str]:
    """"a/b/c" -> ["a", "a/b", "a/b/c"]."""
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _own_leftover(rel: str) -> bool:
    return rel.split("/", 1)[0].startswith(STAGING_PREFIX)


def _ours(destination: Path, rel: str, previous: dict[str, list]) -> bool:
    """We wrote this file and it still holds what we wrote (an edit by hand makes it someone's)."""
    recorded = previous.get(rel)
    if not recorded:
        return False
    target = destination / rel
    try:
        stat = target.lstat()
    except OSError:
        return False
    if target.is_symlink() or not target.is_file():
        return False
    if stat.st_size == recorded[1] and stat.st_mtime_ns == recorded[2]:
        return True
    return stat.st_size == recorded[1] and _sha256(target) == recorded[0]


def _holds(target: Path, digest: str) -> bool:
    """A regular file with exactly these bytes (nothing is lost by calling it ours)."""
    try:
        return not target.is_symlink() and target.is_file() and _sha256(target) == digest
    except OSError:
        return False


def _scan(destination: Path, keep: tuple[str, ...], ours: set[str]) -> tuple[set[str], set[str]]:
    """(files, folders) under `destination`, relative. Anything that is not a real folder counts
    as a file (a symbolic link is never followed). A kept folder with nothing of ours inside is
    not entered: `.git` can hold many thousands of files. A folder that cannot be listed is
    passed over (with what is inside it), as `os.walk` passes over it.

    One `scandir` per folder, whose entries know their own type: a site of 1,000 posts has over
    2,000 folders, and a `stat` or a relative path worked out for each cost more than the listing."""
    files: set[str] = set()
    dirs: set[str] = set()
    holding_ours: set[str] | None = None  # the folders with something of ours inside, when needed
    pending = [(os.fspath(destination), "")]
    while pending:
        folder, above = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            rel = above + entry.name
            if not _is_folder_itself(entry):
                files.add(rel)
                continue
            dirs.add(rel)
            if kept(rel, keep):
                if holding_ours is None:
                    holding_ours = {prefix for name in ours for prefix in _prefixes(name)}
                if rel not in holding_ours:
                    continue
            pending.append((entry.path, rel + "/"))
    return files, dirs


def _is_folder_itself(entry: os.DirEntry) -> bool:
    """A real folder, not a link to one (from the listing's own type, where the filesystem
    gives it); an entry whose type cannot be read counts as a file, as `os.walk` counts it."""
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _sha256(data: Content) -> str:
    data = _bytes_or_file(data)
    return store.sha256_bytes(data) if isinstance(data, bytes) else store.sha256_file(data)


def _bytes_or_file(data: Content) -> bytes | Path:
    """What an output holds, as bytes (text made now, if it is made on demand) or a file to copy."""
    if callable(data):
        data = data()
    return data.encode("utf-8") if isinstance(data, str) else data


def _same(target: Path, digest: str, recorded: list | None) -> bool:
    if not recorded or recorded[0] != digest:
        return False
    try:
        stat = target.lstat()
    except OSError:
        return False
    return not target.is_symlink() and stat.st_size == recorded[1] and stat.st_mtime_ns == recorded[2]


def _record(destination: Path, hashes: dict[str, str]) -> dict[str, list]:
    records = {}
    for rel, digest in hashes.items():
        stat = (destination / rel).stat()
        records[rel] = [digest, stat.st_size, stat.st_mtime_ns]
    return records


# What became of an output: its sha256, "written" (with the size and mtime of the file written)
# or the reason it was left as it is (with None).
_Settled = tuple[str, str, tuple[int, int] | None]


def _write_each(contents: dict[str, Content], staging: Path,
                unchanged: Callable[[str, str], str | None]) -> dict[str, _Settled]:
    """Every output's sha256 and what became of it: "written" under `staging` (its folders
    made as needed), or the reason `unchanged(rel, digest)` gives for leaving it. A large site
    is shared by this process and forked workers, one per other core (they inherit `contents`,
    so only names, digests and the written files' sizes and mtimes travel): this process writes
    its share rather than wait, and the site costs one fork fewer."""
    names = list(contents)
    _MADE_FOLDERS.clear()  # this staging folder's (the workers inherit it empty)
    if len(names) >= PARALLEL_MIN_FILES:  # (multiprocessing is imported only for a large site)
        from builder import workers

        processes = workers.available(len(names), PARALLEL_MIN_FILES)
    else:
        processes = 1
    try:
        if processes > 1:
            results = workers.map_here_and_forked(_write_one, names, processes, contents, staging, unchanged)
        else:
            results = [_write_one(rel, contents, staging, unchanged) for rel in names]
    finally:
        _MADE_FOLDERS.clear()
    return dict(zip(names, results, strict=True))


def _write_one(rel: str, contents: dict[str, Content], staging: Path,
               unchanged: Callable[[str, str], str | None]) -> _Settled:
    data = _bytes_or_file(contents[rel])
    digest = _sha256(data)
    reason = unchanged(rel, digest)
    if reason is not None:
        return digest, reason, None
    root = os.fspath(staging)
    folder = rel.rpartition("/")[0]
    if (root, folder) not in _MADE_FOLDERS:
        _make_folder(root, folder)
    target = f"{root}/{rel}"
    _put(Path(target), data)
    # The record's size and mtime, read here (a worker) rather than by the parent once every
    # file is written: moving the file into place keeps both.
    stat = os.stat(target)
    return digest, "written", (stat.st_size, stat.st_mtime_ns)


_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
# The folders this process has made (or found) in a staging folder, by (staging, folder): a
# folder holding several outputs is made once, not tried again for each of its files.
_MADE_FOLDERS: set[tuple[str, str]] = set()


def _make_folder(root: str, folder: str) -> None:
    """`root/folder` ("": `root` itself, a staging folder made with its first file), with the
    parents this process has not made yet: one `mkdir` each (`os.makedirs` would look for each
    parent first). Two workers may make the same folder: the second finds it, which is fine."""
    if not folder:
        os.makedirs(root, exist_ok=True)
    else:
        parent = folder.rpartition("/")[0]
        if (root, parent) not in _MADE_FOLDERS:
            _make_folder(root, parent)
        try:
            os.mkdir(f"{root}/{folder}")
        except FileExistsError:
            pass
    _MADE_FOLDERS.add((root, folder))


def _put_all(root: Path, contents: dict[str, str | bytes | Path]) -> None:
    """Every file under `root`, each folder made once (not once per file: a thousand posts
    are a thousand folders, and a `mkdir` that finds its folder is a wasted system call)."""
    _make_folders(root, contents)
    for rel, data in contents.items():
        _put(root / rel, data)


def _make_folders(root: Path, files: Iterable[str]) -> None:
    """The folders `files` lie in, under `root` (which exists): each made by one `mkdir`,
    parents first (`os.makedirs` per file tries every parent again)."""
    folders = {prefix for rel in files for prefix in _prefixes(rel)[:-1]}
    for folder in sorted(folders):  # a parent sorts before its children
        try:
            os.mkdir(root / folder)
        except FileExistsError:
            pass


def _put(target: Path, data: str | bytes | Path) -> None:
    """One file into a staging folder that exists. No fsync per file (a site has thousands): a
    file torn by a power cut differs from the output record (saved durably, after the renames)
    in size or hash, so the next build writes it again."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if isinstance(data, bytes):  # one `open`, and no file object around it
        fd = os.open(target, _NEW_FILE, 0o666)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
    else:
        shutil.copyfile(data, target)


def _stage(destination: Path, changed: dict[str, str | bytes | Path]) -> Path:
    """Every changed file written under a staging folder inside the destination (same
    filesystem, so moving them into place is a rename); on any failure nothing else changed."""
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=destination))
    try:
        _put_all(staging, changed)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def _trash_folder(trash_root: Path, destination: Path) -> Path:
    stamp = datetime.now().strftime("%Y-%m-%d_%H%M%S")
    for n in range(1, 1000):
        folder = trash_root / (f"{stamp}-{destination.name}" + (f"-{n}" if n > 1 else ""))
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise FileExistsError(trash_root)


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as err:
        if err.errno != errno.EXDEV:  # the trash is on another filesystem: copy, then remove
            raise
        shutil.move(str(source), str(target))


def _remove_emptied_folders(destination: Path, emptied: list[str]) -> None:
    """Folders that became empty because we removed or moved their files; never one that was
    empty before (an empty folder someone made stays)."""
    candidates = {prefix for rel in emptied for prefix in _prefixes(rel)[:-1]}
    for rel in sorted(candidates, key=lambda r: r.count("/"), reverse=True):
        folder = destination / rel
        try:
            if folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                folder.rmdir()
        except OSError:
            continue


def _write_fresh(destination: Path, contents: dict[str, Content]) -> dict[str, list]:
    """Everything into a new folder beside `destination`, then renamed into place (over an
    empty folder, in one step). Returns the record of what was written: per output its sha256,
    size and mtime."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.new-", dir=destination.parent))
    try:
        # Folders are made by the workers too: on this kind of disk a `mkdir` costs more than
        # writing a small page, and a site of 1,000 posts has over 2,000 folders.
        settled = _write_each(contents, staging, lambda rel, digest: None)
        os.chmod(staging, 0o755)
        try:
            os.rename(staging, destination)  # fails on a non-empty folder: nothing is replaced
        except OSError as err:
            if not destination.is_dir():
                raise
            raise _CannotSwap(str(err)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {rel: [digest, *size_and_mtime] for rel, (digest, _, size_and_mtime) in settled.items()}
