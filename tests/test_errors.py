"""Bad input: a non-zero exit, one clear line naming the file (and line), nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import post, run_blog, tree_digest, write_files

GOOD = {"_posts/2020-01-01-tot.md": post("Bài tốt")}


CASES = [
    pytest.param({"_posts/2020-02-02-x.md": "---\ntitle: [không đóng\nx: 1\n---\nBody\n"},
                 "_posts/2020-02-02-x.md:2: invalid front matter: a [ or { opened on this line is never "
                 "closed",
                 id="malformed-yaml"),
    pytest.param({"_posts/2020-02-02-x.md": "---\ntitle: Thiếu dấu đóng\nBody\n"},
                 "_posts/2020-02-02-x.md:1: front matter opened with --- is never closed",
                 id="unclosed-front-matter"),
    pytest.param({"_posts/2018-02-30-x.md": post()},
                 "_posts/2018-02-30-x.md: impossible date 2018-02-30 in the file name",
                 id="impossible-date"),
    pytest.param({"_posts/2020-02-02-x.md": post(body="dòng một\n\n{% capsule net %}")},
                 "_posts/2020-02-02-x.md:6: Liquid: unexpected tag 'capsule'", id="unknown-tag"),
    pytest.param({"_posts/2020-02-02-x.md": post(body="{% include khong-co.html %}")},
                 "_posts/2020-02-02-x.md:4: include 'khong-co.html' not found in _includes/",
                 id="missing-include"),
    pytest.param({"_posts/2020-02-02-x.md": post(body="a\n{% include ../_config.yml %}")},
                 "_posts/2020-02-02-x.md:5: include path '../_config.yml' leaves _includes/",
                 id="include-outside"),
    pytest.param({"_posts/2020-02-02-x.md": post(body="{% post_url 2000-01-01-nope %}")},
                 "_posts/2020-02-02-x.md:4: post_url: no post named '2000-01-01-nope'",
                 id="unknown-post-url"),
    pytest.param({"_posts/2020-02-02-x.md": "---\n- a\n- b\n---\nBody\n"},
                 "_posts/2020-02-02-x.md:2: front matter must be a mapping", id="front-matter-list"),
    pytest.param({"_posts/2020-02-02-x.md": post(body="Ngày:\n{{ page.title | date_to_string }}")},
                 "_posts/2020-02-02-x.md:5: Liquid: date_to_string: 'Bài thử' is not a valid date or time",
                 id="date-filter-on-a-title"),
    pytest.param({"_includes/hong.html": "{% if x %}chưa đóng", "_posts/2020-02-02-x.md":
                  post(body="{% include hong.html %}")},
                 "_includes/hong.html: Liquid: expected tag endif",
                 id="broken-include-file"),
]


@pytest.mark.parametrize("files, message", CASES)
def test_bad_input_fails_with_one_clear_line_and_keeps_the_old_site(
        tmp_site, tmp_path: Path, files: dict, message: str) -> None:
    source = tmp_site(GOOD)
    out = tmp_path / "_site"
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    before = tree_digest(out)
    write_files(source, files)
    result = run_blog("build", "-s", str(source), "-d", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and message in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert tree_digest(out) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".cache") == ["_site", "src"]  # no staging


def test_malformed_config_names_the_file_and_line(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD, config="title: ok\nurl: [x\n")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert f"{source / '_config.yml'}:2: invalid YAML" in result.stderr


def test_all_config_problems_are_reported_at_once(tmp_site, tmp_path: Path) -> None:
    config = "url: example.org\nbaseurl: blog\ntimezone: Sao/Hoa\nrepository: not a repo\n"
    source = tmp_site(GOOD, config=config)
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.count("\n") == 0
    for problem in ("url must be an absolute", "baseurl must be a path", "timezone 'Sao/Hoa'",
                    "repository must look like owner/name"):
        assert problem in line


def test_missing_source_folder(tmp_path: Path) -> None:
    result = run_blog("build", "-s", str(tmp_path / "khong-co"), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "does not exist" in result.stderr


def test_a_failing_template_keeps_the_old_site(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD)
    out = tmp_path / "_site"
    run_blog("build", "-s", str(source), "-d", str(out))
    before = tree_digest(out)
    write_files(source, {"_templates/post.html": "{% extends 'base.html' %}{% block content %}"})
    result = run_blog("build", "-s", str(source), "-d", str(out))
    assert result.exit_code == 1
    assert "_templates/post.html" in result.stderr and "template error" in result.stderr
    assert tree_digest(out) == before


def test_files_in_posts_that_are_not_posts_get_one_note(tmp_site, tmp_path: Path) -> None:
    """As Jekyll: left out without a warning each (so --strict passes), one line says so."""
    strays = {"_posts/ghi-chu.md": post(), "_posts/2020-01-01-tot/hinh.png": b"\x89PNG\r\n",
              "_posts/so-do.ipynb": "{}", "_posts/2020-01-02-anh.png": b"\x89PNG\r\n\xff"}
    source = tmp_site({**GOOD, **strays})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        "note: 4 files in _posts/ not named YYYY-MM-DD-title.EXT (or not text) left out, as Jekyll "
        "leaves them out: _posts/2020-01-01-tot/hinh.png, _posts/2020-01-02-anh.png, _posts/ghi-chu.md, ..."]
    assert not list((tmp_path / "o").rglob("*.png")) and not list((tmp_path / "o").rglob("*.ipynb"))
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"), "--strict").exit_code == 0


def test_a_post_that_is_not_utf8_is_left_out_with_a_warning(tmp_site, tmp_path: Path) -> None:
    bad = "---\ntitle: x\n---\nmột\n".encode() + b"hai \xe0 ba\n"
    source = tmp_site({**GOOD, "_posts/2020-02-02-x.md": bad})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert f"warning: {source / '_posts/2020-02-02-x.md'}:5: not valid UTF-8 (byte 0xe0); left out, as " \
        "Jekyll leaves it out" in result.stderr
    assert not (tmp_path / "o/2020/02/02").exists()
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o2"), "--strict").exit_code == 1


@pytest.mark.parametrize("files, kept", [
    ({"_posts/2020-02-02-same.md": post("A"), "_posts/2020-02-02-same.markdown": post("B")},
     "_posts/2020-02-02-same.md"),
    ({"_posts/2020-02-02-same.md": post("A"), "_posts/old/2020-02-02-same.md": post("B")},
     "_posts/old/2020-02-02-same.md"),
    ({"trang.md": post("A", permalink="/x.html"), "trang.html": post("B", permalink="/x.html")}, "trang.md"),
])
def test_two_files_writing_one_url_warn_and_the_last_wins(tmp_site, tmp_path: Path, files: dict,
                                                          kept: str) -> None:
    """Jekyll's order: pages by file name, then static files, then posts by date and path."""
    source = tmp_site({**GOOD, **files})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    others = sorted(set(files) - {kept})
    assert "Conflict: " in result.stderr and f"{others[0]} and {kept}; {kept} is kept" in result.stderr
    title = files[kept].split("title: ")[1][0]
    written = [p for p in (tmp_path / "o").rglob("*.html") if f"<title>{title} ·" in p.read_text()]
    assert len(written) == 1
    strict = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o2"), "--strict")
    assert strict.exit_code == 1 and "--strict" in strict.stderr


