"""The writing stage and the incremental state: only what changed is written, never a file of
someone else's removed, and a build where nothing changed stops at the record."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from builder import outputs, state, store
from builder.config import load_config
from builder.model import BuildState, FigureSet
from tests.helpers import meet, mtimes, post, tree, write_files


def write(destination: Path, texts: dict[str, str], previous: dict | None = None, **options):
    return outputs.write_site(destination, texts, {}, previous, trash_root=destination.parent / "trash",
                              **options)


def test_a_fresh_folder_then_only_what_changed(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    first = write(out, {"a.html": "A", "b/index.html": "B"})
    assert first.fresh and first.written == 2 and set(first.state) == {"a.html", "b/index.html"}
    before = mtimes(out)
    second = write(out, {"a.html": "A", "b/index.html": "B mới", "c.txt": "C"}, first.state)
    assert (second.written, second.unchanged) == (2, 1)
    assert mtimes(out)["a.html"] == before["a.html"]  # unchanged: not touched
    third = write(out, {"a.html": "A"}, second.state)
    assert third.removed == 2 and sorted(p.name for p in out.rglob("*")) == ["a.html"]


def test_a_file_of_someone_elses_is_refused_then_moved_aside_when_forced(tmp_path: Path) -> None:
    out = write_files(tmp_path / "_site", {"cua-toi.txt": "của tôi", "CNAME": "x.org"})
    with pytest.raises(outputs.ForeignFilesError, match="cua-toi.txt"):
        write(out, {"index.html": "I"})
    report = write(out, {"index.html": "I"}, keep=("CNAME",), force=True)
    assert report.moved == ["cua-toi.txt"] and (report.trash / "cua-toi.txt").read_text() == "của tôi"
    assert (out / "CNAME").read_text() == "x.org"


def test_the_lock_lives_in_the_cache_and_is_seen(tmp_path: Path) -> None:
    assert not outputs.build_running(tmp_path)
    with outputs.exclusive(tmp_path):
        assert outputs.lock_path(tmp_path).is_file()


def test_the_state_record_round_trips_and_reads_older_records(tmp_path: Path) -> None:
    record = BuildState("abc", {"a.html": ["00", 1, 2]}, ("một cảnh báo",), 3, 4, 5,
                        datetime(2030, 1, 1, tzinfo=UTC))
    state.save(tmp_path, tmp_path / "_site", record)
    assert state.load(tmp_path, tmp_path / "_site") == record
    path = state.path_for(tmp_path, tmp_path / "_site")
    assert json.loads(path.read_text())["version"] == state.STATE_VERSION
    legacy = {"fingerprint": "abc", "files": {"a.html": ["00", 1, 2]}, "warnings": [], "posts": 1, "pages": 0,
              "static": 0, "valid_until": None}  # written before records had a version: still ours
    path.write_text(json.dumps(legacy))
    assert state.load(tmp_path, tmp_path / "_site").files == legacy["files"]
    for damaged in ("{hỏng", '{"files": 3}', '{"version": 99, "files": {}}'):
        path.write_text(damaged)
        assert state.load(tmp_path, tmp_path / "_site") is None


def test_the_fingerprint_covers_sources_settings_code_and_year(tmp_path: Path, monkeypatch) -> None:
    source = write_files(tmp_path / "site_src", {"_posts/2020-01-01-a.md": post()})
    config = load_config(source)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    base = state.fingerprint(config, FigureSet(), now)
    assert state.fingerprint(config, FigureSet(), now) == base
    assert state.fingerprint(config, FigureSet(), now.replace(year=2025)) != base  # the footer's year
    assert state.fingerprint(dataclasses.replace(config, baseurl="/b"), FigureSet(), now) != base
    write_files(source, {"_posts/2020-01-01-a.md": post("Khác")})
    edited = state.fingerprint(config, FigureSet(), now)
    assert edited != base
    monkeypatch.setattr(store, "code_version", lambda: "another builder")
    assert state.fingerprint(config, FigureSet(), now) != edited


def test_the_fast_path_ends_when_a_post_comes_due_or_an_output_changes(tmp_path: Path) -> None:
    config = load_config(write_files(tmp_path / "site_src", {"_posts/2020-01-01-a.md": post()}))
    report = write(config.destination, {"index.html": "I"})
    due = datetime(2030, 1, 1, tzinfo=UTC)
    record = BuildState("f", report.state, (), 1, 0, 0, due)
    assert state.still_valid(record, "f", config, due - timedelta(seconds=1))
    assert not state.still_valid(record, "other", config, due - timedelta(seconds=1))
    assert not state.still_valid(record, "f", config, due)
    (config.destination / "index.html").write_text("sửa tay")
    assert not state.still_valid(record, "f", config, due - timedelta(seconds=1))


# --- many files: made, hashed and written by this process and forked workers -------------------


@pytest.fixture
def forked_writes(monkeypatch) -> list[int]:
    """Workers from two files on, counted (the machine must be able to fork and have 2 cores)."""
    from builder import workers

    if workers.available(2, 2) < 2:
        pytest.skip("needs two cores and fork")
    monkeypatch.setattr(outputs, "PARALLEL_MIN_FILES", 2)
    calls: list[int] = []
    real = workers.map_here_and_forked

    def counted(function, items, processes, *shared):
        calls.append(processes)
        return real(function, items, processes, *shared)

    monkeypatch.setattr(workers, "map_here_and_forked", counted)
    return calls


def _site_texts(version: str) -> dict:
    """Forty pages, half made on demand (as the build's pages are), one changed per version."""
    texts: dict = {f"bai-{n}/index.html": f"<p>Bài {n}</p>" for n in range(20)}
    texts.update({f"trang-{n}.html": (lambda n=n: f"<p>Trang {n} {version if n == 3 else ''}</p>")
                  for n in range(20)})
    return texts


def test_workers_write_the_same_site_and_record_as_this_process(tmp_path: Path, monkeypatch,
                                                                forked_writes: list[int]) -> None:
    together = tmp_path / "workers" / "_site"
    first = write(together, _site_texts("một"))
    second = write(together, _site_texts("hai"), first.state)
    assert forked_writes == [2, 2]
    monkeypatch.setattr(outputs, "PARALLEL_MIN_FILES", 10**6)
    alone = tmp_path / "alone" / "_site"
    expected_first = write(alone, _site_texts("một"))
    expected_second = write(alone, _site_texts("hai"), expected_first.state)
    assert forked_writes == [2, 2]  # this time no worker
    assert tree(together) == tree(alone) and (together / "trang-3.html").read_text() == "<p>Trang 3 hai</p>"
    assert (second.written, second.unchanged) == (1, 39)
    assert (expected_second.written, expected_second.unchanged) == (1, 39)
    digests = {rel: record[0] for rel, record in second.state.items()}
    assert digests == {rel: record[0] for rel, record in expected_second.state.items()}


def test_a_page_that_fails_in_a_worker_leaves_the_site_as_it_was(tmp_path: Path,
                                                                 forked_writes: list[int]) -> None:
    from builder.errors import BuildError

    out = tmp_path / "_site"
    first = write(out, _site_texts("một"))
    before = tree(out)

    def broken() -> str:
        raise BuildError("unknown filter 'ngay'", tmp_path / "_templates" / "post.html", 7)

    texts = {**_site_texts("hai"), "trang-9.html": broken}
    with pytest.raises(BuildError) as caught:
        write(out, texts, first.state)
    assert str(caught.value).endswith("post.html:7: unknown filter 'ngay'")  # file and line kept
    assert tree(out) == before and not list(out.glob(outputs.STAGING_PREFIX + "*"))
    with pytest.raises(BuildError):
        write(tmp_path / "moi" / "_site", texts)  # a first build: nothing left behind at all
    assert sorted(p.name for p in (tmp_path / "moi").iterdir()) == []


def test_a_full_disk_in_a_worker_leaves_the_site_as_it_was(tmp_path: Path, monkeypatch,
                                                           forked_writes: list[int]) -> None:
    import errno

    out = tmp_path / "_site"
    first = write(out, _site_texts("một"))
    before = tree(out)
    real_put = outputs._put

    def full_disk(target: Path, data) -> None:
        if target.name == "trang-3.html":
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_put(target, data)

    monkeypatch.setattr(outputs, "_put", full_disk)
    with pytest.raises(OSError) as caught:
        write(out, _site_texts("hai"), first.state)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename.endswith("trang-3.html")
    assert tree(out) == before and not list(out.glob(outputs.STAGING_PREFIX + "*"))
    assert forked_writes == [2, 2]


def _writers_meet(monkeypatch, folder: Path, processes: int, fail: str = "", kill: bool = False) -> Path:
    """`_write_one` replaced by one that waits until `processes` writers have each taken work,
    then writes as before and leaves, per output, the pid of the process that wrote it (in the
    returned folder). `fail` ("here" or "there"): the first output of this process, or of a
    worker, fails naming its file; `kill`: a worker is killed at its first output."""
    import os

    from builder.errors import BuildError

    met, who = folder / "met", folder / "who"
    met.mkdir(parents=True)
    who.mkdir()
    parent = os.getpid()
    real = outputs._write_one

    def double(rel: str, *args):
        meet(met, processes)
        here = os.getpid() == parent
        if kill and not here:
            os.kill(os.getpid(), 9)  # SIGKILL, as the system's out-of-memory killer sends it
        if fail and (fail == "here") == here:
            raise BuildError("unknown filter 'ngay'", rel, 7)
        settled = real(rel, *args)
        (who / rel.replace("/", "|")).write_text(str(os.getpid()))
        return settled

    monkeypatch.setattr(outputs, "_write_one", double)
    return who


@pytest.mark.parametrize("cores", [2, 3])
def test_a_large_site_is_written_here_and_by_one_forked_writer_fewer_than_its_cores(
        tmp_path: Path, monkeypatch, forked_writes: list[int], forks: list[int], cores: int) -> None:
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    who = _writers_meet(monkeypatch, tmp_path / "pids", cores)
    report = write(tmp_path / "_site", _site_texts("một"))
    assert forked_writes == [cores] and len(forks) == cores - 1
    writers = {path.name.replace("|", "/"): int(path.read_text()) for path in who.iterdir()}
    assert sorted(writers) == sorted(_site_texts("một")) == sorted(report.state)
    assert set(writers.values()) == {os.getpid(), *forks}  # this process wrote its share
    assert (tmp_path / "_site" / "trang-3.html").read_text() == "<p>Trang 3 một</p>"


@pytest.mark.parametrize("where", ["here", "there"])
def test_a_failing_output_in_either_writers_share_leaves_the_site_as_it_was(
        tmp_path: Path, monkeypatch, forked_writes: list[int], where: str) -> None:
    """The output that fails in this process's share, or in the worker's, raises its own error
    naming its file; nothing is left of the staging folder, nothing of the site changed."""
    from builder.errors import BuildError

    out = tmp_path / "_site"
    first = write(out, _site_texts("một"))
    before = tree(out)
    _writers_meet(monkeypatch, tmp_path / "update", 2, fail=where)
    with pytest.raises(BuildError) as caught:
        write(out, _site_texts("hai"), first.state)
    assert str(caught.value).endswith(".html:7: unknown filter 'ngay'")
    assert tree(out) == before and not list(out.glob(outputs.STAGING_PREFIX + "*"))
    _writers_meet(monkeypatch, tmp_path / "fresh", 2, fail=where)
    with pytest.raises(BuildError):
        write(tmp_path / "moi" / "_site", _site_texts("hai"))  # a first build: nothing left behind
    assert sorted(p.name for p in (tmp_path / "moi").iterdir()) == []
    assert forked_writes == [2, 2, 2]


def test_a_writer_killed_halfway_raises_and_leaves_the_site_as_it_was(tmp_path: Path, monkeypatch,
                                                                      forked_writes: list[int]) -> None:
    from concurrent.futures.process import BrokenProcessPool

    out = tmp_path / "_site"
    first = write(out, _site_texts("một"))
    before = tree(out)
    _writers_meet(monkeypatch, tmp_path / "pids", 2, kill=True)
    with pytest.raises(BrokenProcessPool):
        write(out, _site_texts("hai"), first.state)
    assert tree(out) == before and not list(out.glob(outputs.STAGING_PREFIX + "*"))


def test_a_large_site_is_written_alike_from_a_thread_beside_another(tmp_path: Path, monkeypatch,
                                                                    forked_writes: list[int]) -> None:
    """As `blog serve` writes a whole build: from its watcher's thread, while its server's runs."""
    import threading

    busy = threading.Event()
    server = threading.Thread(target=busy.wait, daemon=True)
    server.start()
    who = _writers_meet(monkeypatch, tmp_path / "pids", 2)
    reports: list = []
    try:
        site = _site_texts("một")
        watcher = threading.Thread(target=lambda: reports.append(write(tmp_path / "_site", site)))
        watcher.start()
        watcher.join()
    finally:
        busy.set()
    writers = {path.read_text() for path in who.iterdir()}
    monkeypatch.setattr(outputs, "PARALLEL_MIN_FILES", 10**6)
    alone = write(tmp_path / "alone" / "_site", _site_texts("một"))
    assert tree(tmp_path / "_site") == tree(tmp_path / "alone" / "_site")
    assert {rel: record[0] for rel, record in reports[0].state.items()} == \
        {rel: record[0] for rel, record in alone.state.items()}
    assert len(writers) == 2 and forked_writes == [2]


def test_each_folder_is_made_once_by_one_mkdir(tmp_path: Path, monkeypatch) -> None:
    """Posts are a folder each, several levels deep: every folder is made by one `mkdir`
    (not tried again for each file in it, nor looked for first), and an update makes its
    staging folder with the first changed file, wherever that file lies."""
    import os

    made: list[str] = []
    real_mkdir = os.mkdir

    def counted(path, *args, **kwargs):
        made.append(os.fspath(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", counted)
    texts = {f"2020/0{m}/0{d}/bai-{m}-{d}/index.html": f"<p>{m} {d}</p>" for m in (1, 2) for d in (1, 2, 3)}
    texts.update({"assets/a.css": "a", "assets/b.css": "b", "index.html": "<p>trang chủ</p>"})
    out = tmp_path / "_site"
    first = write(out, texts)
    folders = {"/".join(rel.split("/")[:n]) for rel in texts for n in range(1, rel.count("/") + 1)}
    staging = next(Path(path) for path in made if Path(path).name.startswith("._site.new-"))
    inside = [Path(path).relative_to(staging).as_posix() for path in made if staging in Path(path).parents]
    assert sorted(inside) == sorted(folders) and len(folders) == 1 + 2 + 6 + 6 + 1
    assert tree(out) == {rel: hashlib.sha256(text.encode()).hexdigest() for rel, text in texts.items()}
    for changed in ("index.html", "2020/02/03/bai-2-3/index.html"):
        texts[changed] = "<p>sửa</p>"
        first = write(out, texts, first.state)
        assert first.written == 1 and (out / changed).read_text(encoding="utf-8") == "<p>sửa</p>"
    assert not list(out.glob(outputs.STAGING_PREFIX + "*"))


def test_the_record_of_written_files_is_read_where_they_are_written(tmp_path: Path, monkeypatch) -> None:
    """Each written file's size and mtime come from the one that wrote it (a worker, for a
    large site), not from this process asking the disk again once every file of a new site is
    in place: moving a file into place keeps both. The record holds what the disk holds."""
    contents = {f"p{n}/index.html": f"<p>{n}</p>" for n in range(5)} | {"a.css": b"x"}
    asked: list[str] = []
    stat = Path.stat

    def spy(self: Path, *args, **kwargs):
        asked.append(self.name)
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", spy)
    out = tmp_path / "out"
    report = outputs.write_site(out, contents, {}, None, trash_root=tmp_path / "trash")
    assert report.fresh and [name for name in asked if name in ("index.html", "a.css")] == []
    changed = {**contents, "p1/index.html": "<p>một</p>"}
    again = outputs.write_site(out, changed, {}, report.state, trash_root=tmp_path / "trash")
    assert again.written == 1
    for record in (report.state, again.state):
        assert sorted(record) == sorted(contents)
    for rel, (_, size, mtime) in again.state.items():
        on_disk = stat(out / rel)
        assert (size, mtime) == (on_disk.st_size, on_disk.st_mtime_ns)


# --- what is in a destination: one listing per folder ------------------------------------------


def _scan_by_walking(destination: Path, keep: tuple[str, ...], ours: set[str]) -> tuple[set[str], set[str]]:
    """The scan's rule read with `os.walk`, folder by folder (what `_scan` must equal)."""
    import os

    inside = {prefix for rel in ours for prefix in outputs._prefixes(rel)}
    files: set[str] = set()
    dirs: set[str] = set()
    for folder, subdirs, names in os.walk(destination):
        base = os.path.relpath(folder, destination).replace(os.sep, "/")
        entered = []
        for name in subdirs:
            rel = name if base == "." else f"{base}/{name}"
            if os.path.islink(os.path.join(folder, name)):
                files.add(rel)
                continue
            dirs.add(rel)
            if rel in inside or not outputs.kept(rel, keep):
                entered.append(name)
        subdirs[:] = entered
        files.update(name if base == "." else f"{base}/{name}" for name in names)
    return files, dirs


@pytest.fixture
def crowded(tmp_path: Path, monkeypatch) -> Path:
    """A destination with a bit of everything: outputs of ours, a kept `.git` with nothing of
    ours inside, a kept folder holding one of ours, an empty folder, links (to a folder, to a
    file, to nothing) and a folder that cannot be listed (refused to `scandir`, as a folder
    without read permission refuses it to anyone but root)."""
    import errno
    import os

    out = write_files(tmp_path / "_site", {
        "index.html": "I", "bai/a/index.html": "A", "CNAME": "x.org", ".git/HEAD": "ref",
        ".git/objects/ab/cd": "z", "giu/cua-ai-do.txt": "của ai đó", "giu/cua-ta.html": "ta",
        "khoa/bi-mat.txt": "bí mật"})
    (out / "bai/rong").mkdir()
    (out / "lien-ket-thu-muc").symlink_to(out / "bai", target_is_directory=True)
    (out / "lien-ket-tep").symlink_to(out / "index.html")
    (out / "lien-ket-hong").symlink_to(out / "khong-co")
    locked = os.fspath(out / "khoa")
    real_scandir = os.scandir

    def refusing(path=".", *args):
        if os.fspath(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", locked)
        return real_scandir(path, *args)

    monkeypatch.setattr(os, "scandir", refusing)
    return out


CROWDED_KEEP = (".git", "CNAME", "giu")
CROWDED_OURS = {"index.html", "bai/a/index.html", "giu/cua-ta.html"}


def test_the_scan_lists_files_and_folders_as_walking_them_does(crowded: Path) -> None:
    """Links count as files and are never followed, a kept folder with nothing of ours inside is
    not entered, and a folder that cannot be listed is passed over: as `os.walk` reads them."""
    files, dirs = outputs._scan(crowded, CROWDED_KEEP, CROWDED_OURS)
    assert files == {"index.html", "bai/a/index.html", "CNAME", "giu/cua-ai-do.txt", "giu/cua-ta.html",
                     "lien-ket-thu-muc", "lien-ket-tep", "lien-ket-hong"}
    assert dirs == {"bai", "bai/a", "bai/rong", ".git", "giu", "khoa"}
    assert (files, dirs) == _scan_by_walking(crowded, CROWDED_KEEP, CROWDED_OURS)
    assert outputs._scan(crowded, (), CROWDED_OURS) == _scan_by_walking(crowded, (), CROWDED_OURS)
    assert outputs._scan(crowded, (), set()) == _scan_by_walking(crowded, (), set())
    assert outputs.foreign_files(crowded, CROWDED_KEEP) == ["bai/a/index.html", "index.html", "lien-ket-hong",
                                                             "lien-ket-tep", "lien-ket-thu-muc"]


def test_the_scan_asks_nothing_of_each_folder_but_its_listing(crowded: Path, monkeypatch) -> None:
    """A site of 1,000 posts has over 2,000 folders: the listing's own entry types say which is a
    folder and which a link, so no folder costs a `stat` or a `lstat` of its own."""
    import os

    asked: list[str] = []
    for name in ("stat", "lstat"):
        real = getattr(os, name)
        monkeypatch.setattr(os, name, lambda path, *args, real=real, **kwargs: (
            asked.append(os.fspath(path)), real(path, *args, **kwargs))[1])
    outputs._scan(crowded, CROWDED_KEEP, CROWDED_OURS)
    assert asked == []


def test_outputs_are_intact_until_one_changes_or_a_stranger_comes(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    report = write(out, {"index.html": "I", "bai/a/index.html": "A"})
    write_files(out, {".git/HEAD": "ref"})
    assert outputs.outputs_intact(out, report.state, (".git",))
    assert not outputs.outputs_intact(out, report.state, ())  # .git is not kept: someone's
    (out / "bai/rac.txt").write_text("rác")
    assert not outputs.outputs_intact(out, report.state, (".git",))
    (out / "bai/rac.txt").unlink()
    (out / "bai/a/index.html").unlink()
    assert not outputs.outputs_intact(out, report.state, (".git",))


def test_the_fingerprint_hands_over_the_documents_it_read(tmp_path: Path) -> None:
    """Every file counts; the Markdown and HTML ones (by their last suffix, in any case, as a
    path's suffix is read) are handed to the build as read."""
    files = {"_posts/2020-01-01-a.md": post(), "about.MARKDOWN": "# Giới thiệu", "trang.html": "<p>t</p>",
             "assets/.md": "không phải bài", "ghi-chu.md.": "không phải bài", "assets/a.css": "a",
             "_includes/note.html": "<aside></aside>"}
    source = write_files(tmp_path / "site_src", files)
    config = load_config(source)
    now = datetime(2024, 6, 1, tzinfo=UTC)
    documents: dict[Path, bytes] = {}
    base = state.fingerprint(config, FigureSet(), now, documents)
    documents_named = {"_posts/2020-01-01-a.md", "about.MARKDOWN", "trang.html", "_includes/note.html"}
    assert documents == {source / rel: (source / rel).read_bytes() for rel in documents_named}
    for rel in ("assets/.md", "ghi-chu.md.", "assets/a.css"):
        (source / rel).write_text("sửa", encoding="utf-8")
        assert state.fingerprint(config, FigureSet(), now) != base, rel
        base = state.fingerprint(config, FigureSet(), now)
