"""The shortcuts through Python-Markdown (builder/markdown_speed.py) change no byte of output:
every document here is rendered by the site's converter and by Python-Markdown configured the
same way without them, in the same run, and the results compared."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from markdown.util import AtomicString

from builder import markdown_speed
from builder.markdown import _python_markdown, make_markdown, render_markdown
from builder.model import Provenance

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "2000" if os.environ.get("CI") == "true" else "300"))

MADE = Provenance(script="figures/f.py", href="/figures/f.py", device="CPU", seconds=1.0, alt="Hình thật",
                  width=640, height=480, note='<details class="provenance"><summary>n</summary></details>',
                  sources=(("image/webp", "/f-320.webp 320w, /f.webp 640w", "", "100vw", 640, 480),))
PROVENANCE = {"/f.jpg": MADE, "/images/post2/1.jpg": MADE}


def _size(src: str) -> tuple[int, int] | None:
    return (10, 20) if src.endswith(".png") else None


def converters():
    """(with the shortcuts, without them): the same extensions, settings and figures."""
    return (make_markdown(PROVENANCE, image_size=_size, footnote_backlink="Quay lại"),
            _python_markdown(PROVENANCE, _size, "Quay lại", shortcuts=False))


@pytest.fixture(scope="module")
def pair():
    return converters()


def assert_same(pair, text: str) -> None:
    fast, plain = pair
    assert render_markdown(fast, text) == render_markdown(plain, text)


# Each inline pattern and block processor of the configuration, where it matches, where it nearly
# does, nested in the others, and text that looks like Python-Markdown's own placeholders.
TRICKY = [
    "",
    "\n\n\n",
    "Chữ thường, không có gì đặc biệt.\nDòng hai.",
    "*nghiêng* **đậm** ***cả hai*** _a_ __b__ ___c___ *không đóng **lồng *nhau* trong** x*",
    "max_pooling và snake_case_name, C++ và a*b*c, 2 * 3 * 4, _ a _ * b *",
    "`code` ``co`de`` `không đóng \\`thoát\\` \\\\`sau hai gạch`",
    "[link](/a \"tiêu đề\") [ref][r] [r] [r][] ![ảnh](/b.png) ![ref ảnh][r] ![r]\n\n[r]: /ref \"T\"\n",
    "[lồng [ngoặc] trong](/x) [không đóng](/y [a]( /z ) [](/rỗng) ![](/img.png)",
    "<http://example.com/a?b=c&d> <https://x.y> <me@example.com> <not a link> <a href=\"/x\">html</a>",
    "https://towardsdatascience.com/abc_def-1 và www.Example.org/x, WWW.X.COM, ftp://f.org mail a.b@c.de",
    "&amp; &copy; &#169; &#xA9; & lẻ, AT&T, &khong;",
    "dòng ngắt  \ndòng sau   \n  và\\\ntiếp",
    "\\*không\\* \\_nhấn\\_ \\[ \\] \\# \\$5 \\\\ \\( \\) \\{ \\}",
    # escaped characters in attributes: link destinations and titles, alt texts, heading ids
    "Xem [mục](#-\\\\\\alpha-\\\\-sets), [a](/x\\_y \"t\\*\") ![b\\*](/i\\_j.png \"\\[t\\]\")\n\n"
    "[r][] <http://x.y/\\_a>\n\n## Tiêu \\*đề\\* \\#1\n\n[r]: /r\\_e \"\\\"q\\\"\"\n",
    "Toán $a_i * b_j$ và $\\sigma(x) = 1/(1+e^{-x})$, $$\\sum_i x_i$$ giữa dòng,"
    " \\(x\\) và \\[y\\], $5 và $6",
    "$$\n\\begin{aligned} a &= b \\\\ c \\end{aligned}\n$$\n\n\\begin{equation}x\\end{equation}\n\n\\[z\\]\n",
    "[b](/p$x$q \"t $w$\") ![alt $y$ *em*](/i_j.png \"t $z$\") <a href=\"/x$y$z\" title=\"$t$\">a</a> và $k$",
    "Chú thích[^1] và[^ghi-chu].\n\n[^1]: Một *ghi chú*.\n[^ghi-chu]: Hai,\n    tiếp tục.\n",
    "# Tiêu đề 1\n## Tiêu đề *2* `x`\n### Ba #\n#### Bốn\n   ## Thụt lề\n#Không phải\n",
    "Setext một\n==========\n\nSetext hai\n---\n\nkhông phải\n= = =\n",
    "---\n\n***\n\n_ _ _\n\n- - -\n\n-- không --\n",
    "1. một\n2. hai\n    - lồng *a*\n    - b\n3. ba\n\n* x\n+ y\n- z\n\n10. mười\n1.không",
    "> trích *dẫn*\n> > lồng\n>không cách\n\n> - danh sách\n> 1. số",
    "    mã thụt lề\n    # không phải tiêu đề\n\n\tmã tab\n",
    "```python\nx = 1  # `code`\n```\n\n~~~\n*không*\n~~~\n\n````\n```\nlồng\n```\n````\n",
    "| a | b |\n|---|:-:|\n| *1* | [2](/x) |\n\na | b\n--|--\n1 | 2\n\n| một |\n| --- |\n| cột |\n",
    "<div class=\"x\">\n*không markdown*\n</div>\n\n"
    "<details><summary>S</summary>\n\nBên *trong*\n</details>\n",
    "<!-- chú thích -->\n\n<script>var a = 1 < 2 && b;</script>\n\n<iframe src=\"/y\"></iframe>\n",
    "![a](/x.png)\n\n_Chú thích [có link](/y)_\nPhần còn lại.\n\n"
    "![an image alt text](/f.jpg \"an image title\")\n\n*Hình tạo ra*\n",
    "Chữ \x02klzzwxh:0000\x03 và \x02wzxhzdk:0\x03 và \x0242\x03, klzzwxh:12 wzxhzdk:3",
    "[TOC]\n\n# A\n\n## B",
    "Trộn *đậm [link *lồng* `mã`](/u) $x*y$* và **[a](/b)** <span>*x*</span> &amp; `<b>`",
    "a  \n<br>\n\n<b>*đậm*</b> _<i>x</i>_ [<em>e</em>](/l)",
    "[^không có]\n\n[^1]:\n\n[chỉ]: \n\n[x]: <> \"\"",
    "![](/images/post2/1.jpg)\n\n_Mô tả_ rồi chữ\n\n![](/g.png)\n_Ngay dưới_\n",
    "* mục\n\n    đoạn trong mục\n\n        mã trong mục\n\n* mục hai\n",
    "\r\nCRLF\r\ndòng\r\n\r\n# h\r\n",
]


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_documents_render_the_same(pair, text: str) -> None:
    assert_same(pair, text)


def test_the_seed_post_and_the_corpus_math_render_the_same(pair) -> None:
    body = (ROOT / "site_src/_posts/2018-06-28-cnn-co-gi-do-sai-sai.md").read_text(encoding="utf-8")
    body = body.split("---\n", 2)[2]
    math = ("\n\nCông thức: $a_i * b_j$ và $\\sigma(x) = 1/(1+e^{-x})$.\n\n$$\\begin{aligned} "
            "L &= -\\sum_i y_i \\log p_i \\\\ p &= \\mathrm{softmax}(z) \\end{aligned}$$\n")
    assert_same(pair, body)
    assert_same(pair, body + math)


def test_one_converter_renders_many_documents_as_fresh_ones_do(pair) -> None:
    """State left by one document (footnotes, references, heading ids) never reaches the next."""
    fast, _ = pair
    for text in TRICKY:
        render_markdown(fast, text)
    for text in TRICKY:
        assert render_markdown(fast, text) == render_markdown(converters()[1], text)


# --- random documents ---------------------------------------------------------------------

MARKS = "*_`[]()!<>&\\$^~#|:/@.-=+ \n\t\"'0123456789{}"
PIECES = ["](/a\\_b \"\\*\")", "](#\\\\x)", "\\_", "\\*", "\\`",
          "*", "**", "_", "__", "`", "``", "[", "]", "](", ")", "![", "[^", "]:", "<", ">", "</", "&",
          "&amp;", "\\", "$", "$$", "\\(", "\\)", "\\[", "\\]", "#", "## ", "|", "---", "===", "- ", "* ",
          "1. ", "> ", "    ", "\n", "\n\n", "  \n", "```", "~~~", "http://", "https://a.b/c", "www.",
          "@", "a@b.co", "<a href=\"/x\">", "</a>", "<div>", "</div>", "<br>", "<!--", "-->", "\x02", "\x03",
          "klzzwxh:", "wzxhzdk:", "\\begin{aligned}", "\\end{aligned}", "[TOC]", "[r]: /u \"t\"",
          "![a](/x.png)\n\n_c_\n", "chữ", "Đức", "x", " "]
DOCUMENTS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(alphabet=MARKS + "aăb", max_size=8)),
                     max_size=40).map("".join)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=DOCUMENTS)
@example(text="a *b \x02klzzwxh:0000\x03 c* d")
def test_random_documents_render_the_same(pair, text: str) -> None:
    assert_same(pair, text)


# --- what each shortcut relies on ---------------------------------------------------------

def test_the_shortcuts_are_in_place_and_know_every_pattern_and_block_processor(pair) -> None:
    """Else the comparisons above would compare the library with itself. A pattern or block
    processor the tables do not name is always tried (correct, but a newer library version
    should get its entry)."""
    fast, plain = pair
    inline = fast.treeprocessors["inline"]
    assert isinstance(inline, markdown_speed.SkippingInlineProcessor)
    assert not isinstance(plain.treeprocessors["inline"], markdown_speed.SkippingInlineProcessor)
    assert "parseBlocks" in vars(fast.parser) and "parseBlocks" not in vars(plain.parser)
    assert isinstance(fast.treeprocessors["unescape"], markdown_speed.SkippingUnescape)
    assert isinstance(fast.postprocessors["raw_html"], markdown_speed.SkippingRawHtml)
    assert "is_block_level" in vars(fast) and "is_block_level" not in vars(plain)
    unknown_inline = [type(p).__name__ for p, needs in zip(inline.inlinePatterns, inline.needs, strict=True)
                      if needs is None]
    unknown_blocks = [type(p).__name__ for p, needs in markdown_speed.needs_of(
        fast.parser.blockprocessors, markdown_speed.BLOCK_NEEDS) if needs is None]
    assert unknown_inline == []
    assert unknown_blocks == ["EmptyBlockProcessor", "ParagraphProcessor"]  # tests cheaper than any need


TEXTS = st.text(alphabet=MARKS + "aăbwW", max_size=30)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TEXTS)
def test_an_inline_pattern_never_matches_text_without_what_it_needs(pair, text: str) -> None:
    inline = pair[0].treeprocessors["inline"]
    for pattern, needs in zip(inline.inlinePatterns, inline.needs, strict=True):
        if not markdown_speed.holds(needs, text):
            assert next(pattern.compiled_re.finditer(text), None) is None, type(pattern).__name__


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(block=TEXTS)
@example(block="-  -  -")
@example(block="a\n _  _  _")
@example(block="*  *  *  ")
def test_a_block_processor_never_takes_a_block_without_what_it_needs(block: str) -> None:
    md = converters()[0]
    md.reset()
    for processor, needs in markdown_speed.needs_of(md.parser.blockprocessors, markdown_speed.BLOCK_NEEDS):
        if markdown_speed.holds(needs, block):
            continue
        parent = ET.Element("div")
        blocks = [block, "next"]
        if processor.test(parent, block):
            assert processor.run(parent, blocks) is False, type(processor).__name__
            assert blocks == [block, "next"] and len(parent) == 0 and not parent.text


def test_a_library_without_the_private_method_gets_no_shortcut(monkeypatch) -> None:
    from markdown.treeprocessors import InlineProcessor

    monkeypatch.delattr(InlineProcessor, "_InlineProcessor__handleInline")
    md = make_markdown()
    assert not isinstance(md.treeprocessors["inline"], markdown_speed.SkippingInlineProcessor)


def test_an_older_library_keeps_its_own_inline_processor(monkeypatch) -> None:
    import markdown

    assert isinstance(make_markdown().treeprocessors["inline"], markdown_speed.SkippingInlineProcessor)
    monkeypatch.setattr(markdown, "__version_info__", (3, 11, 0, "final", 0))
    assert not isinstance(make_markdown().treeprocessors["inline"], markdown_speed.SkippingInlineProcessor)



# --- the HTML writer, the bracket search and the word count against what they replace ------

def _tricky_tree() -> ET.Element:
    """Every case the library's writer tells apart: void and raw-text tags in any case, boolean,
    valueless and escaped attributes (in unsorted order), entities kept, a comment, an element
    without a tag, a QName, text and tails everywhere."""
    root = ET.Element("div")
    root.text = "a & b &amp; &#169; &#xA9; &khong; < > \" '"
    p = ET.SubElement(root, "p", {"title": 'x "y" & <z> &amp;', "id": "p1", "class": "c"})
    p.text = "t\x02klzzwxh:0\x03"
    ET.SubElement(p, "BR").tail = "after <br>"
    img = ET.SubElement(p, "img", {"src": "/a b.png?x=1&y=2", "alt": "", "hidden": "hidden",
                                   "open": "x", "async": None})
    img.text = "text in a void element"
    ET.SubElement(img, "span").text = "child of a void element"
    img.tail = "tail"
    script = ET.SubElement(root, "Script")
    script.text = "if (a < b && c > d) {}"
    ET.SubElement(root, "style").text = "a > b { content: '&' }"
    ET.SubElement(root, "pre").text = AtomicString("<code> & </code>")
    root.append(ET.Comment(" a -- comment & "))
    nameless = ET.SubElement(root, None)
    nameless.text = "nameless & text"
    ET.SubElement(nameless, "em").text = "in it"
    nameless.tail = "nameless tail"
    ET.SubElement(root, ET.QName("{urn:x}q")).text = "qname"
    root.tail = "root tail &"
    return root


def test_the_html_writer_writes_what_the_librarys_does_on_a_tricky_tree() -> None:
    from markdown.serializers import to_html_string

    root = _tricky_tree()
    assert markdown_speed.to_html_string(root) == to_html_string(root)
    for element in root.iter():  # each subtree alone, tails included; most take the fast walk
        assert markdown_speed.to_html_string(element) == to_html_string(element)


def test_the_html_writer_writes_a_tree_deeper_than_the_recursion_limit() -> None:
    from markdown.serializers import to_html_string

    root = element = ET.Element("div")
    for _ in range(3000):
        element = ET.SubElement(element, "span")
        element.text = "x"
    assert markdown_speed.to_html_string(root) == to_html_string(root)


def test_the_converter_writes_with_the_fast_writer(pair) -> None:
    fast, plain = pair
    assert fast.serializer is markdown_speed.to_html_string
    assert plain.serializer is not markdown_speed.to_html_string


TAGS = st.sampled_from(["p", "br", "BR", "img", "script", "STYLE", "em", "code", "hr", "Source"])
ATTRIBUTES = st.dictionaries(st.sampled_from(["id", "class", "open", "hidden", "title", "src", "async"]),
                             st.one_of(st.none(), st.sampled_from(["open", "hidden", "async"]),
                                       st.text(alphabet="a&;#<>\"' \n\x02\x03", max_size=6)))
TEXT = st.one_of(st.none(), st.text(alphabet="a&;#x<>\"' \n\x02\x03", max_size=8))


@st.composite
def trees(draw, tags=TAGS, texts=TEXT, attributes=ATTRIBUTES, depth: int = 0) -> ET.Element:
    """Random element trees, three levels deep at most."""
    element = ET.Element(draw(tags), draw(attributes))
    element.text, element.tail = draw(texts), draw(texts)
    if depth < 3:
        element.extend(draw(st.lists(trees(tags, texts, attributes, depth + 1), max_size=3)))
    return element


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(root=trees())
def test_the_html_writer_writes_what_the_librarys_does_on_random_trees(root: ET.Element) -> None:
    from markdown.serializers import to_html_string

    assert markdown_speed.to_html_string(root) == to_html_string(root)


BRACKETS = st.text(alphabet="[]ab\\(", max_size=20)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=BRACKETS, index=st.integers(0, 21))
def test_the_bracket_search_finds_what_the_librarys_does(data: str, index: int) -> None:
    from markdown.inlinepatterns import LinkInlineProcessor

    index = min(index, len(data))
    library = LinkInlineProcessor.getText(None, data, index)
    assert markdown_speed.bracketed_text(data, index) == library


def test_links_and_images_find_their_text_with_the_bracket_search(pair) -> None:
    fast, plain = pair
    for name in ("link", "image_link", "reference", "image_reference", "short_reference"):
        assert fast.inlinePatterns[name].getText is markdown_speed.bracketed_text
        if name in ("link", "image_link"):
            assert fast.inlinePatterns[name].getLink.__qualname__.startswith("jumping_get_link")
        assert plain.inlinePatterns[name].getText is not markdown_speed.bracketed_text


NOTE_HTML = st.lists(st.sampled_from(['<details class="provenance">', "</details>", "<p>", "a b", "<details>",
                                      '<details class="provenance"', " ", "\n"]), max_size=12).map("".join)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(html=NOTE_HTML)
def test_the_notes_are_left_out_as_the_lazy_regex_leaves_them_out(html: str) -> None:
    import re

    from builder.markdown import without_notes

    assert without_notes(html) == re.sub(r'<details class="provenance">.*?</details>', "", html, flags=re.S)


def test_notes_and_pictures_are_made_once_and_each_image_gets_its_own_copy(pair) -> None:
    fast, plain = pair
    figures = fast.treeprocessors["figure_captions"]
    text = "![](/f.jpg)\n\n_a_\n\n![](/f.jpg)\n\nchữ ![](/images/post2/1.jpg)\n"
    html = render_markdown(fast, text).html
    assert html.count('<details class="provenance">') == 3 and html.count("<picture>") == 3
    assert list(figures.notes) == [MADE.note]
    assert sorted(figures.pictures) == ["/f.jpg", "/images/post2/1.jpg"]
    assert render_markdown(fast, text) == render_markdown(plain, text)


@pytest.mark.parametrize("text", TRICKY)
def test_kramdown_notes_and_sources_written_once_give_what_their_trees_give(text: str) -> None:
    """Read as kramdown, each note and each image's <source>s go into the tree as their HTML,
    written once per build."""
    fast = make_markdown(PROVENANCE, kramdown=True, image_size=_size)
    as_trees = make_markdown(PROVENANCE, kramdown=True, image_size=_size)
    as_trees.figures.as_written = None
    document = text + "\n\n![](/f.jpg)\n\n_Chú thích_\n\n![x](/images/post2/1.jpg)\n"
    assert render_markdown(fast, document) == render_markdown(as_trees, document)
    assert render_markdown(fast, document).html.count('<details class="provenance">') >= 2


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet=" \t\n\r\x02\x03a", max_size=30))
def test_whitespace_is_normalised_as_the_library_does(pair, text: str) -> None:
    from markdown.preprocessors import NormalizeWhitespace

    fast, plain = pair
    assert isinstance(fast.preprocessors["normalize_whitespace"], markdown_speed.LineWiseWhitespace)
    lines = text.split("\n")
    assert fast.preprocessors["normalize_whitespace"].run(lines) == NormalizeWhitespace(plain).run(lines)


DESTINATIONS = st.lists(st.sampled_from(["(", ")", "'", '"', " ", "\t", "\n", "a", "<", ">", "\\", "\x02",
                                         "/x.png", " \"t\""]), max_size=16).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=DESTINATIONS, index=st.integers(0, 3))
def test_the_destination_scan_finds_what_the_librarys_does(pair, data: str, index: int) -> None:
    from markdown.inlinepatterns import LinkInlineProcessor

    fast, _ = pair
    render_markdown(fast, "x")  # the patterns' unescape reads the inline processor's state
    opened = "[" * index + "(" + data  # a destination most of the time
    for name in ("link", "image_link"):
        pattern = fast.inlinePatterns[name]
        assert pattern.getLink(opened, index) == LinkInlineProcessor.getLink(pattern, opened, index), name
        assert pattern.getLink(data, index) == LinkInlineProcessor.getLink(pattern, data, index), name


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.lists(st.sampled_from(["a", " ", "\x02", "\x03", "klzzwxh:", "0", "1", "\x02klzzwxh:0\x03"]),
                     max_size=10).map("".join))
def test_patterns_unescape_as_the_library_does(pair, text: str) -> None:
    from markdown.inlinepatterns import Pattern

    fast, _ = pair
    render_markdown(fast, "*a* `b` [c](/d)")  # leaves placeholders 0, 1, 2 in the inline stash
    for name in ("link", "image_link", "reference", "image_reference"):
        pattern = fast.inlinePatterns[name]
        assert pattern.unescape.__qualname__.startswith("skipping_unescape")
        assert pattern.unescape(text) == Pattern.unescape(pattern, text)
        atomic = AtomicString(text)
        assert type(pattern.unescape(atomic)) is type(Pattern.unescape(pattern, atomic))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet="*_~`# aăB1+\n.", max_size=20))
def test_stray_marks_are_found_as_without_the_look_ahead(text: str) -> None:
    import re

    from builder.markdown import _STRAY_MARKS

    without = re.compile(r"(?<![\w*_~`])[*_~`]+(?=\w)|(?<=\w)[*_~`]+(?![\w*_~`])"
                         r"|(?<!\S)(?:#{1,6}|[*_~`]+)(?!\S)")
    assert _STRAY_MARKS.sub("", text) == without.sub("", text)


@pytest.mark.parametrize(("note", "written"), [
    ('<details class="provenance"><summary>n &amp; m</summary><p>Vẽ <code>f.py</code></p></details>', True),
    ('<details class="provenance" id="n"><summary>n</summary></details>', False),  # toc keeps ids unique
    ('<details class="provenance"><h3>Cách vẽ</h3></details>', False),  # toc gives headings ids
    ('<details class="provenance"><p>[TOC]</p></details>', False),  # toc would put its list there
])
def test_notes_go_in_as_html_only_where_toc_and_unescaping_would_leave_them(note: str, written: bool) -> None:
    import dataclasses

    made = dataclasses.replace(MADE, note=note)
    provenance = {"/f.jpg": made}
    fast = make_markdown(provenance, image_size=_size)
    plain = _python_markdown(provenance, _size, None, shortcuts=False)
    text = "# Cách vẽ\n\n## n\n\n![](/f.jpg)\n\n_Chú thích_\n\nchữ ![](/f.jpg) chữ\n"
    assert render_markdown(fast, text) == render_markdown(plain, text)
    notes = fast.treeprocessors["figure_captions"].notes
    assert (notes[note].tag == markdown_speed.WRITTEN) is written


def test_nothing_goes_in_as_html_for_a_converter_with_another_tree_processor_after_the_figures() -> None:
    md = make_markdown(PROVENANCE, image_size=_size)
    assert markdown_speed.written_html(md) is not None
    md.treeprocessors.register(markdown_speed.SkippingUnescapeWalk(md), "another", 3)
    assert markdown_speed.written_html(md) is None


def test_a_picture_is_built_again_when_its_provenance_is_replaced() -> None:
    import dataclasses

    provenance = dict(PROVENANCE)
    md = make_markdown(provenance, image_size=_size)
    assert "/f-320.webp" in render_markdown(md, "![](/f.jpg)\n").html
    provenance["/f.jpg"] = dataclasses.replace(MADE, sources=(("image/avif", "/g.avif 640w", "", "", 0, 0),))
    html = render_markdown(md, "![](/f.jpg)\n").html
    assert "/g.avif" in html and "/f-320.webp" not in html


# --- the block level, the preprocessors and the table of contents -------------------------

# Blocks of a few lines, each some spaces, a mark that starts a block or a line, and some text.
LINES = st.tuples(st.sampled_from(["", " ", "  ", "   ", "    ", "\t"]),
                  st.sampled_from(["", "#", "##", ">", "-", "*", "+", "_", "1.", "9.", "0)", "---", "***",
                                   "___", "- - -", "=", "===", "|", "$$", "\\[", "\\begin{x}", "[^1]:",
                                   "[r]:", "\\"]),
                  st.sampled_from(["", " ", " a", "a", " chữ |", " b\\]", "]: /u", " x $$", "\\end{x}", "-"]))
LINE_STARTS = st.lists(LINES.map("".join), max_size=4).map("\n".join)
PARENTS = ("div", "li", "ul-before")  # ListIndentProcessor takes a block only inside or after a list


def _parent(kind: str) -> ET.Element:
    if kind == "ul-before":
        parent = ET.Element("div")
        ET.SubElement(ET.SubElement(parent, "ul"), "li").text = "x"
        return parent
    return ET.Element(kind)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(block=st.one_of(LINE_STARTS, TEXTS))
@example(block="a\n   ---")
@example(block="a\n   > b")
@example(block="\\[ b\\]")
@example(block="$$ x $$")
@example(block="\\begin{x} a \\end{x}")
@example(block="a | b\n--|--")
@example(block="chữ\n===")
def test_a_block_processor_never_takes_a_block_outside_its_place(block: str) -> None:
    md = converters()[0]
    md.reset()
    processors = markdown_speed.needs_of(md.parser.blockprocessors, markdown_speed.BLOCK_NEEDS)
    places = {id(processor): markdown_speed.BLOCK_PLACES.get((entry.name, type(processor).__name__))
              for entry, (processor, _) in zip(md.parser.blockprocessors._priority, processors, strict=True)}
    for processor, _ in processors:
        place = places[id(processor)]
        if place is None or markdown_speed.may_take(place, block):
            continue
        for kind in PARENTS:
            parent = _parent(kind)
            before = ET.tostring(parent)
            blocks = [block, "next"]
            if processor.test(parent, block):
                assert processor.run(parent, blocks) is False, type(processor).__name__
                assert blocks == [block, "next"] and ET.tostring(parent) == before


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(block=st.one_of(LINE_STARTS, TEXTS))
def test_one_test_for_all_places_says_what_each_place_says(block: str) -> None:
    # The converter's places, and others of each kind: a line start, plain text, any pattern.
    for places in (list(markdown_speed.BLOCK_PLACES.values()),
                   [("9", r"\n\d"), ("", r"\(\)"), ("", r"a+ b"), ("x", None)]):
        each = any(markdown_speed.may_take(place, block) for place in places)
        assert markdown_speed.any_may_take(places)(block) == each


def test_a_plain_paragraph_tries_only_the_processors_without_a_place(pair, monkeypatch) -> None:
    fast, plain = pair
    text = "Một đoạn thường: 1. không phải danh sách, a - b * c, #1 và > 2.\nDòng hai (có ngoặc)."
    tried = []
    registry = fast.parser.blockprocessors
    for entry, processor in zip(registry._priority, registry, strict=True):
        if (entry.name, type(processor).__name__) in markdown_speed.BLOCK_PLACES:
            monkeypatch.setattr(processor, "test", lambda parent, block, name=entry.name: tried.append(name))
    assert render_markdown(fast, text) == render_markdown(plain, text)
    assert tried == []


def test_every_block_processor_has_a_place_but_the_empty_blocks_and_the_paragraphs(pair) -> None:
    fast, _ = pair
    unplaced = [type(processor).__name__ for entry, processor
                in zip(fast.parser.blockprocessors._priority, fast.parser.blockprocessors, strict=True)
                if (entry.name, type(processor).__name__) not in markdown_speed.BLOCK_PLACES]
    assert unplaced == ["EmptyBlockProcessor", "ParagraphProcessor"]


FENCE_LINES = st.lists(st.text(alphabet="`~> \t\ra{}=.#", max_size=8), max_size=8)
FENCE_STATE = ("ws", "ws_len", "ws_virtual_len", "fence", "quote_level", "code", "empty_lines", "stack",
               "lang")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(lines=FENCE_LINES)
@example(lines=["~~~", "a", "~~~"])
@example(lines=["a", "  ```{.x}", "b", "  ```", ""])
@example(lines=["> ~~~~ a", "> b", "> ~~~~", "c"])
def test_the_fence_search_leaves_what_the_librarys_walk_leaves(lines: list[str]) -> None:
    fast, plain = converters()
    fast.reset()
    plain.reset()
    ours, theirs = fast.preprocessors["fenced_code_block"], plain.preprocessors["fenced_code_block"]
    assert ours.search_nested.__qualname__.startswith("skipping_fence_search")
    assert ours.run(list(lines)) == theirs.run(list(lines))
    assert [getattr(ours, name) for name in FENCE_STATE] == [getattr(theirs, name) for name in FENCE_STATE]
    assert fast.htmlStash.rawHtmlBlocks == plain.htmlStash.rawHtmlBlocks


HEADING_TEXT = st.text(alphabet="a &;#<>\"' \n\t\x02\x03x", max_size=8)


@st.composite
def headings(draw) -> ET.Element:
    heading = ET.Element(draw(st.sampled_from(["h1", "h2", "H3", "h6"])),
                         draw(st.dictionaries(st.sampled_from(["id", "class"]), HEADING_TEXT, max_size=1)))
    heading.text = draw(st.one_of(st.none(), HEADING_TEXT))
    heading.tail = draw(st.one_of(st.none(), HEADING_TEXT))
    heading.extend(draw(st.lists(trees(depth=2), max_size=2)))
    return heading


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(heading=headings(),
       placeholder=st.sampled_from(["", "\x02wzxhzdk:0\x03", "\x02amp\x03", "\x0242\x03"]))
def test_a_headings_html_and_name_are_what_toc_makes_of_them(pair, heading: ET.Element,
                                                              placeholder: str) -> None:
    from markdown.extensions.toc import render_inner_html, strip_tags

    fast, _ = pair
    render_markdown(fast, "<b>x</b> và <!-- y -->\n\n<div>z</div>\n")  # raw HTML in the stash
    heading.text = (heading.text or "") + placeholder
    library = render_inner_html(heading, fast)
    assert markdown_speed.heading_text(fast)(heading) == (library, strip_tags(library))
    heading.text, heading.tail = "a", (heading.tail or "") + placeholder.replace("42", "60")  # `<` after it
    library = render_inner_html(heading, fast)
    assert markdown_speed.heading_text(fast)(heading) == (library, strip_tags(library))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet="a <>&;#\x03\n pq/", max_size=20))
def test_the_postprocessors_leave_a_text_without_placeholders_as_it_is(pair, text: str) -> None:
    fast, plain = pair
    for md in (fast, plain):
        render_markdown(md, "<b>x</b>\n\n<div>z</div>\n\nchữ[^1]\n\n[^1]: n\n")  # something in each stash
        for postprocessor in md.postprocessors:
            assert isinstance(postprocessor, markdown_speed.PLACEHOLDER_POSTPROCESSORS)
            assert postprocessor.run(text) == text


TOC_DOCUMENTS = [
    "# A\n\n## A\n\n## A_1\n\n### A\n\n#### Sâu *hơn*\n\n# a-1\n",
    "## Tiêu đề[^1] *x* `y` &amp; <b>z</b> <!-- c -->\n\n[^1]: ghi chú\n\n## Tiêu đề\n\n## fn-1\n",
    "## \\*Thoát\\* \\_a\\_ & b < c\n\n## [link](/x) và ![ảnh](/y.png)\n\n## $x^2$ và www.example.org\n",
    "# \n\n## #\n\nSetext\n======\n\n- ## trong danh sách\n\n> ### trích\n",
    "Đoạn\n\n[TOC]\n\n# Một\n\n## Hai\n",
    "Đoạn [TOC] giữa\n\n# Một\n",
]


@pytest.mark.parametrize("text", TOC_DOCUMENTS + TRICKY)
def test_the_table_of_contents_and_heading_ids_are_the_librarys(pair, text: str) -> None:
    fast, plain = pair
    assert fast.treeprocessors["toc"].text_of is not None
    assert render_markdown(fast, text) == render_markdown(plain, text)
    assert fast.toc_tokens == plain.toc_tokens


HTML_PIECES = ["<div>", "</div>", "<DIV class=\"a b\">", "<p>", "</p>", "<span>", "</span>", "<script>",
               "</script>", "<style>", "</style>", "<!--", "-->", "<?php", "?>", "<!DOCTYPE html>",
               "<![CDATA[", "]]>", "<![x",
               "<hr>", "<hr/>", "<br>", "&amp;", "&#65", "&#x41;", "&", "&nbsp", "<", ">", "</>", "</", "<!",
               "<a href=\"x\">", "</a>", "<div\nclass='x'>", "<img src=x />", "<details>", "</details>",
               "\n", "\n\n", "   ", "  \n", "chữ", "text", "`", "*", "<b>", "</b>", "<div markdown=\"1\">"]
HTML_DOCUMENTS = st.lists(st.sampled_from(HTML_PIECES), max_size=30).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=HTML_DOCUMENTS)
@example(text="a\n\n<div>\nb\n</div>\nc <?x")
@example(text="x\n\n<script>a < b")
@example(text="<div>\n\n<p>a</p>\n</div>\nb &")
@example(text="a\n<!x\n\n<div>b</div>\n<!--")
@example(text="  \n<?php<script></details><span><div>\n  <!x<img src=x />")  # lines read after close()
def test_html_blocks_are_extracted_as_the_library_extracts_them(text: str) -> None:
    from markdown.preprocessors import HtmlBlockPreprocessor

    fast, plain = converters()
    fast.reset()
    plain.reset()
    ours = fast.preprocessors["html_block"]
    assert isinstance(ours, markdown_speed.SkippingHtmlBlock)
    lines = text.split("\n")
    assert ours.run(list(lines)) == HtmlBlockPreprocessor(plain).run(list(lines))
    assert fast.htmlStash.rawHtmlBlocks == plain.htmlStash.rawHtmlBlocks


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet="a&<ữ\n", max_size=20), positions=st.lists(st.integers(0, 22), max_size=8))
def test_the_next_mark_is_the_one_the_parsers_regex_finds(text: str, positions: list[int]) -> None:
    from markdown.htmlparser import htmlparser

    search = markdown_speed._NextMark().search
    for position in positions:
        ours, theirs = search(text, position), htmlparser.interesting_normal.search(text, position)
        assert (ours and ours.start()) == (theirs and theirs.start())


HEADING_BLOCKS = st.lists(st.sampled_from(["#", "##", "#######", " ", "a", "\\", "\n", "\n#", "chữ", "\\#"]),
                          max_size=10).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=st.lists(HEADING_BLOCKS, max_size=4))
@example(blocks=["# a", "b\n## c #", "e\n####### f", "# g\\", "#h\n# i", "# a\\\n## b", "#\n", "a\n"])
def test_the_heading_search_finds_what_the_librarys_pattern_finds(blocks: list[str]) -> None:
    from markdown.blockprocessors import HashHeaderProcessor

    fast = converters()[0]
    search = fast.parser.blockprocessors["hashheader"].RE
    assert isinstance(search, markdown_speed.HeadingSearch)
    for block in blocks + blocks[::-1]:  # each again, some right after themselves: remembered
        ours, theirs = search.search(block), HashHeaderProcessor.RE.search(block)
        assert (ours and (ours.span(), ours.groupdict())) == (theirs and (theirs.span(), theirs.groupdict()))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(alphabet="() \t\n\x1c\xa0\u2003a(ữ", max_size=16))
def test_empty_parentheses_go_as_the_two_regexes_take_them_out(text: str) -> None:
    import re

    from builder.markdown import _without_empty_parentheses

    assert _without_empty_parentheses(text) == re.sub(r"\(\s*\)", "", re.sub(r"\s+\)", ")", text))


@pytest.mark.parametrize("lines", [["a", "b"], ["a\nb", "c"], [""], [], ["chữ", "", "x y"]])
def test_lines_without_html_come_back_as_the_library_gives_them(lines: list[str]) -> None:
    from markdown.preprocessors import HtmlBlockPreprocessor

    fast, plain = converters()
    assert fast.preprocessors["html_block"].run(list(lines)) == HtmlBlockPreprocessor(plain).run(list(lines))


RAW_PIECES = ["<p>", "</p>", "\x02wzxhzdk:0\x03", "\x02wzxhzdk:1\x03", "\x02wzxhzdk:2\x03",
              "\x02wzxhzdk:9\x03", "\x02", "\x03", "wzxhzdk:", "1", "x", "ữ", "<div>", "\n"]


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.lists(st.sampled_from(RAW_PIECES), max_size=20).map("".join))
@example(text="<p>\x02wzxhzdk:0\x03</p><p>\x02wzxhzdk:1\x03</p>")
@example(text="a<p>\x02wzxhzdk:0\x03\x02wzxhzdk:2\x03</p>b")
def test_raw_html_goes_back_where_the_library_puts_it(text: str) -> None:
    from markdown.postprocessors import RawHtmlPostprocessor

    fast, plain = converters()
    for md in (fast, plain):
        md.reset()
        for html in ("<b>inline</b>", "<div>block \x02wzxhzdk:0\x03</div>", "<!-- c -->"):
            md.htmlStash.store(html)
    ours = fast.postprocessors["raw_html"].run
    assert ours.__qualname__.startswith("placeholder_regions")
    assert ours(text) == RawHtmlPostprocessor(plain).run(text)


def test_the_wide_spaces_are_every_space_outside_ascii() -> None:
    from builder.markdown import WIDE_SPACES

    assert WIDE_SPACES == "".join(chr(code) for code in range(0x80, 0x110000) if chr(code).isspace())


SPACES_AND_WORDS = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85", "\xa0", "\u2003", "\u3000",
                    "a", "ữ", "Đ", "\ud800", "\x7f", "\x80", "😀"]
SPACED = st.text(alphabet=st.sampled_from(SPACES_AND_WORDS), max_size=20)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=SPACED)
@example(text=" a  b\tc\x1cd ữ ")
def test_words_are_counted_as_split_counts_them(text: str) -> None:
    from builder.markdown import count_words

    assert count_words(text) == len(text.split())


# --- the inline stage: candidates, emphasis, links and images against the library -----------

def _describe(node) -> object:
    """What a pattern made, as something comparable: an element's tag, attributes, text, tail
    and children, or the string itself."""
    if node is None or isinstance(node, str):
        return node
    return (node.tag, sorted(node.items()), node.text, node.tail, [_describe(child) for child in node])


def _delimiter_state(pattern) -> object:
    return (list(pattern.regions), list(pattern.stack), pattern.cache_index, pattern.cache_pos,
            {token: list(delimiter.stack) for token, delimiter in pattern.delimiters.items()})


EMPHASIS = st.lists(st.sampled_from(["*", "_", "**", "__", "***", " ", "a", "ă", ".", "\n", "\x02", "*a*",
                                     "_a_", "a_b", "*a b*", " *", "* ", "_ "]), max_size=12).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=EMPHASIS)
@example(data="_Tích chập_\nrồi")
@example(data="a *b* c _d_ e")
def test_emphasis_pairs_as_the_librarys_delimiter_processor(pair, data: str) -> None:
    """Every delimiter of the text in turn, as `__applyPattern` hands them over, with whatever
    state the earlier ones left: the same elements, spans and state as the library's."""
    from markdown.inlinepatterns import DelimiterProcessor

    fast, plain = pair[0].inlinePatterns["em_strong"], pair[1].inlinePatterns["em_strong"]
    assert fast.handleMatch.__qualname__.startswith("pairing_emphasis")
    assert type(plain).handleMatch is DelimiterProcessor.handleMatch and "handleMatch" not in vars(plain)
    fast.reset()
    plain.reset()
    for match in fast.compiled_re.finditer(data):
        made = fast.handleMatch(match, data)
        expected = plain.handleMatch(match, data)
        assert (_describe(made[0]), made[1:]) == (_describe(expected[0]), expected[1:])
        assert _delimiter_state(fast) == _delimiter_state(plain)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=EMPHASIS, start=st.integers(0, 14), open_star=st.booleans(), open_underscore=st.booleans())
