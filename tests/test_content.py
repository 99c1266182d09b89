from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import load_config
from builder.content import gather
from tests.helpers import post


def posts_of(source: Path, **overrides):
    return gather(load_config(source, **overrides)).posts


def test_front_matter_fields(tmp_site) -> None:
    source = tmp_site({"_posts/2018-06-28-a.md": (
        "---\ntitle: A\ncategories: Computer-Vision deep\ntags: [x, y]\n"
        "background: '/images/b.jpg '\n---\nBody\n")})
    (a,) = posts_of(source)
    assert a.categories == ("Computer-Vision", "deep") and a.tags == ("x", "y")
    assert a.background == "/images/b.jpg"
    assert a.body == "Body\n" and a.body_line == 7
    assert a.date.isoformat() == "2018-06-28T00:00:00+07:00"


@pytest.mark.parametrize("permalink, url", [
    ("/:year/:month/:day/:title/", "/2018/06/08/a-b/"),
    ("pretty", "/tich-chap/2018/06/08/a-b/"),
    ("date", "/tich-chap/2018/06/08/a-b.html"),
    ("none", "/tich-chap/a-b.html"),
    ("/:categories/:i_month-:i_day-:short_year/:slug", "/tich-chap/6-8-18/a-b"),
])
def test_permalink_placeholders_and_styles(tmp_site, permalink: str, url: str) -> None:
    source = tmp_site({"_posts/2018-06-08-a-b.md": post(categories="[Tích chập]")},
                      config=f"permalink: {permalink}\n")
    assert posts_of(source)[0].url == url


def test_front_matter_date_and_permalink_override(tmp_site) -> None:
    source = tmp_site({"_posts/2018-06-08-a.md": post(date="2018-06-09 10:30:00 +0000"),
                       "_posts/2018-06-07-b.md": post(permalink="/rieng/")})
    a, b = posts_of(source)
    # The same instant, placed in the site's time zone (Asia/Ho_Chi_Minh) as Jekyll places it.
    assert a.date.isoformat() == "2018-06-09T17:30:00+07:00"
    assert b.url == "/rieng/"


def test_nfc_output_from_nfd_input(tmp_site) -> None:
    import unicodedata

    title = unicodedata.normalize("NFD", "Tiếng Việt")
    source = tmp_site({"_posts/2018-06-08-a.md": post(title)})
    assert posts_of(source)[0].title == unicodedata.normalize("NFC", "Tiếng Việt")


def test_pages_static_files_and_exclusions(tmp_site) -> None:
    source = tmp_site({"about.md": post("Giới thiệu"), "docs/index.md": post("Docs"),
                       "raw.md": "no front matter", "css/x.css": "", ".hidden": "", "_notes/x.md": "",
                       "Gemfile": "", "drop/me.txt": ""}, config="exclude: [drop]\n")
    gathered = gather(load_config(source))
    pages, static = gathered.pages, gathered.static
    assert [(p.rel, p.url) for p in pages] == [("about.md", "/about.html"), ("docs/index.md", "/docs/")]
    assert static == ["css/x.css", "raw.md"]
