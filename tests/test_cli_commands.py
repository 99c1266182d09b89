"""The commands as a user meets them: where they find the site, their options and help, `new`,
`check`, `clean`; every test in real temporary folders, asserting exit codes and messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
import yaml

from builder.cli import cli
from tests.helpers import FIXTURES, ROOT, post, run_blog, toy_figure, write_files


def project(tmp_path: Path) -> Path:
    """tmp_path/proj with site_src/ (the basic fixture) beside figures/."""
    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "basic", root / "site_src")
    return root


# --- finding the site ---------------------------------------------------------------------


@pytest.mark.parametrize("inside", ["", "site_src", "site_src/_posts", "figures"])
def test_build_finds_the_site_from_anywhere_in_the_project(tmp_path: Path, monkeypatch, inside: str) -> None:
    root = project(tmp_path)
    (root / "figures").mkdir()
    monkeypatch.chdir(root / inside)
    result = run_blog("build")
    assert result.exit_code == 0, result.stderr
    assert (root / "_site/index.html").is_file()
    assert not (root / "site_src/_site").exists() and not (root / "site_src/.cache").exists()
    assert (root / ".cache").is_dir()


def test_dash_s_dot_inside_the_site_folder_builds_beside_it(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root / "site_src")
    result = run_blog("build", "-s", ".")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"built {root / '_site'}:")
    assert (root / "_site/index.html").is_file() and not (root / "site_src/_site").exists()


def test_a_plain_jekyll_site_is_found_by_its_config(tmp_path: Path, monkeypatch) -> None:
    site = tmp_path / "jekyll-blog"
    write_files(site, {"_config.yml": "title: Jekyll\n", "_posts/2020-01-01-a.md": post("A")})
    monkeypatch.chdir(site / "_posts")
    result = run_blog("build", "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "out/2020/01/01/a/index.html").is_file()


def test_a_jekyll_blog_built_in_place_keeps_everything_inside_its_folder(tmp_path: Path, monkeypatch) -> None:
    """As Jekyll does: `_site/` (and our `.cache/`) inside the blog's folder, nothing beside it,
    and neither is read back as content by the next build."""
    site = tmp_path / "parent" / "my-blog"
    write_files(site, {"_config.yml": "title: Jekyll\nmarkdown: kramdown\n",
                       "_posts/2020-01-01-a.md": post("A"), "about.md": "---\ntitle: About\n---\nHi\n"})
    monkeypatch.chdir(site)
    first = run_blog("build")
    assert first.exit_code == 0, first.stderr
    assert first.stdout.startswith(f"built {site / '_site'}:")
    assert sorted(p.name for p in (tmp_path / "parent").iterdir()) == ["my-blog"]
    assert (site / "_site/2020/01/01/a.html").is_file() and (site / ".cache").is_dir()
    (site / "about.md").write_text("---\ntitle: About\n---\nHi again\n", encoding="utf-8")
    again = run_blog("build")
    assert again.exit_code == 0, again.stderr
    assert again.stdout.split(":")[1].split(",")[:2] == first.stdout.split(":")[1].split(",")[:2]
    assert not (site / "_site/_site").exists() and not (site / "_site/.cache").exists()
    assert "Hi again" in (site / "_site/about.html").read_text(encoding="utf-8")


def test_outside_any_site_it_says_where_it_looked_and_how_to_pass_dash_s(tmp_path: Path, monkeypatch) -> None:
    nowhere = tmp_path / "empty"
    nowhere.mkdir()
    monkeypatch.chdir(nowhere)
    for command in (["build"], ["check"], ["new", "Bài"], ["clean"], ["figures", "--list"], ["serve"],
                    ["deploy", "--dry-run"]):
        result = run_blog(*command)
        assert result.exit_code == 1, command
        assert result.stderr == (f"error: no site here: neither site_src/ nor _config.yml in {nowhere} "
                                 "or any folder above it; run blog inside the project, or name the site "
                                 "folder with -s DIR\n")
    assert list(nowhere.iterdir()) == []  # `blog new` made no site folder


# --- help ---------------------------------------------------------------------------------------


def test_blog_help_shows_every_summary_whole() -> None:
    result = run_blog("--help")
    assert result.exit_code == 0
    for name, command in cli.commands.items():
        summary = command.get_short_help_str(limit=1000)
        assert f"  {name} " in result.stdout and summary in result.stdout, (name, summary)
        assert not summary.endswith("...")


def test_every_option_of_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"blog {name} {param.opts[0]} has no help"


@pytest.mark.parametrize("command, options", [
    ("serve", ["-d, --destination", "--baseurl", "--drafts", "--future", "--device", "-p, --port"]),
    ("check", ["--drafts", "--future", "--strict"]),
    ("deploy", ["--dry-run"]),
    ("clean", ["--figures", "-d, --destination"]),
    ("new", ["--publish", "--slug", "--date"]),
])
def test_commands_take_the_options_users_expect(command: str, options: list[str]) -> None:
    result = run_blog(command, "--help")
    for option in options:
        assert option in result.stdout, (command, option)


# --- blog new -----------------------------------------------------------------------------------


def test_new_makes_a_draft_that_a_strict_build_accepts(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path)
    monkeypatch.chdir(root / "site_src/_posts")
    result = run_blog("new", "Tích chập là gì?")
    assert result.exit_code == 0, result.stderr
    draft = root / "site_src/_drafts/tich-chap-la-gi.md"
    assert result.stdout.strip() == str(draft)
    front = yaml.safe_load(draft.read_text(encoding="utf-8").split("---")[1])
    assert front["title"] == "Tích chập là gì?" and "published" not in front
    out = tmp_path / "out"
    hidden = run_blog("build", "--strict", "-d", str(out))
    assert hidden.exit_code == 0, hidden.stderr
    assert "tich-chap-la-gi" not in (out / "index.html").read_text()
    shown = run_blog("build", "--strict", "--drafts", "-d", str(out))
    assert shown.exit_code == 0, shown.stderr
    assert "Tích chập là gì?" in (out / "index.html").read_text(encoding="utf-8")


def test_new_publish_writes_a_dated_post_that_builds_strictly(tmp_path: Path) -> None:
    root = project(tmp_path)
    source = root / "site_src"
    result = run_blog("new", "Bài mới", "--publish", "--date", "2026-11-29", "-s", str(source))
    path = source / "_posts/2026-11-29-bai-moi.md"
    assert result.exit_code == 0 and result.stdout.strip() == str(path)
    built = run_blog("build", "--strict", "-s", str(source), "-d", str(tmp_path / "out"))
    assert built.exit_code == 0, built.stderr
    assert (tmp_path / "out/2026/11/29/bai-moi/index.html").is_file()
    again = run_blog("new", "Bài mới", "--publish", "--date", "2026-11-29", "-s", str(source))
    assert again.exit_code == 1 and "a post with this date and title already exists" in again.stderr


def test_new_date_goes_with_publish(tmp_path: Path) -> None:
    site = str(project(tmp_path) / "site_src")
    result = run_blog("new", "Bài", "--date", "2026-11-29", "-s", site)
    assert result.exit_code == 1
    assert "--date goes with --publish" in result.stderr
    impossible = run_blog("new", "Bài", "--publish", "--date", "2026-02-30", "-s", site)
    assert impossible.exit_code == 1
    assert impossible.stderr == "error: --date 2026-02-30 is not a date that exists\n"
    garbled = run_blog("new", "Bài", "--publish", "--date", "29/11/2026", "-s", site)
    assert garbled.stderr == "error: --date must look like 2026-11-29, not '29/11/2026'\n"


def test_serve_refuses_a_port_that_cannot_be(tmp_path: Path) -> None:
    result = run_blog("serve", "-s", str(project(tmp_path) / "site_src"), "-p", "99999")
    assert result.exit_code == 2 and "99999 is not in the range 0<=x<=65535" in result.stderr


@pytest.mark.parametrize("title, slug", [
    ("卷积神经网络", "juan-ji-shen-jing-wang-luo"),
    ("🎉🎉", "tada-tada"),
    ("2024", "2024"),
    ("Привет, мир", "privet-mir"),
    ("Đức và CNN: có gì sai?", "duc-va-cnn-co-gi-sai"),
])
def test_new_slugs_titles_in_any_script(tmp_path: Path, title: str, slug: str) -> None:
    source = project(tmp_path) / "site_src"
    result = run_blog("new", title, "-s", str(source))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == str(source / "_drafts" / f"{slug}.md")


def test_new_takes_a_slug_and_refuses_one_without_letters(tmp_path: Path) -> None:
    source = project(tmp_path) / "site_src"
    result = run_blog("new", "Một tiêu đề rất dài", "--slug", "ngan-gon", "-s", str(source))
    assert result.exit_code == 0 and result.stdout.strip() == str(source / "_drafts/ngan-gon.md")
    bad = run_blog("new", "!!!", "-s", str(source))
    assert bad.exit_code == 1 and "give one with --slug" in bad.stderr


# --- blog check -----------------------------------------------------------------------------------


def test_check_gives_lines_and_counts_every_warning(tmp_site) -> None:
    body = "Đoạn một.\n\n[mất](/khong-co/)\n\n![an image alt text]({{ site.baseurl }}/img/khong.png)\n"
    source = tmp_site({"_posts/2020-01-01-a.md": post("A", body)})
    result = run_blog("check", "-s", str(source))
    a = source / "_posts/2020-01-01-a.md"
    lines = result.stderr.splitlines()
    assert f"error: {a}:6: broken link /khong-co/: nothing is built there" in lines
    assert f"error: {a}:8: broken link /img/khong.png: nothing is built there" in lines
    assert f"warning: {a}:8: image /img/khong.png has placeholder alt text 'an image alt text'" in lines
    assert f"warning: {a}:8: image /img/khong.png: no file provides it" in lines  # the build's own
    assert result.stdout == "checked 4 pages: 2 broken, 2 warnings\n"  # the post, home, archive, 404
    assert result.exit_code == 1


def test_check_strict_fails_on_warnings_alone(tmp_site) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A", "![](/img/a.png)"), "img/a.png": b"\x89PNG"})
    plain = run_blog("check", "-s", str(source))
    assert plain.exit_code == 0 and plain.stdout == "checked 4 pages: 0 broken, 1 warning\n"
    strict = run_blog("check", "--strict", "-s", str(source))
    assert strict.exit_code == 1
    assert strict.stdout == "checked 4 pages: 0 broken, 1 warning (--strict: warnings fail the check)\n"


def test_check_drafts_and_future_take_those_posts_in(tmp_site) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A"),
                       "_drafts/nhap.md": post("Nháp", "[mất](/khong-co/)"),
                       "_posts/2999-01-01-sau.md": post("Sau", "[mất](/cung-khong/)")})
    assert run_blog("check", "-s", str(source)).exit_code == 0
    drafts = run_blog("check", "--drafts", "-s", str(source))
    assert drafts.exit_code == 1 and "nhap.md:4: broken link /khong-co/" in drafts.stderr
    future = run_blog("check", "--future", "-s", str(source))
    assert future.exit_code == 1 and "2999-01-01-sau.md:4: broken link /cung-khong/" in future.stderr


# --- blog clean and make clean --------------------------------------------------------------------


def built_project(tmp_path: Path) -> Path:
    root = project(tmp_path)
    (root / "figures").mkdir()
    (root / "figures/anh.py").write_text(toy_figure("/images/anh.png", "một hình", size=4))
    assert run_blog("build", "-s", str(root / "site_src")).exit_code == 0
    assert (root / ".cache/figures/manifest.json").is_file() and (root / ".cache/render").is_dir()
    return root


def test_clean_removes_the_site_and_caches_but_keeps_figures_and_others_files(tmp_path: Path) -> None:
    root = built_project(tmp_path)
    (root / "_site/ghi-tay.txt").write_text("viết tay")  # not ours
    (root / ".cache/trash/giu").mkdir(parents=True)  # files moved aside earlier: never removed
    result = run_blog("clean", "-s", str(root / "site_src"))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (root / "_site").iterdir()) == ["ghi-tay.txt"]
    assert not (root / ".cache/render").exists()
    assert (root / ".cache/figures/manifest.json").is_file() and (root / ".cache/trash/giu").is_dir()
    assert "kept 1 file in" in result.stdout and "ghi-tay.txt" in result.stdout
    assert "--figures removes them" in result.stdout
    rebuilt = run_blog("build", "-s", str(root / "site_src"), "--force")
    assert rebuilt.exit_code == 0 and "figures: 0 run, 1 cached" in rebuilt.stdout
    assert run_blog("clean", "--figures", "-s", str(root / "site_src")).exit_code == 0
    assert not (root / ".cache/figures").exists()


def test_clean_leaves_what_no_build_makes_in_the_cache_folders(tmp_path: Path) -> None:
    """A cache folder shared with other programs (a ~/.cache) keeps their entries: only what a
    build names as its own goes."""
    root = built_project(tmp_path)
    assert (root / ".cache/render/documents.sqlite").is_file()
    write_files(root / ".cache", {"images/0123456789abcdef01234567-drawing/480.avif": "a variant",
                                  "images/svg-sizes.json": "{}",  # the drawings' SVGs weighed
                                  "math/formulas.sqlite": "formulas",
                                  "images/thumbnails/a.png": "png",  # another program's
                                  "math/notes.txt": "của người khác"})
    result = run_blog("clean", "-s", str(root / "site_src"))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (root / ".cache/images").iterdir()) == ["thumbnails"]
    assert (root / ".cache/images/thumbnails/a.png").read_text() == "png"
    assert sorted(p.name for p in (root / ".cache/math").iterdir()) == ["notes.txt"]
    assert (root / ".cache/math/notes.txt").read_text(encoding="utf-8") == "của người khác"
    assert not (root / ".cache/render").exists()
    assert "kept in the caches what no build makes (someone else's):" in result.stdout
    assert "thumbnails" in result.stdout and "notes.txt" in result.stdout


def test_clean_refuses_a_destination_no_build_may_use(tmp_path: Path) -> None:
    root = built_project(tmp_path)
    result = run_blog("clean", "-s", str(root / "site_src"), "-d", str(root / "site_src"))
    assert result.exit_code == 1
    assert "nothing was removed" in result.stderr and "is the source folder" in result.stderr
    assert "given with -d on the command line" in result.stderr
    assert (root / "site_src/_config.yml").is_file() and (root / "_site/index.html").is_file()


def test_clean_leaves_a_folder_it_has_no_record_of(tmp_path: Path) -> None:
    root = project(tmp_path)
    write_files(root / "_site", {"index.html": "viết tay"})
    result = run_blog("clean", "-s", str(root / "site_src"))
    assert result.exit_code == 0, result.stderr
    assert (root / "_site/index.html").read_text() == "viết tay" and not (root / ".cache").exists()
    assert "removed nothing in" in result.stdout and "kept 1 file in" in result.stdout


def test_make_clean_keeps_the_trained_figures(tmp_path: Path) -> None:
    root = built_project(tmp_path)
    bin_folder = Path(sys.executable).parent  # the environment running the tests, with its `blog`
    done = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "clean", f"BIN={bin_folder}"],
                          cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert not (root / "_site").exists() and not (root / ".cache/render").exists()
    assert (root / ".cache/figures/manifest.json").is_file()


def test_make_clean_without_blog_removes_nothing(tmp_path: Path) -> None:
    """Without the tool there is no record of what it wrote: nothing is deleted by hand."""
    (tmp_path / "_site").mkdir()
    (tmp_path / "_site/ghi-chu.txt").write_text("viết tay\n", encoding="utf-8")
    done = subprocess.run(["make", "-f", str(ROOT / "Makefile"), "clean", f"BIN={tmp_path / 'none'}"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "nothing removed" in done.stdout
    assert (tmp_path / "_site/ghi-chu.txt").read_text(encoding="utf-8") == "viết tay\n"


# --- serve's options ------------------------------------------------------------------------------


def test_serve_builds_into_dash_d_under_the_baseurl_on_dash_p(tmp_path: Path) -> None:
    import http.client
    import socket

    root = project(tmp_path)
    write_files(root / "site_src", {"_posts/2999-01-01-sau.md": post("Bài tương lai")})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    blog = Path(sys.executable).parent / "blog"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = subprocess.Popen([str(blog), "serve", "-s", str(root / "site_src"), "-d", str(out),
                               "-p", str(port), "--baseurl", "/blog", "--future", "--device", "cpu"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        said = [server.stdout.readline() for _ in range(2)]  # "built in ... s", then "serving ..."
        assert said[1].startswith(f"serving http://127.0.0.1:{port}/blog/"), said
        assert f"the output lives in {out}" in said[1]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/blog/2999/01/01/sau/")
        assert connection.getresponse().status == 200
        assert (out / "2999/01/01/sau/index.html").is_file()
    finally:
        server.terminate()
        server.wait(timeout=30)
        server.stdout.close()
        server.stderr.close()
    assert (out / "index.html").is_file()  # -d is the user's folder: it stays