def test_the_delimiter_search_finds_what_the_librarys_does(pair, data: str, start: int, open_star: bool,
                                                           open_underscore: bool) -> None:
    from markdown.inlinepatterns import DelimiterProcessor

    fast = pair[0].inlinePatterns["em_strong"]
    assert fast.search.__qualname__.startswith("jumping_delimiter_search")
    fast.reset()
    for token, is_open in (("*", open_star), ("_", open_underscore)):
        if is_open:  # a delimiter left open: a closing one counts
            fast.delimiters[token].stack.append((0, 1, False, 1, 1))
    found, expected = fast.search(data, start), DelimiterProcessor.search(fast, data, start)
    fast.reset()
    assert (found and (found.span(), found.lastgroup)) == (expected and (expected.span(), expected.lastgroup))


LINKS = st.lists(st.sampled_from(["[", "]", "](", "(", ")", '"', "'", " ", "  ", "\n", "\t", "<", ">", "a",
                                  "ă", "/x.png", "t d", "\x02klzzwxh:0\x03", "\x02klzzwxh:7\x03", "!", "!["]),
                 max_size=14).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=LINKS)
@example(data='![an image alt text](/images/post2/1.jpg "Inception V3")')
@example(data="[a](/b 't') [c](  /d\n) [e](/f\t) [g](/h \"t\"\t)")
def test_links_and_images_are_made_as_the_librarys_patterns_make_them(pair, data: str) -> None:
    """Every link and image start in the text, through the plain-link regex and through the
    library's own methods (its character loops, its unescaping): the same element and span."""
    fast, plain = pair
    render_markdown(fast, "*a* `b` [c](/d)")  # placeholders 0 to 2 in both inline stashes
    render_markdown(plain, "*a* `b` [c](/d)")
    for name in ("link", "image_link"):
        mine, library = fast.inlinePatterns[name], plain.inlinePatterns[name]
        assert mine.handleMatch.__qualname__.startswith("direct_link_match")
        assert "handleMatch" not in vars(library) and "getLink" not in vars(library)
        for match in mine.compiled_re.finditer(data):
            made, expected = mine.handleMatch(match, data), library.handleMatch(match, data)
            assert (_describe(made[0]), made[1:]) == (_describe(expected[0]), expected[1:]), name


