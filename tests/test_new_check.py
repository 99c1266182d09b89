"""`blog new` and `blog check`."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.helpers import FIXTURES, copy_fixture, post, run_blog, write_files


def test_new_creates_a_post_with_front_matter_and_refuses_to_overwrite(tmp_path: Path) -> None:
    source = tmp_path / "site_src"
    source.mkdir()
    (source / "_config.yml").write_text("title: x\n")  # a site without _posts/ yet
    result = run_blog("new", "Tiêu đề bài viết: Đức & CNN", "-s", str(source), "--date", "2026-11-29",
                      "--publish")
    assert result.exit_code == 0
    path = source / "_posts/2026-11-29-tieu-de-bai-viet-duc-cnn.md"
    assert result.stdout.strip() == str(path)
    text = path.read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---")[1])
    assert front == {"layout": "post", "title": "Tiêu đề bài viết: Đức & CNN", "categories": [],
                     "mathjax": False}
    path.write_text(text + "\nđã viết thêm\n", encoding="utf-8")
    again = run_blog("new", "Tiêu đề bài viết: Đức & CNN", "-s", str(source), "--date", "2026-11-29",
                     "--publish")
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert path.read_text(encoding="utf-8").endswith("đã viết thêm\n")
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0


def test_new_rejects_a_bad_date(tmp_path: Path) -> None:
    result = run_blog("new", "Bài", "-s", str(tmp_path), "--date", "29/11/2026", "--publish")
    assert result.exit_code == 1 and "--date must look like" in result.stderr


def test_check_passes_a_sound_site(tmp_path: Path) -> None:
    result = run_blog("check", "-s", str(copy_fixture("basic", tmp_path / "site_src")))
    assert result.exit_code == 0, result.stderr
    assert "0 broken" in result.stdout


def test_check_reports_broken_links_anchors_and_images_by_post(tmp_site, tmp_path: Path) -> None:
    body = ("[mất](/khong-co/) [neo](#khong-co-neo) [bài B]({% post_url 2020-01-02-b %}#sai) "
            "![]({{ site.baseurl }}/img/x.png)")
    source = tmp_site({
        "_posts/2020-01-01-a.md": post("A", body),
        "_posts/2020-01-02-b.md": post("B", "## Đúng\n\n[tốt](#dung) ![an image alt text](/img/y.png)"),
        "img/y.png": b"\x89PNG",
    })
    result = run_blog("check", "-s", str(source))
    assert result.exit_code == 1
    a, b = source / "_posts/2020-01-01-a.md", source / "_posts/2020-01-02-b.md"
    lines = result.stderr.splitlines()
    assert f"error: {a}:4: broken link /khong-co/: nothing is built there" in lines
    assert f"error: {a}:4: anchor #khong-co-neo does not exist on this page" in lines
    assert f"error: {a}:4: broken anchor /2020/01/02/b/#sai: no element with id 'sai'" in lines
    assert f"error: {a}:4: broken link /img/x.png: nothing is built there" in lines
    assert f"warning: {a}:4: image /img/x.png has no alt text" in lines
    assert f"warning: {b}:6: image /img/y.png has placeholder alt text 'an image alt text'" in lines
    assert f"warning: {a}:4: image /img/x.png: no file provides it" in lines  # the build's, counted too
    assert not any(str(b) in line and line.startswith("error") for line in lines)
    assert "4 broken, 3 warnings" in result.stdout


def test_check_names_links_that_ignore_the_baseurl(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(FIXTURES / "basic", source)
    write_files(source, {"_config.yml": (source / "_config.yml").read_text() + "baseurl: /blog\n",
                         "_posts/2020-05-05-x.md": post("X", "[quên baseurl](/about.html)")})
    result = run_blog("check", "-s", str(source))
    assert result.exit_code == 1
    assert "link /about.html does not start with the baseurl /blog" in result.stderr
