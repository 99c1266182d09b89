from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT, post, run_blog


def test_python_dash_m_builder_builds(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("Một")})
    done = subprocess.run([sys.executable, "-m", "builder", "build", "-s", str(source), "-d",
                           str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "1 post, 3 pages" in done.stdout  # the home page, the archive, 404
    assert (tmp_path / "out/2020/01/01/a/index.html").is_file()


def test_a_build_process_leaving_at_once_still_says_everything(tmp_site, tmp_path: Path) -> None:
    """`blog build` ends its process without the interpreter's teardown: what it printed and
    logged into pipes (fully buffered) still arrives, and every file is written."""
    posts = {f"_posts/2020-01-{n:02d}-a{n}.md": post(f"Bài {n}", f"![x](/images/khong-co-{n}.png)")
             for n in range(1, 4)}
    out = tmp_path / "out"
    command = [sys.executable, "-m", "builder", "build", "-s", str(tmp_site(posts)), "-d", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("built ") and "3 posts" in done.stdout and "3 warnings" in done.stdout
    assert [line for line in done.stderr.splitlines() if "no file provides it" in line] == [
        f"warning: {tmp_path}/src/_posts/2020-01-0{n}-a{n}.md:4: image /images/khong-co-{n}.png: "
        "no file provides it" for n in (3, 2, 1)]
    assert {p.name for p in out.glob("2020/01/*")} == {"01", "02", "03"}


def test_help_lists_the_build_options() -> None:
    result = run_blog("build", "--help")
    for option in ("--source", "--destination", "--baseurl", "--drafts", "--future", "--strict",
                   "--verbose", "-s,", "-d,"):
        assert option in result.output


def test_default_paths_are_site_src_and_site(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "site_src/_posts").mkdir(parents=True)
    (tmp_path / "site_src/_posts/2020-01-01-a.md").write_text(post())
    monkeypatch.chdir(tmp_path)
    assert run_blog("build").exit_code == 0
    assert (tmp_path / "_site/index.html").is_file()