BARE_LINKS = st.lists(st.sampled_from(["w", "W", "ww", "wW", "www.", "WwW.", "http", "https", "ftp", "ftps", "://",
                                       ":/", "s", " ", "(", "*", "x", ".", "\x03", "a", "ă", "\n"]),
                      max_size=14).map("".join)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=BARE_LINKS, start=st.integers(0, 15))
@example(data="x www.a http://b", start=0)
@example(data="(https://a", start=1)
def test_bare_links_are_found_from_where_they_can_start_as_from_anywhere(pair, data: str, start: int) -> None:
    """The bare-link pattern's search starts where a match can first begin: the same matches
    as the regex searched from `start`."""
    inline = pair[0].treeprocessors["inline"]
    index = list(pair[0].inlinePatterns).index(pair[0].inlinePatterns["magic-link"])
    finder = inline.tries[index][0]
    assert finder != pair[0].inlinePatterns["magic-link"].compiled_re.finditer
    compiled = pair[1].inlinePatterns["magic-link"].compiled_re
    assert [m.span() for m in finder(data, start)] == [m.span() for m in compiled.finditer(data, start)]


BLOCK_TAGS = st.sampled_from(["div", "p", "pre", "PRE", "code", "ul", "li", "blockquote", "h2", "em", "br",
                              "hr"])
