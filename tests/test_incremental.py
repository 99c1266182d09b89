"""Incremental builds are always right, and fast where nothing changed."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
import sys
import textwrap
import time
from datetime import UTC
from pathlib import Path

import pytest

from builder import render
from builder.build import build
from builder.config import load_config
from builder.serve import DevServer
from tests.helpers import FIXTURES, ROOT, post, run_blog, toy_figure, tree


def clean_build(source: Path, tmp: Path) -> dict[str, str]:
    """A build from nothing: fresh destination, empty caches."""
    if tmp.exists():
        shutil.rmtree(tmp)
    config = dataclasses.replace(load_config(source), destination=tmp / "site", cache_dir=tmp / "cache")
    build(config)
    return tree(tmp / "site")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    return tmp_path / "site_src"


def incremental(source: Path) -> tuple[dict[str, str], str]:
    result = run_blog("build", "-s", str(source), "-v")
    assert result.exit_code == 0, result.stderr
    return tree(source.parent / "_site"), result.stdout + result.stderr


EDITS = [
    ("edit a body", lambda s: (s / "_posts/2019-12-31-cu-nhat.md").write_text(
        post("Bài cũ nhất", "Nội dung đã sửa.", categories="[Học máy]"), encoding="utf-8")),
    ("edit a title", lambda s: (s / "_posts/2020-01-15-bai-dau-tien.md").write_text(
        (s / "_posts/2020-01-15-bai-dau-tien.md").read_text(encoding="utf-8").replace(
            "title: Bài đầu tiên", "title: Bài đầu tiên (sửa)"), encoding="utf-8")),
    ("rename a post", lambda s: (s / "_posts/2019-12-31-cu-nhat.md").rename(
        s / "_posts/2019-12-30-cu-hon.md")),
    ("add a post", lambda s: (s / "_posts/2021-06-01-moi.md").write_text(post("Mới", categories="[Mới]"))),
    ("add an older post", lambda s: (s / "_posts/2019-01-01-cu-hon-nua.md").write_text(
        post("Cũ hơn nữa", categories="[Học máy]"))),
    ("date a post newer", lambda s: (s / "_posts/2019-01-01-cu-hon-nua.md").write_text(
        post("Cũ hơn nữa", categories="[Học máy]", date="2021-07-01"))),
    ("one post a page", lambda s: (s / "_config.yml").write_text(
        (s / "_config.yml").read_text(encoding="utf-8").replace("paginate: 2", "paginate: 1"),
        encoding="utf-8")),
    ("delete a post", lambda s: (s / "_posts/2021-06-01-moi.md").unlink()),
    ("change the config", lambda s: (s / "_config.yml").write_text(
        (s / "_config.yml").read_text(encoding="utf-8").replace("title: \"Blog thử", "title: \"Nhật ký"),
        encoding="utf-8")),
    ("override a layout", lambda s: ((s / "_templates").mkdir(), (s / "_templates/page.html").write_text(
        "{% extends 'base.html' %}{% block content %}<p class=rieng>{{ page.title }}</p>{% endblock %}"))),
    ("change an include", lambda s: (s / "_includes/note.html").write_text(
        "<aside>{{ include.text }}!</aside>")),
    ("replace a static file", lambda s: (s / "assets/extra.css").write_text("body { margin: 1px }")),
    ("delete a page", lambda s: (s / "about.md").unlink()),
]


def paginated(source: Path) -> None:
    """Two posts a page: a new post, or a new date, moves posts from page to page."""
    with (source / "_config.yml").open("a", encoding="utf-8") as config:
        config.write("paginate: 2\n")


def test_incremental_builds_equal_clean_builds_after_every_kind_of_change(project: Path,
                                                                         tmp_path: Path) -> None:
    paginated(project)
    first, _ = incremental(project)
    assert "page2/index.html" in first and "category/hoc-may/index.html" in first
    assert first == clean_build(project, tmp_path / "clean")
    for name, change in EDITS:
        if name == "delete a page":  # the post linking to it would now be a broken link: unlink it
            target = project / "_posts/2020-01-15-bai-dau-tien.md"
            target.write_text(target.read_text(encoding="utf-8").replace(
                " và [trang giới thiệu]({{ site.baseurl }}{% link about.md %})", ""), encoding="utf-8")
        change(project)
        result, _ = incremental(project)
        assert result == clean_build(project, tmp_path / "clean"), name


def test_a_published_figure_helper_that_no_figure_imports_is_an_input_too(project: Path) -> None:
    """Every figures/*.py is published beside the site: a helper no figure imports (so no
    figure's key covers it) still makes the next build write its new text."""
    figures = project.parent / "figures"
    figures.mkdir()
    (figures / "mot.py").write_text(toy_figure("/images/mot.png", "mot"), encoding="utf-8")
    (figures / "_extra.py").write_text("X = 1\n", encoding="utf-8")
    first, _ = incremental(project)
    assert first["figures/_extra.py"] == hashlib.sha256(b"X = 1\n").hexdigest()
    (figures / "_extra.py").write_text("X = 2\n", encoding="utf-8")
    again, _ = incremental(project)
    assert again["figures/_extra.py"] == hashlib.sha256(b"X = 2\n").hexdigest()


# Saves of posts alone, which `blog serve` applies in place (see builder/preview.py).
POSTS_ONLY = {"edit a body", "edit a title", "rename a post", "add a post", "add an older post",
              "date a post newer", "delete a post"}


def settle(dev: DevServer, seen: int) -> None:
    """Wait for the rebuild a save causes, then until no other follows (an edit can be saved
    in several steps)."""
    started = time.monotonic()
    while dev.live.version == seen:
        assert time.monotonic() - started < 60, "no rebuild happened"
        time.sleep(0.02)
    while True:
        seen = dev.live.version
        time.sleep(0.8)
        if dev.live.version == seen:
            return


def test_serve_equals_clean_builds_after_every_kind_of_change(project: Path, tmp_path: Path) -> None:
    """What `blog serve` shows after each save (posts updated in place, anything else built
    afresh) is byte for byte what a clean build makes."""
    paginated(project)
    reports: list[str] = []
    dev = DevServer(project, port=0, report=reports.append)
    dev.start()
    try:
        assert tree(dev.live.root) == clean_build(project, tmp_path / "clean")
        for name, change in EDITS:
            if name == "delete a page":  # as above
                target = project / "_posts/2020-01-15-bai-dau-tien.md"
                target.write_text(target.read_text(encoding="utf-8").replace(
                    " và [trang giới thiệu]({{ site.baseurl }}{% link about.md %})", ""), encoding="utf-8")
            seen, count = dev.live.version, len(reports)
            change(project)
            settle(dev, seen)
            assert dev.live.error is None, (name, dev.live.error)
            assert tree(dev.live.root) == clean_build(project, tmp_path / "clean"), name
            in_place = all("file(s) written" in line for line in reports[count:])
            assert in_place == (name in POSTS_ONLY), (name, reports[count:])
    finally:
        dev.stop()


def test_nothing_changed_writes_nothing_and_imports_little(project: Path) -> None:
    incremental(project)
    site = project.parent / "_site"
    before = {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    code = textwrap.dedent(f"""
        import sys
        from builder.cli import cli
        try:
            cli(["build", "-s", {str(project)!r}], standalone_mode=False)
        finally:
            heavy = ("markdown", "jinja2", "liquid", "torch", "matplotlib", "pygments", "PIL")
            print("IMPORTED", sorted(m for m in heavy if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout and "IMPORTED []" in done.stdout
    assert {p: p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()} == before


def test_nothing_changed_imports_nothing_that_only_making_things_needs(project: Path) -> None:
    """Running figure scripts (subprocess), making image variants (a thread pool) and
    suggesting a known setting for an unknown one (difflib) are not what a build where nothing
    changed does: it does not import them. (`--source`, not `-s`: click itself imports difflib
    while it parses a short option.)"""
    incremental(project)
    unneeded = ("subprocess", "concurrent.futures", "difflib")
    code = textwrap.dedent(f"""
        import sys
        from builder.cli import cli
        try:
            cli(["build", "--source", {str(project)!r}], standalone_mode=False)
        finally:
            print("IMPORTED", sorted(m for m in {unneeded!r} if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "nothing changed" in done.stdout and "IMPORTED []" in done.stdout, done.stdout


def test_one_post_edit_renders_that_post_and_writes_only_the_pages_showing_it(project: Path) -> None:
    incremental(project)
    site = project.parent / "_site"
    before = {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    target = project / "_posts/2019-12-31-cu-nhat.md"
    edited = target.read_text(encoding="utf-8").replace("Bài cũ nhất, video:", "Đã sửa:")
    target.write_text(edited, encoding="utf-8")
    _, log = incremental(project)
    assert "rendered 1 of 4 documents" in log
    after = {p.relative_to(site).as_posix(): p.stat().st_mtime_ns for p in site.rglob("*") if p.is_file()}
    changed = {rel for rel in after if after[rel] != before.get(rel)}
    assert "hoc-may/2019/12/31/cu-nhat/index.html" in changed
    assert changed <= {"hoc-may/2019/12/31/cu-nhat/index.html", "index.html", "category/hoc-may/index.html",
                       "feed.xml"}, changed


def test_a_changed_output_on_disk_is_rewritten(project: Path) -> None:
    incremental(project)
    page = project.parent / "_site/about.html"
    page.write_text("hỏng")
    (project.parent / "_site/rac.txt").write_text("không ai tạo ra tôi")
    result, _ = incremental(project)
    assert result == clean_build(project, project.parent / "clean")


def test_a_future_post_appears_when_it_comes_due(project: Path) -> None:
    """The fast path ends when a future-dated post comes due; a clock is passed in, not waited for."""
    from datetime import datetime, timedelta

    (project / "_posts/2099-01-01-tuong-lai.md").unlink()
    now = datetime.now(UTC).replace(microsecond=0)
    due = now + timedelta(seconds=2)
    stamp = due.strftime("%Y-%m-%d %H:%M:%S +0000")
    (project / "_posts/2020-01-02-sap-toi.md").write_text(post("Sắp tới", date=stamp))
    config = load_config(project)
    build(config, clock=lambda tz: now.astimezone(tz))
    assert not any("sap-toi" in rel for rel in tree(config.destination))
    assert build(config, clock=lambda tz: (due - timedelta(seconds=1)).astimezone(tz)).written == 0
    build(config, clock=lambda tz: due.astimezone(tz))
    assert any("sap-toi" in rel for rel in tree(config.destination))


def test_parallel_rendering_gives_the_serial_result(tmp_path: Path, monkeypatch, caplog) -> None:
    import logging
    import os

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one CPU: rendering never goes parallel here")
    caplog.set_level(logging.INFO, logger="builder.render")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from corpus import make_site
    finally:
        sys.path.remove(str(ROOT / "bench"))
    source = make_site(tmp_path / "corpus", render.PARALLEL_MIN + 12)
    shutil.rmtree(tmp_path / "corpus" / "figures")  # pages only: images are not what this compares
    parallel = clean_build(source, tmp_path / "parallel")
    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    serial = clean_build(source, tmp_path / "serial")
    logs = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rendered")]
    assert "processes)" in logs[0] and logs[1].endswith("(1 process)")
    assert parallel == serial


def test_importing_the_package_pulls_in_nothing_heavy() -> None:
    heavy = ("torch", "matplotlib", "playwright", "numpy", "PIL")
    code = f"import sys, builder, builder.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.stdout.strip() == "[]", done.stderr


def test_warnings_are_repeated_by_builds_that_reuse_cached_work(project: Path, tmp_path: Path) -> None:
    (project / "_posts/2020-02-02-anh.md").write_text(post("Ảnh", '<img src="\\\\assets\\\\x.png" alt="x">'))
    messages = []
    for destination in ("one", "two", "one"):  # fresh, cached render, nothing changed at all
        result = run_blog("build", "-s", str(project), "-d", str(tmp_path / destination))
        messages.append([line for line in result.stderr.splitlines() if "Windows-style path" in line])
        assert run_blog("build", "-s", str(project), "-d", str(tmp_path / "s"), "--strict").exit_code == 1
    assert all(len(lines) == 1 for lines in messages), messages


def test_a_build_makes_no_cycle_collector_pass_and_leaves_it_as_it_was(project: Path, monkeypatch) -> None:
    """The collector's passes over a build's long-lived objects found almost nothing to free;
    it is paused for the build and set back as it was (on for a process, off if it was off)."""
    import gc

    from builder import state

    passes: list[int] = []
    by_the_end: list[int] = []  # passes made before the build records what it wrote, its last step
    save = state.save
    monkeypatch.setattr(state, "save", lambda *args: by_the_end.append(len(passes)) or save(*args))

    def count(phase: str, info: dict) -> None:
        if phase == "start":
            passes.append(info["generation"])

    config = load_config(project, destination=project.parent / "out")
    gc.callbacks.append(count)
    try:
        result = build(config)
    finally:
        gc.callbacks.remove(count)
    assert result.posts and result.written and by_the_end == [0]
    assert gc.isenabled()
    gc.disable()
    try:
        build(load_config(project, destination=project.parent / "other"))
        assert not gc.isenabled()
    finally:
        gc.enable()
