"""The store: atomic writes, versioned records, the lock, and the code version every cache is
keyed by (a builder change re-renders what it changes)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from builder import store
from tests.helpers import ROOT, post, soup, write_files


def test_an_atomic_write_replaces_the_file_whole_and_leaves_nothing_beside_it(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b.json"
    store.atomic_write(target, "một")
    store.atomic_write(target, b"hai")
    assert target.read_bytes() == b"hai" and [p.name for p in target.parent.iterdir()] == ["b.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    store.atomic_write(target, "cũ")
    with pytest.raises(RuntimeError), store.atomic_target(target) as tmp:
        tmp.write_text("nửa chừng")
        raise RuntimeError("hỏng giữa chừng")
    assert target.read_text() == "cũ" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_durable_writes_flush_file_and_folder(tmp_path: Path, monkeypatch) -> None:
    flushed = []
    real = store.os.fsync
    monkeypatch.setattr(store.os, "fsync", lambda fd: (flushed.append(fd), real(fd)))
    store.atomic_write(tmp_path / "a", "x")
    assert len(flushed) == 2  # the file, then the folder holding the rename
    flushed.clear()
    store.atomic_write(tmp_path / "b", "x", durable=False)
    assert flushed == []


def test_records_carry_their_version(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    store.write_record(path, 3, {"a": 1})
    assert json.loads(path.read_text()) == {"version": 3, "a": 1}
    assert store.read_record(path, 3) == {"version": 3, "a": 1}
    assert store.read_record(path, 4) is None  # another version's: absent, never misread
    assert store.read_record(tmp_path / "none.json", 3) is None
    path.write_text('{"a": 2}')  # written before records carried a version
    assert store.read_record(path, 1) == {"a": 2}
    for damaged in ("{not json", "[1, 2]", ""):
        path.write_text(damaged)
        with pytest.raises(store.UnreadableRecord):
            store.read_record(path, 1)


def test_the_lock_is_seen_from_another_process(tmp_path: Path) -> None:
    lock = tmp_path / "outputs" / "build.lock"
    assert not store.is_locked(lock) and not lock.exists()  # asking makes no lock file
    probe = f"from builder import store; import pathlib; print(store.is_locked(pathlib.Path({str(lock)!r})))"
    with store.exclusive(lock):
        held = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    free = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert (held.stdout.strip(), free.stdout.strip()) == ("True", "False"), held.stderr + free.stderr


def test_the_package_imports_without_posix_only_modules() -> None:
    """The lock used fcntl at import time, so `builder` could not even be imported on Windows."""
    code = ("import sys; sys.modules['fcntl'] = None\n"
            "import builder.cli, builder.build, builder.serve, builder.outputs, builder.store; print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "ok", done.stderr


def copy_package(where: Path) -> Path:
    shutil.copytree(ROOT / "builder", where / "builder", ignore=shutil.ignore_patterns("__pycache__",
                                                                                      "node_modules"))
    return where / "builder"


def test_the_code_version_covers_every_package_file(tmp_path: Path) -> None:
    package = copy_package(tmp_path)
    before = store._code_version(package)
    assert before == store.code_version()  # the copy is the package, byte for byte
    for rel in ("text.py", "theme/templates/post.html", "theme/strings/vi.yml", "node/typeset.js"):
        path = package / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert store._code_version(package) != before, rel
        path.write_bytes(original)
    (package / "__pycache__").mkdir()
    (package / "__pycache__" / "x.pyc").write_bytes(b"bytecode")
    assert store._code_version(package) == before  # bytecode is not code


def test_the_figure_workers_code_version_covers_what_it_runs_and_nothing_else(tmp_path: Path) -> None:
    """Figures are keyed by the worker and every builder module it imports (inside functions
    too): a change to the checks or the SVG writer re-makes them, a change to the theme or a
    command does not retrain anything."""
    package = copy_package(tmp_path)
    before = store._code_version_of(package, "figure_worker")
    assert before == store.code_version_of("figure_worker")
    for rel, counts in (("figure_checks.py", True), ("figure_svg.py", True), ("store.py", True),
                        ("cli.py", False), ("theme/templates/post.html", False), ("render.py", False)):
        path = package / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n")
        assert (store._code_version_of(package, "figure_worker") != before) is counts, rel
        path.write_bytes(original)


def test_the_code_version_covers_the_libraries_that_shape_output(monkeypatch) -> None:
    before = store._code_version(store.PACKAGE)
    versions = dict(store.library_versions(store.LIBRARIES), markdown="0.0-other")
    monkeypatch.setattr(store, "library_versions", lambda names: versions)
    assert store._code_version(store.PACKAGE) != before


def test_a_builder_change_re_renders_cached_documents(tmp_path: Path) -> None:
    """Regression: the render cache was keyed by a hand-kept list of modules that left out the
    one making heading ids, so a changed slugify kept the old ids in cached posts while category
    URLs changed. Now every package file keys it: incremental equals clean after an upgrade."""
    lib = tmp_path / "lib"
    package = copy_package(lib)
    source = write_files(tmp_path / "site_src", {
        "_config.yml": "title: Thử\n",
        "_posts/2020-01-01-a.md": post("A", "## Tích chập\n\nThân bài.", categories="[Học máy]"),
    })

    def build(destination: str) -> Path:
        done = subprocess.run([sys.executable, "-m", "builder", "build", "-s", str(source), "-d",
                               str(tmp_path / destination)], capture_output=True, text=True, cwd=tmp_path,
                              env={"PYTHONPATH": str(lib), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert done.returncode == 0, done.stderr
        return tmp_path / destination

    first = build("_site")
    assert soup(first / "2020/01/01/a/index.html").select_one(".post-body h2")["id"] == "tich-chap"
    with (package / "text.py").open("a", encoding="utf-8") as text:  # an upgrade that changes slugs
        text.write(textwrap.dedent("""
            _dashed = slugify


            def slugify(text: str) -> str:
                return _dashed(text).replace("-", "_")
        """))
    again = build("_site")
    page = soup(again / "2020/01/01/a/index.html")
    assert page.select_one(".post-body h2")["id"] == "tich_chap"
    assert page.select_one("a.tag")["href"] == "/category/hoc_may/"
    shutil.rmtree(tmp_path / ".cache")
    clean = build("clean")
    assert {p.relative_to(clean): p.read_bytes() for p in clean.rglob("*") if p.is_file()} == \
        {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