@pytest.mark.parametrize("permalink, output", [("/archive/", "archive/index.html"),
                                               ("/category/hoc-may/", "category/hoc-may/index.html"),
                                               ("/404.html", "404.html")])
def test_a_post_at_a_list_pages_url_is_kept_with_a_conflict_warning(tmp_site, tmp_path: Path,
                                                                    permalink: str, output: str) -> None:
    """The theme's page steps aside: the post's text never silently vanishes."""
    clash = post("Trùng", "Chữ của bài trùng.", categories="[Học máy]", permalink=permalink)
    source = tmp_site({**GOOD, "_posts/2020-03-03-trung.md": clash})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0, result.stderr
    written_by = f"warning: Conflict: {output} is written by {source / '_posts/2020-03-03-trung.md'}"
    assert written_by in result.stderr
    assert "Chữ của bài trùng." in (tmp_path / "o" / output).read_text(encoding="utf-8")
    strict = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o2"), "--strict")
    assert strict.exit_code == 1


def test_the_sites_own_404_page_is_kept_as_written(tmp_site, tmp_path: Path) -> None:
    """A Jekyll site's own 404 page replaces the theme's (a page there is meant; no warning)."""
    page = "---\ntitle: Lạc đường\npermalink: /404.html\n---\nTrang riêng 404.\n"
    result = run_blog("build", "-s", str(tmp_site({**GOOD, "404.md": page})), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0 and "warning" not in result.stderr, result.stderr
    assert "Trang riêng 404." in (tmp_path / "o/404.html").read_text(encoding="utf-8")


def test_an_image_no_file_provides_warns_and_strict_keeps_the_old_site(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD)
    out = tmp_path / "_site"
    run_blog("build", "-s", str(source), "-d", str(out))
    before = tree_digest(out)
    write_files(source, {"_posts/2020-03-03-anh.md": post(body="![x]({{ site.baseurl }}/images/khong.png)")})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "other"))
    assert result.exit_code == 0
    assert f"warning: {source / '_posts/2020-03-03-anh.md'}:4: image /images/khong.png: no file provides it" \
        in result.stderr
    strict = run_blog("build", "-s", str(source), "-d", str(out), "--strict")
    assert strict.exit_code == 1 and "1 warning(s) and --strict is on" in strict.stderr
    assert tree_digest(out) == before


