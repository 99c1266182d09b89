"""The kramdown reader's rules one by one, without Jekyll (tests/oracle/k-* check them against it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from builder.kramdown import KramdownReader, options_from_config, to_html
from builder.kramdown.output import gfm_id
from builder.markdown import make_markdown, render_markdown

ORACLE = Path(__file__).parent / "oracle"
# Markers a Markdown library uses for text it holds back; none may ever reach the page.
PLACEHOLDERS = re.compile("[\x02\x03\ue000-\uf8ff]|wzxhzdk|klzzwxh|kramdown-verbatim|kramdown-self-closing")


def html(text: str, **settings) -> BeautifulSoup:
    return BeautifulSoup(to_html(text, options_from_config(settings)), "html.parser")


def math(text: str) -> list[str]:
    return [m.get_text() for m in html(text).select(".arithmatex")]


# --- math -------------------------------------------------------------------------------------

def test_display_math_body_is_kept_as_written() -> None:
    doc = html("$$\n\\begin{aligned} a &= \\{x\\} \\\\ b &= \\|y\\| \\_z\n\\end{aligned}\n$$\n")
    assert doc.select_one("div.arithmatex").get_text() == \
        "\\[\\begin{aligned} a &= \\{x\\} \\\\ b &= \\|y\\| \\_z\n\\end{aligned}\\]"
    assert to_html("$$a < b \\& c$$\n").strip() == '<div class="arithmatex">\\[a &lt; b \\&amp; c\\]</div>'


def test_math_stays_inside_its_block() -> None:
    doc = html("Lạc $$a$ mở.\n\n## Tiêu đề\n\n- mục\n\nĐóng $$ ở đây $$ rồi.\n")
    assert doc.h2.get_text() == "Tiêu đề" and doc.li.get_text() == "mục"
    assert [m.get_text() for m in doc.select(".arithmatex")] == ["\\(ở đây\\)"]
    assert doc.p.get_text() == "Lạc $$a$ mở."


def test_display_math_needs_block_boundaries() -> None:
    assert math("$$x$$\n") == ["\\[x\\]"]
    assert math("Chữ\n$$x$$\n") == ["\\(x\\)"]
    assert math("$$x$$\nchữ ngay sau\n") == ["\\(x\\)"]
    assert math("## H\n$$x$$\n") == ["\\(x\\)"]
    assert math("\\$$x$$\n\nsau\n") == ["\\(x\\)"]  # escaped: inline math opening a paragraph
    assert math("`a` $$x$$ `b`\n") == ["\\(x\\)"]


def test_display_math_in_list_items_and_quotes() -> None:
    doc = html("1. Bước:\n\n    $$ h = f(x) $$\n\n2. Hai\n\n> $$ a = b $$\n")
    assert [li.find("div", class_="arithmatex") is not None for li in doc.find_all("li")] == [True, False]
    assert len(doc.find_all("li")) == 2
    assert doc.blockquote.select_one("div.arithmatex").get_text() == "\\[a = b\\]"


def test_mathjax_delimiters_from_escaped_backslashes() -> None:
    assert math("Có \\\\(a\\_b\\\\) và \\\\[c\\\\].\n") == ["\\(a_b\\)", "\\[c\\]"]
    assert html("Ngoặc \\(thường\\)\n").get_text().strip() == "Ngoặc (thường)"


def test_math_in_table_cells_splits_at_pipes_as_jekyll_does() -> None:
    cells = [td.get_text() for td in html("| $$\\|x\\|$$ | $$a|b$$ |\n").find_all("td")]
    assert cells == ["\\(|x|\\)", "$$a", "b$$"]


# --- links, ids, attributes ---------------------------------------------------------------------

def test_destinations_are_never_text() -> None:
    doc = html("[to](#-\\\\\\alpha-\\\\-sets) [b](/p$$x$$q) ![a $$y$$ *z*](/i_j.png \"t $$w$$\")\n")
    assert [a["href"] for a in doc.find_all("a")] == ["#-\\\\\\alpha-\\\\-sets", "/p$$x$$q"]
    assert (doc.img["alt"], doc.img["title"]) == ("a $$y$$ *z*", "t $$w$$")


def test_heading_ids_from_the_visible_text() -> None:
    doc = html("## Newton's `x_1` $$\\alpha$$ <em>h</em> [l](/u)\n\n## C++ & Python_3\n\n"
               "## C++ & Python_3\n\n## -- ...\n\n![i](/i.png)\n---\n")
    assert [h.get("id") for h in doc.find_all("h2")] == \
        ["newtons-x_1-alpha-h-l", "c--python_3", "c--python_3-1", "-", None]
    assert gfm_id("Tích chập và Đức") == "tích-chập-và-đức"


def test_block_and_span_attribute_lists() -> None:
    doc = html("{:ald: .a #b}\n\n{: .t}\n| x |\n|---|\n| 1 |\n\nĐoạn.\n{: ald title=\"t\"}\n\n"
               "![i](/i.png){: style=\"width: 50%\"} [n](/u){:.btn}\n\nchữ {: .không}\n")
    assert doc.table["class"] == ["t"]
    assert (doc.find("p")["class"], doc.find("p")["id"], doc.find("p")["title"]) == (["a"], "b", "t")
    assert doc.img["style"] == "width: 50%" and doc.a["class"] == ["btn"]
    assert "{: .không}" in doc.get_text()


def test_table_of_contents_list() -> None:
    doc = html("* TOC\n{:toc}\n{: class=\"table-of-content\"}\n\n## A\n\n### B\n\n#### C\n\n"
               "## D\n{: .no_toc}\n", toc_levels="2..3")
    toc = doc.select_one("ul#markdown-toc")
    assert toc["class"] == ["table-of-content"]
    assert [a["href"] for a in toc.find_all("a")] == ["#a", "#b"]


# --- blocks ---------------------------------------------------------------------------------------

def test_lists_start_right_after_a_paragraph_line() -> None:
    doc = html("Đoạn\n- một\n- hai\n\n> trích\n> 1. a\n")
    assert [li.get_text() for li in doc.find_all("li")] == ["một", "hai", "a"]


def test_list_items_are_paragraphs_only_after_a_blank_line() -> None:
    doc = html("- a\n- b\n\n- c\n")
    assert [li.p is not None for li in doc.find_all("li")] == [False, True, False]
    doc = html("- a\n\n- b\n")
    assert [li.p is not None for li in doc.find_all("li")] == [True, True]


def test_fenced_code_with_blank_lines_keeps_the_list() -> None:
    doc = html("1. a\n\n    ```python\n    x = 1\n\n    y = 2\n    ```\n\n2. b\n3. c\n")
    assert len(doc.find_all("li")) == 3 and doc.ol.find("pre") is not None


def test_indented_block_after_a_fence_is_its_own_code_block() -> None:
    doc = html("```python\nprint(1)\n```\n    1\n")
    assert [pre.get_text() for pre in doc.find_all("pre")] == ["print(1)\n", "1\n"]


def test_end_of_block_marker_separates_lists() -> None:
    assert len(html("* a\n^\n* b\n").find_all("ul")) == 2


def test_tables_as_kramdown_reads_them() -> None:
    doc = html("a | b\n--|--\n1 | 2\n\n|---|---|\n| x | y |\n|===\n| f | g |\n\nmột | dòng\n")
    tables = doc.find_all("table")
    assert [t.find("thead") is not None for t in tables] == [True, False, False]
    assert tables[1].tfoot.get_text(" ", strip=True) == "f g"
    assert html("Chữ\n| a | b |\n|---|---|\n").table is None  # no table right after a paragraph line


def test_text_escapes_and_tags_that_are_no_tags() -> None:
    doc = html("\\< \\$ \\: \\= pair <source, target> images http://x.org \\a\n")
    assert doc.get_text().strip() == "< $ : = pair <source, target> images http://x.org \\a"
    assert doc.find("a") is None


def test_kramdown_extensions_and_syntax_of_its_own() -> None:
    doc = html("{::comment}\nẩn\n{:/comment}\n\n{::nomarkdown}\n<b>*x*</b>\n{:/nomarkdown}\n\n"
               "#không\n\n- [ ] a\n- [x] b\n\n~~xoá~~ dòng\\\nmới\n\nCNN\n: mạng\n\n"
               "Câu[^a].\n\n[^a]: chú.\n\n[^b]: không dùng.\n")
    assert "ẩn" not in doc.get_text() and doc.b.get_text() == "*x*"
    assert doc.find("h1") is None and "#không" in doc.get_text()
    assert [box.has_attr("checked") for box in doc.find_all("input")] == [False, True]
    assert doc.find("del").get_text() == "xoá" and doc.find("br") is not None
    assert doc.dt.get_text() == "CNN" and doc.dd.get_text() == "mạng"
    assert [li["id"] for li in doc.select(".footnotes li")] == ["fn:a"]


def test_html_blocks_and_the_markdown_attribute() -> None:
    doc = html('<div markdown="1">\n*a*\n</div>\n\n<div>\n*b* & <x\n</div>\n\n</div>\n')
    divs = doc.find_all("div")
    assert divs[0].em.get_text() == "a" and divs[1].get_text().strip() == "*b* & <x"
    assert doc.find("p", string="</div>") is not None


# --- options and the reader's interface ---------------------------------------------------------

@pytest.mark.parametrize("value, levels", [("1..3", {1, 2, 3}), ("2..6", {2, 3, 4, 5, 6}), ([2, 3], {2, 3}),
                                           ("1,2", {1, 2}), (3, {3})])
def test_toc_levels_setting(value, levels) -> None:
    assert options_from_config({"toc_levels": value}).toc_levels == levels


def test_line_numbers_setting() -> None:
    settings = {"syntax_highlighter_opts": {"block": {"line_numbers": True}}}
    doc = html("```python\nx = 1\n```\n", **settings)
    assert doc.select_one("td.linenos") is not None and "x = 1" in doc.select_one("td.code").get_text()


def test_rendered_facts_for_the_theme() -> None:
    rendered = render_markdown(make_markdown(kramdown=True), "Một $$x$$ hai ba.\n\n## A\n\n![i](/i.png)\n")
    assert rendered.has_math and rendered.words >= 4
    assert [(h.level, h.id, h.text) for h in rendered.headings] == [(2, "a", "A")]
    assert rendered.images == ("/i.png",)
    assert rendered.excerpt.startswith("Một")


def test_reader_decorates_before_writing() -> None:
    seen = []
    KramdownReader(options_from_config({}), decorate=lambda root: seen.append(root.tag)).convert("x\n")
    assert seen == ["div"]


# --- nothing held back ever shows -------------------------------------------------------------------

def _oracle_posts() -> list[Path]:
    return sorted(ORACLE.glob("*/_posts/*.md")) + sorted(ORACLE.glob("*/*.md"))


@pytest.mark.parametrize("kramdown", [True, False], ids=["kramdown", "default"])
def test_no_placeholder_reaches_any_page(kramdown: bool) -> None:
    md = make_markdown(kramdown=kramdown)
    for path in _oracle_posts():
        text = path.read_text(encoding="utf-8").split("---\n", 2)[-1]
        rendered = render_markdown(md, text)
        found = PLACEHOLDERS.search(rendered.html + "".join(h.id + h.text for h in rendered.headings))
        assert found is None, f"{path}: {found.group(0)!r} in the output"
