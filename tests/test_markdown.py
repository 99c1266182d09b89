from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from builder.markdown import make_markdown, render_markdown


@pytest.fixture(scope="module")
def md():
    return make_markdown()


def html(md, text: str) -> BeautifulSoup:
    return BeautifulSoup(render_markdown(md, text).html, "html.parser")


def test_image_then_emphasis_line_is_a_figure(md) -> None:
    doc = html(md, "![a](/x.png)\n\n_Chú thích [có link](/y)_\nPhần còn lại.\n")
    figure = doc.find("figure")
    assert figure.img["src"] == "/x.png"
    assert figure.figcaption.get_text() == "Chú thích có link"
    assert figure.figcaption.a["href"] == "/y"
    assert doc.find("p").get_text() == "Phần còn lại."


def test_emphasis_followed_by_text_on_the_same_line_is_not_a_caption(md) -> None:
    doc = html(md, "![a](/x.png)\n\n_nhấn mạnh_ rồi viết tiếp\n")
    assert doc.find("figure") is None


def test_image_with_text_stays_inline(md) -> None:
    doc = html(md, "Chữ trước\n![a](/x.png)\n\n_Không phải chú thích_\n")
    assert doc.find("figure") is None and doc.find("p").img is not None


def test_indented_headings_and_literal_text(md) -> None:
    doc = html(md, "   ## Tiêu đề thụt lề\n\nnhư *** ấy :3 :)))\n\n```\n  # not a heading\n```\n")
    assert doc.find("h2").get_text() == "Tiêu đề thụt lề"
    assert doc.find("h2")["id"] == "tieu-de-thut-le"
    assert "như *** ấy :3 :)))" in doc.get_text()
    assert "  # not a heading" in doc.find("pre").get_text()


def test_duplicate_headings_get_unique_ids(md) -> None:
    doc = html(md, "## Đức\n\n## Đức\n")
    assert [h["id"] for h in doc.find_all("h2")] == ["duc", "duc_1"]


def test_rendered_facts(md) -> None:
    rendered = render_markdown(md, "Một hai ba $x$.\n\n## A\n\n![i](/i.png)\n")
    assert rendered.has_math and rendered.words >= 4
    assert [h.id for h in rendered.headings] == ["a"]
    assert rendered.images == ("/i.png",)
    assert rendered.excerpt.startswith("Một hai ba")


def test_the_excerpt_is_plain_text_without_urls_or_markdown_marks(md) -> None:
    text = ("Mở đầu :3 với max_pooling và C++\n*Bài tham khảo (dịch từ https://example.com/a-b_c) "
            "và www.example.org/x, **đậm** _nghiêng_ # không phải tiêu đề")
    excerpt = render_markdown(md, text + "\n\nĐoạn hai.\n").excerpt
    assert excerpt == ("Mở đầu :3 với max_pooling và C++ Bài tham khảo (dịch từ) và , đậm nghiêng "
                       "không phải tiêu đề")


def test_a_placeholder_title_gives_way_to_the_figures_declared_text() -> None:
    from builder.model import Provenance

    made = Provenance(script="figures/f.py", href="/figures/f.py", device="CPU", seconds=1.0, alt="Hình thật",
                      note='<details class="provenance"><summary>n</summary></details>')
    figures = make_markdown({"/f.jpg": made, "/g.jpg": made})
    doc = html(figures, '![an image alt text](/f.jpg "an image title")\n\n![x](/g.jpg "Tên thật")\n\n'
                        '![y](/other.jpg "an image title")\n')
    f, g, other = doc.find_all("img")
    assert (f["alt"], f.get("title")) == ("Hình thật", None)
    assert g.get("title") == "Tên thật"  # a real title stays
    assert other.get("title") == "an image title"  # not a generated figure: the post's own business


# --- math never inside an attribute, never across blocks -------------------------------------

def test_math_markup_never_lands_in_an_attribute(md) -> None:
    doc = html(md, '[b](/p$x$q "t $w$") ![alt $y$ *em*](/i_j.png "t $z$") <a href="/x$y$z" title="$t$">a</a>'
                   " và $k$\n")
    links = doc.find_all("a")
    assert [a["href"] for a in links] == ["/p$x$q", "/x$y$z"]
    assert (links[0]["title"], links[1]["title"]) == ("t $w$", "$t$")
    assert (doc.img["alt"], doc.img["title"]) == ("alt $y$ *em*", "t $z$")
    assert [m.get_text() for m in doc.select(".arithmatex")] == [r"\(k\)"]


def test_double_dollars_inside_a_line_are_one_formula(md) -> None:
    doc = html(md, "Với $$\\sum_i x_i$$ và $y$.\n")
    assert [m.get_text() for m in doc.select(".arithmatex")] == [r"\[\sum_i x_i\]", r"\(y\)"]
    assert "$" not in doc.get_text()


def test_math_is_found_inside_one_block(md) -> None:
    doc = html(md, "Lạc $$a và $b\n\n## Tiêu đề\n\n- mục c$\n\nmở $$ rồi\n")
    assert doc.h2.get_text() == "Tiêu đề" and doc.li.get_text() == "mục c$"
    assert doc.select(".arithmatex") == []
