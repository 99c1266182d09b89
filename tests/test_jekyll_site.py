"""Site-level behaviour as Jekyll has it, seen through `blog build`: Liquid leniency and its
warnings, `lang:` and the theme's strings, the machine's time zone, extensionless URLs.
(What Jekyll's own output decides is compared in tests/test_oracle.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder import strings
from builder.config import SystemZone, load_config
from tests.helpers import ROOT, post, run_blog, soup

KRAMDOWN = "title: Blog\nmarkdown: kramdown\n"


def build(source: Path, tmp_path: Path, *args: str):
    return run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"), *args)


def test_what_jekyll_renders_empty_renders_empty_with_a_warning(tmp_site, tmp_path: Path) -> None:
    body = "Dòng một.\n\nMã `{{}}` và {{ }}.\n\n{{ page.title | khong_co }} và {{ page.title thua }}."
    source = tmp_site({"_posts/2020-01-01-a.md": post("Tiêu đề", body)}, config=KRAMDOWN)
    result = build(source, tmp_path)
    assert result.exit_code == 0, result.stderr
    path = source / "_posts/2020-01-01-a.md"
    assert result.stderr.splitlines() == [
        f"warning: {path}:6: Liquid: empty {{{{ }}}} renders nothing, as in Jekyll",
        f"warning: {path}:8: Liquid: unknown filter 'khong_co' skipped, as Jekyll skips it",
        f"warning: {path}:8: Liquid: malformed {{{{ page.title thua }}}} read laxly, as Jekyll reads it",
    ]
    text = soup(tmp_path / "out/2020/01/01/a.html").select_one(".post-body").get_text(" ", strip=True)
    assert "Mã `` và ." in text and "Tiêu đề và Tiêu đề." in text  # `{{}}` leaves ``, as in Jekyll
    assert build(source, tmp_path, "--strict").exit_code == 1


def test_the_default_reading_mode_is_as_lenient(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A", "Trống: {{}}.")})
    result = build(source, tmp_path)
    assert result.exit_code == 0 and "empty {{ }} renders nothing" in result.stderr


@pytest.mark.parametrize("liquid, body, message", [
    ("error_mode: strict", "{{ page.title thua }}", ":4: Liquid: expected end of expression, found word"),
    ("strict_filters: true", "{{ page.title | khong_co }}", ":4: Liquid: unknown filter 'khong_co'"),
    ("strict_variables: true", "{{ khong_co }}", ":4: Liquid: 'khong_co' is undefined"),
    ("error_mode: warn", "{% capsule net %}", ":4: Liquid: unexpected tag 'capsule'"),
])
def test_what_jekyll_rejects_is_an_error_with_file_and_line(tmp_site, tmp_path: Path, liquid: str,
                                                            body: str, message: str) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A", body)}, config=KRAMDOWN + f"liquid:\n  {liquid}\n")
    result = build(source, tmp_path)
    assert result.exit_code == 1
    assert f"error: {source / '_posts/2020-01-01-a.md'}{message}" in result.stderr


def test_liquid_settings_are_checked(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({}, config=KRAMDOWN + "liquid:\n  error_mode: loose\n  strict_filters: yes please\n")
    result = build(source, tmp_path)
    assert result.exit_code == 1
    assert "liquid.error_mode must be one of lax, warn, strict" in result.stderr
    assert "liquid.strict_filters must be true or false" in result.stderr


LONG_POST = "\n\n".join(f"## Phần {i}\n\nNội dung {i}. Xem [bài khác]({{% post_url 2020-01-01-a %}})."
                        for i in range(1, 6))


@pytest.mark.parametrize("lang, expected, absent", [
    ("en", ["Contents", "min read", "Newer post", "June 2, 2020", "Latest posts", "Category: AI",
            "Watch on YouTube: The video of “B”", 'content="en_US"'],
     ["Mục lục", "phút đọc", "Bài mới hơn", "tháng", "Chuyên mục", "Xem trên YouTube"]),
    ("vi", ["Mục lục", "phút đọc", "Bài mới hơn", "2 tháng 6, 2020", "Bài viết mới nhất", "Chuyên mục: AI",
            "Xem trên YouTube: Video của bài “B”", 'content="vi_VN"'],
     ["Contents", "min read", "Newer post", "Latest posts"]),
    ("en-GB", ["Contents", "June 2, 2020"], ["Mục lục"]),
    ("fr", ["Contents"], ["Mục lục"]),  # no French table: English, the most widely read
])
def test_lang_sets_the_page_language_and_the_interface_strings(
        tmp_site, tmp_path: Path, lang: str, expected: list[str], absent: list[str]) -> None:
    files = {"_posts/2020-01-01-a.md": post("A", "Một.", categories="[AI]"),
             "_posts/2020-06-02-b.md": post("B", LONG_POST + '\n\n{% include youtube.html id="x" %}',
                                            categories="[AI]")}
    source = tmp_site(files, config=KRAMDOWN + f"lang: {lang}\n")
    assert build(source, tmp_path).exit_code == 0
    out = tmp_path / "out"
    pages = [out / "ai/2020/06/02/b.html", out / "ai/2020/01/01/a.html", out / "index.html",
             out / "category/ai/index.html", out / "404.html"]
    html = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    assert soup(pages[0]).html["lang"] == lang
    for text in expected:
        assert text in html, text
    for text in absent:
        assert text not in html, text


def test_every_language_has_every_string() -> None:
    tables = {lang: strings.table(lang) for lang in strings.available()}
    assert {"vi", "en"} <= set(tables)
    keys = set(tables["vi"])
    assert all(set(table) == keys for table in tables.values())


def test_the_default_time_zone_is_the_build_machines(tmp_site, tmp_path: Path) -> None:
    """No `timezone:`: a post is placed on the machine's day, as Jekyll places it."""
    source = tmp_site({"_posts/2015-10-17-a.md": post("A", date="2015-10-17 01:14:00")}, config=KRAMDOWN)
    assert isinstance(load_config(source).tz, SystemZone)
    days = {}
    for zone in ("UTC", "America/Los_Angeles", "Asia/Tokyo"):
        out = tmp_path / zone.replace("/", "-")
        env = {**os.environ, "TZ": zone}
        done = subprocess.run([sys.executable, "-m", "builder", "build", "-s", str(source), "-d", str(out)],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        days[zone] = sorted(p.relative_to(out).as_posix() for p in out.glob("2015/*/*/a.html"))
    assert days == {"UTC": ["2015/10/17/a.html"], "America/Los_Angeles": ["2015/10/16/a.html"],
                    "Asia/Tokyo": ["2015/10/17/a.html"]}


def test_extensionless_urls_are_written_as_html_and_checked(tmp_site, tmp_path: Path) -> None:
    files = {"_posts/2018-10-03-conv2d.md": post("Conv2d", "Tích chập.", permalink="2018/10/03/conv2d"),
             "_posts/2018-10-04-b.md": post("B", "Xem [a](/2018/10/03/conv2d) và [b](/2018/10/03/khong).")}
    source = tmp_site(files, config=KRAMDOWN)
    assert build(source, tmp_path).exit_code == 0
    assert (tmp_path / "out/2018/10/03/conv2d.html").is_file()
    assert not (tmp_path / "out/2018/10/03/conv2d").exists()
    result = run_blog("check", "-s", str(source))
    assert result.exit_code == 1
    assert "/2018/10/03/khong" in result.output + result.stderr
    assert "/2018/10/03/conv2d:" not in result.output + result.stderr


def test_an_unknown_permalink_placeholder_is_an_error(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A")}, config=KRAMDOWN + "permalink: /:year/:titel/\n")
    result = build(source, tmp_path)
    assert result.exit_code == 1
    said = "permalink '/:year/:titel/' has an unknown placeholder :titel (did you mean :title?)"
    assert said in result.stderr



def test_a_page_that_is_not_html_is_written_as_it_is(tmp_site, tmp_path: Path) -> None:
    """Any file with front matter is a page (Jekyll's rule); JSON stays JSON, out of the sitemap."""
    files = {"_posts/2020-01-01-a.md": post("A"), "search.json": '---\n---\n{"title": "{{ site.title }}"}\n',
             "data.csv": "a,b\n1,2\n"}
    source = tmp_site(files, config=KRAMDOWN)
    assert build(source, tmp_path).exit_code == 0
    out = tmp_path / "out"
    assert (out / "search.json").read_text(encoding="utf-8") == '{"title": "Blog"}\n'
    assert (out / "data.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert "search.json" not in (out / "sitemap.xml").read_text(encoding="utf-8")