BLANKS = st.one_of(st.none(), st.sampled_from(["", " ", "\n", " \n ", "a", " a "]))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(root=trees(BLOCK_TAGS, BLANKS, st.just({})))
def test_the_whitespace_pass_gives_what_the_librarys_gives_on_random_trees(pair, root: ET.Element) -> None:
    import copy

    from markdown.serializers import to_html_string
    from markdown.treeprocessors import PrettifyTreeprocessor

    fast, plain = pair
    assert isinstance(fast.treeprocessors["prettify"], markdown_speed.QuickPrettify)
    mine, library = copy.deepcopy(root), copy.deepcopy(root)
    fast.treeprocessors["prettify"].run(mine)
    PrettifyTreeprocessor(plain).run(library)
    assert to_html_string(mine) == to_html_string(library)


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TEXTS, first=st.integers(0, 30))
def test_a_pattern_left_out_of_a_texts_candidates_holds_none_of_its_marks(pair, text: str,
                                                                         first: int) -> None:
    inline = pair[0].treeprocessors["inline"]
    first = min(first, len(inline.needs))
    chosen = [index for index, _ in inline._candidates(text, first)]
    assert chosen == sorted(chosen) and all(index >= first for index in chosen)
    for index in range(first, len(inline.needs)):
        if index not in chosen:
            assert not markdown_speed.holds(inline.needs[index], text), inline.inlinePatterns[index]


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=TEXTS, start=st.integers(0, 30), length=st.integers(0, 30), number=st.integers(0, 12000))
def test_a_placeholder_in_place_of_a_match_brings_no_mark(pair, text: str, start: int, length: int,
                                                         number: int) -> None:
    """Why a pattern left out of a text's candidates stays out after a match in it."""
    from markdown.util import INLINE_PLACEHOLDER

    inline = pair[0].treeprocessors["inline"]
    assert inline.key_of  # every mark stays absent: the candidates hold
    start = min(start, len(text))
    replaced = text[:start] + INLINE_PLACEHOLDER % f"{number:04d}" + text[start + length:]
    for mark in inline.key_of:
        assert mark in text or mark not in replaced, mark
