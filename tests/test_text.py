"""The text rules reading and the theme share: slugs, Vietnamese dates, NFC."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from builder import liquid, markdown, strings, templates
from builder.text import category_slug, nfc, slugify, vi_date
from tests.helpers import post, run_blog, soup


@pytest.mark.parametrize("text, slug", [
    ("Tích chập", "tich-chap"), ("Đức out vòng bảng", "duc-out-vong-bang"),
    ("Computer Vision", "computer-vision"), ("2.Vậy sai sai chỗ nào :3", "2-vay-sai-sai-cho-nao-3"),
    ("Thị giác máy tính", "thi-giac-may-tinh"),
])
def test_slugify_strips_vietnamese_diacritics(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_a_category_without_latin_letters_gets_the_fallback_slug() -> None:
    assert category_slug("分类") == "khac" and category_slug("Học máy") == "hoc-may"


def test_vi_date_and_nfc() -> None:
    assert vi_date(date(2018, 6, 28)) == "28 tháng 6, 2018"
    assert nfc("Vie\u0302\u0323t") == "Việt" and len(nfc("e\u0301")) == 1


def test_reading_and_theme_share_one_slugify() -> None:
    """No second copy of the rule: every stage that makes a slug uses builder.text's."""
    assert liquid.slugify is slugify and markdown.slugify is slugify and templates.slugify is slugify


def test_theme_strings_are_nfc(tmp_path: Path) -> None:
    for lang in strings.available():
        for value in strings.table(lang).values():
            for text in value if isinstance(value, list) else [value]:
                assert text == nfc(text), (lang, text)


def test_a_category_link_in_the_theme_reaches_the_category_page(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A", categories="[Thị giác máy tính]")})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0
    link = soup(tmp_path / "o/2020/01/01/a/index.html").select_one("a.tag")["href"]
    assert link == "/category/thi-giac-may-tinh/"
    assert (tmp_path / "o" / link.strip("/") / "index.html").is_file()