def test_verbose_adds_the_traceback_to_the_one_line(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-02-02-x.md": post(body="{{ page.title | date_to_string }}")})
    quiet = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert quiet.exit_code == 1 and quiet.stderr.count("\n") == 1 and "Traceback" not in quiet.stderr
    loud = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"), "-v")
    assert loud.exit_code == 1 and "Traceback (most recent call last)" in loud.stderr
    assert quiet.stderr.strip() in loud.stderr


def test_a_fault_of_the_builder_itself_is_one_line_too(tmp_site, tmp_path: Path, monkeypatch) -> None:
    from builder import feeds

    def broken(site) -> str:
        raise RuntimeError("lỗi của chính trình dựng")

    monkeypatch.setattr(feeds, "atom_feed", broken)
    source = tmp_site(GOOD)
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error: the builder failed: RuntimeError: lỗi của chính trình dựng "
                                          "(run again with -v for the traceback)"]
    loud = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"), "-v")
    assert "Traceback" in loud.stderr and "in broken" in loud.stderr
    assert not (tmp_path / "o").exists()


def test_a_template_failing_at_run_time_names_its_file_and_line(tmp_site, tmp_path: Path) -> None:
    template = ("{% extends 'base.html' %}\n{% block content %}\n{{ page.title | long_date }}\n"
                "{% endblock %}\n")
    source = tmp_site({**GOOD, "_templates/post.html": template})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 1 and len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: {source / '_templates/post.html'}:3: template post.html failed")
    assert "Traceback" not in result.stderr


def test_an_image_pillow_cannot_read_is_named(tmp_path: Path) -> None:
    from builder import images
    from builder.errors import BuildError

    damaged = tmp_path / "hong.jpg"
    damaged.write_bytes(b"\xff\xd8\xff not really a jpeg")
    with pytest.raises(BuildError) as caught:
        images.responsive_images({"/images/hong.jpg": (damaged, 1200, 800, "0" * 64)}, tmp_path / "cache")
    assert caught.value.path == damaged and "could not make its" in str(caught.value)
