"""`markdown: kramdown`: an existing Jekyll blog builds as Jekyll + kramdown (GFM) read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from builder.kramdown.output import gfm_id
from builder.markdown import make_markdown, render_markdown
from tests.helpers import FIXTURES, copy_fixture, run_blog, soup

JEKYLL = FIXTURES / "jekyll"
TOAN = "machine learning/2017/03/04/toan.html"
KHOI = "ghi chép/2017/05/07/khoi.html"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    project = tmp_path_factory.mktemp("jekyll")
    out = project / "_site"
    result = run_blog("build", "-s", str(copy_fixture("jekyll", project / "site_src")), "-d", str(out))
    assert result.exit_code == 0, result.stderr
    return out, result.stderr


def body(out: Path, page: str) -> BeautifulSoup:
    return soup(out / page).select_one(".post-body")


def delimited(span) -> str:
    """The math as the reader handed it to MathJax, `\\(TeX\\)` or `\\[TeX\\]`: once typeset at build
    time, the TeX is its MathML's annotation and display="block" says which."""
    annotation = span.select_one('annotation[encoding="application/x-tex"]')
    if annotation is None:
        return span.get_text()
    opening, closing = ("\\[", "\\]") if span.select_one("math").get("display") == "block" else ("\\(", "\\)")
    return opening + annotation.get_text() + closing


def kramdown_html(text: str) -> BeautifulSoup:
    return BeautifulSoup(render_markdown(make_markdown(kramdown=True), text).html, "html.parser")


# --- 1. math -----------------------------------------------------------------------------

def test_math_body_reaches_mathjax_as_written(built) -> None:
    """kramdown keeps a `$$` body raw: no backslash escape is resolved in it (as Jekyll shows)."""
    out, _ = built
    math = [delimited(m) for m in body(out, TOAN).select(".arithmatex")]
    assert math[:4] == [r"\(a_i * b_j\)", r"\(x_{1} + x_{2}\)", r"\(\{ x \mid x > 0 \}\)", r"\(\|w\|\)"]
    display = delimited(body(out, TOAN).select_one("div.arithmatex"))
    assert display.startswith("\\[\\begin{aligned}") and "x^2 \\\\\\\\\n" in display
    assert r"\(e^{i\pi} + 1 = 0\)" in math and r"\[ \int_0^1 x\,dx \]" in math
    assert r"\(a<b\)" in math and r"\(a \lt b\)" in math
    text = body(out, TOAN).get_text()
    assert "giá 5$ một tháng" in text and "dấu * sao" in text
    assert body(out, TOAN).find("a", string="tài liệu (bản 2)") is not None  # \( outside math is "("
    assert body(out, TOAN).find("em") is None


def test_nothing_inside_math_is_emphasis_or_smart_punctuation() -> None:
    doc = kramdown_html('"Trích" -- $$"a" -- *b* _c_$$')
    assert doc.select_one(".arithmatex").get_text() == r'\("a" -- *b* _c_\)'
    assert doc.get_text().startswith("“Trích” –")


def test_math_in_code_is_code() -> None:
    doc = kramdown_html("`$$x$$`\n\n    $$y$$\n")
    assert doc.select(".arithmatex") == []
    assert doc.find("code").get_text() == "$$x$$"


# --- 2. blocks ---------------------------------------------------------------------------

def test_blocks_start_as_kramdown_starts_them(built) -> None:
    out, _ = built
    page = body(out, KHOI)
    assert [li.get_text() for li in page.find_all("ul")[1].find_all("li")] == ["một", "hai"]
    codes = [pre.get_text() for pre in page.select("div.highlight pre")]
    assert 'print("xin chào")\n' in codes and "x = 1  # bốn dấu cách\n" in codes
    assert page.find("td").get_text() == "a | b"
    raw = page.select_one("div.hop")
    assert raw.p.get_text() == "*không phải Markdown*"
    note = page.select_one("p.note")
    assert note.get_text() == "Đoạn có lớp." and note["style"] == "color: red"
    assert page.select_one("a.btn")["href"] == "/about/"
    assert page.select_one("span.tho").get_text() == "*thô*"


def test_toc_list_from_the_headings(built) -> None:
    out, _ = built
    toc = body(out, KHOI).select_one("ul#markdown-toc")
    assert [a["href"] for a in toc.find_all("a")] == ["#tích-chập", "#tích-chập-1", "#1-cnn-là-gì"]


# --- 3. heading ids ----------------------------------------------------------------------

def test_heading_ids_as_kramdowns_gfm_parser_makes_them(built) -> None:
    out, _ = built
    assert [h["id"] for h in body(out, KHOI).find_all("h2")] == ["tích-chập", "tích-chập-1", "1-cnn-là-gì"]
    assert [gfm_id(t) for t in ("Hello World!", "C++ & Python_3", "1. CNN là gì?")] == \
        ["hello-world", "c--python_3", "1-cnn-là-gì"]


def test_same_page_anchors_and_every_link_resolve(tmp_path: Path) -> None:
    result = run_blog("check", "-s", str(copy_fixture("jekyll", tmp_path / "site_src")))
    assert result.exit_code == 0, result.stderr
    assert "0 broken" in result.stdout


# --- 4. files and URLs -------------------------------------------------------------------

def test_urls_are_the_ones_jekyll_gave(built) -> None:
    out, _ = built
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if "category" not in p.parts)
    assert pages == ["404.html", "about/index.html", "archive/index.html",  # the theme's archive
                     "computer vision/deep learning/2018/01/01/the-loai.html", KHOI, "index.html", TOAN]
    links = [a["href"] for a in soup(out / "index.html").select(".all-posts a")]
    assert links == ["/computer%20vision/deep%20learning/2018/01/01/the-loai.html",
                     "/ghi%20ch%C3%A9p/2017/05/07/khoi.html", "/machine%20learning/2017/03/04/toan.html"]


def test_front_matter_as_jekyll_reads_it(built) -> None:
    out, _ = built
    page = soup(out / TOAN)
    assert page.h1.get_text() == "Toán trong kramdown"  # a repeated key keeps its last value
    assert [a.get_text() for a in page.select(".post-header a.tag")] == ["Machine Learning"]
    assert soup(out / KHOI).time["datetime"] == "2017-05-07T10:00:00+07:00"  # front matter date wins


# --- 5. Liquid ---------------------------------------------------------------------------

def test_jekyll_liquid_in_posts(built) -> None:
    out, _ = built
    page = body(out, KHOI)
    assert page.select_one("table.highlighttable td.linenos").get_text().split() == ["1", "2"]
    assert "return x * 2" in page.select_one("table.highlighttable td.code").get_text()
    hrefs = [a["href"] for a in page.find_all("a")]
    assert "/machine%20learning/2017/03/04/toan.html" in hrefs and "/about/" in hrefs
    raw = (out / KHOI).read_text(encoding="utf-8")
    assert "<!-- ghi chú: Khối: danh sách, mã, bảng -->" in raw
    assert body(out, TOAN).find("pre").get_text() == "{{ site.title }}\n"  # {% raw %} inside a fence


# --- 6. debris ---------------------------------------------------------------------------

def test_real_site_debris_does_not_fail_the_build(built) -> None:
    out, stderr = built
    warnings = [line for line in stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2
    assert "_layouts: Jekyll's Liquid layouts are not used" in warnings[0]
    assert r"Windows-style path \assets\sodo.png in a link or image, served as /assets/sodo.png" \
        in warnings[1]
    assert body(out, KHOI).find("img", alt="sơ đồ")["src"] == "/assets/sodo.png"
    assert (out / "assets/sodo.png").is_file() and not (out / "assets/main.scss").exists()
    feed = (out / "feed.xml").read_text(encoding="utf-8")
    assert feed.startswith('<?xml version="1.0" encoding="utf-8"?>\n<feed') and "{%" not in feed
    assert not any(p.name in ("_base.scss", "noop.rb") for p in out.rglob("*"))
    listed = soup(out / "index.html").select(".all-posts li")
    assert [li.get_text(" ", strip=True)[-10:] for li in listed] == ["2018-01-01", "2017-05-07", "2017-03-04"]


def test_without_the_key_todays_rules_stay(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": "---\ntitle: A\ncategories: [Thị giác]\n---\n"
                                                 "Đoạn\n- không phải danh sách\n\n## Tích chập\n"})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0
    page = soup(tmp_path / "o/2020/01/01/a/index.html")
    assert page.select_one(".post-body ul") is None and page.select_one(".post-body h2")["id"] == "tich-chap"


def test_definition_lists_and_abbreviations() -> None:
    doc = kramdown_html("CNN\n: mạng tích chập\n\nDùng HTML ở đây.\n\n*[HTML]: HyperText Markup Language\n")
    assert doc.find("dt").get_text() == "CNN" and doc.find("dd").get_text() == "mạng tích chập"
    assert doc.find("abbr")["title"] == "HyperText Markup Language"


def test_kramdown_settings_reach_the_reader_and_its_cache(tmp_site, tmp_path: Path) -> None:
    """`kramdown:` in _config.yml changes the pages, also when the render cache is warm."""
    posts = {"_posts/2020-01-01-a.md": "---\ntitle: A\n---\n* TOC\n{:toc}\n\n## Hai\n\n### Ba\n\n"
                                       "```python\nx = 1\n```\n"}
    config = "title: T\nmarkdown: kramdown\nkramdown:\n  toc_levels: 2..3\n"
    source = tmp_site(posts, config)
    out = tmp_path / "o"
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    page = next(p for p in out.rglob("*.html") if "2020" in p.as_posix())
    assert [a["href"] for a in soup(page).select("#markdown-toc a")] == ["#hai", "#ba"]
    assert soup(page).select_one(".post-body td.linenos") is None
    (source / "_config.yml").write_text(config.replace("2..3", "2..2") + "  syntax_highlighter_opts:\n"
                                        "    block:\n      line_numbers: true\n", encoding="utf-8")
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    assert [a["href"] for a in soup(page).select("#markdown-toc a")] == ["#hai"]
    assert soup(page).select_one(".post-body td.linenos") is not None
