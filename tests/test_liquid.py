from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from liquid import Environment
from liquid.exceptions import LiquidError
from liquid.lex import get_lexer

from builder import liquid as liquid_module
from builder.codeblocks import _MAY_HOLD_CODE
from builder.config import LiquidOptions
from builder.errors import BuildError
from builder.liquid import LinkTables, LiquidRenderer


@pytest.fixture
def liquid(tmp_path: Path) -> LiquidRenderer:
    includes = tmp_path / "_includes"
    includes.mkdir()
    (includes / "hello.html").write_text("Xin chào {{ include.name }} ({{ include.n }})")
    (includes / "youtube.html").write_text("site's own {{ include.id }}")
    tables = LinkTables({"2018-06-28-slug": "/2018/06/28/slug/"},
                        {"about.md": "/about.html", "img/a.png": "/img/a.png"}, includes)
    return LiquidRenderer(tables, baseurl="/blog", url="https://x.github.io")


CTX = {"site": {"baseurl": "/blog", "title": "Blog"}, "page": {"title": "Tiêu đề", "n": 3}}


def render(liquid: LiquidRenderer, text: str) -> str:
    return liquid.render(text, CTX, Path("p.md"), first_line=4)


def test_site_and_page_variables(liquid) -> None:
    assert render(liquid, "{{ site.baseurl }}/a {{ page.title }}") == "/blog/a Tiêu đề"


def test_include_with_jekyll_arguments_prefers_the_sites_file(liquid) -> None:
    out = render(liquid, '{% include hello.html name="Lan" n=page.n %}|{% include youtube.html id="x" %}')
    assert out == "Xin chào Lan (3)|site's own x"


def test_post_url_link_and_url_filters(liquid) -> None:
    out = render(liquid, "{% post_url 2018-06-28-slug %} {% link about.md %} {{ '/x' | relative_url }} "
                         "{{ '/x' | absolute_url }}")
    assert out == "/2018/06/28/slug/ /about.html /blog/x https://x.github.io/blog/x"


def test_raw_and_code_are_untouched(liquid) -> None:
    text = ("{% raw %}{{ a }}{% endraw %} `{{ b }}`\n\n```\n{% c %}\n```\n\n"
            "    {{ indented }}\n\n~~~~\n{{ d }}\n~~~~\n")
    assert render(liquid, text) == ("{{ a }} `{{ b }}`\n\n```\n{% c %}\n```\n\n"
                                    "    {{ indented }}\n\n~~~~\n{{ d }}\n~~~~\n")


def test_list_continuation_is_not_code(liquid) -> None:
    assert render(liquid, "- item\n\n    {{ page.title }}\n") == "- item\n\n    Tiêu đề\n"


def test_line_numbers_count_code_blocks_and_front_matter(liquid) -> None:
    with pytest.raises(BuildError) as err:
        render(liquid, "```\n{% x %}\n\n```\n`{{ y }}`\n{% nope %}")
    assert str(err.value).startswith("p.md:9: Liquid: unexpected tag 'nope'")


def test_link_to_a_missing_file_is_an_error(liquid) -> None:
    with pytest.raises(BuildError, match="p.md:5: link: no file 'missing.md'"):
        render(liquid, "\n{% link missing.md %}")


# --- the shortcuts give python-liquid's own results -------------------------------------

LEXER_PIECES = ["{{", "}}", "{%", "%}", "{", "}", "%", "-", " ", "  ", "\n", "\n\n", "\r", "\t", "a", "é",
                "raw", "endraw", "comment", "endcomment", "doc", "enddoc", "if", "endif", "x", "|", "#"]
# Whitespace control next to text, a newline ending the text, raw and comment blocks.
TRICKY = [
    "{{ x -}}  abc\n", "{{ x -}}  abc\n\n", "a\n{{- x }}\n", "{{ x -}}\n", "\n", "a\n", "\n\n",
    "{{- x -}}", " {{- x -}} ", "a {%- if true -%} b {%- endif -%} c\n", "{ {{ x }} }",
    "{% raw %} {{ a }} {% endraw %}\n", "{%- raw -%} {{ a }} {%- endraw -%}\n",
    "{% comment %}{% comment %}{{ x }}{% endcomment %}x{% endcomment %}y",
    "{%- comment -%} a {%- endcomment -%}\n b", "x {{ x }}\n", "{% if true %}\n  a\n{%- endif %}\n\n",
    "é{{-x-}}é\n", "{%- for i in (1..2) -%}\n {{ i }}\n{%- endfor -%}\n",
]
UNCLOSED = ["{{{ x }}}", "{{ unclosed\n", "{% unclosed\n", "a {{ b }} {{ c", "a\n{%"]


def _tokens(lexer, text: str) -> list | str:
    try:
        return [(token.kind, token.value, token.start_index) for token in lexer(text)]
    except LiquidError as err:
        return f"{type(err).__name__}: {err}"


def test_the_faster_lexer_is_in_use() -> None:
    assert liquid_module._tokenize is not get_lexer()


@pytest.mark.parametrize("text", TRICKY + UNCLOSED)
def test_lexer_gives_python_liquids_tokens_for_tricky_text(text: str) -> None:
    assert _tokens(liquid_module._tokenize, text) == _tokens(get_lexer(), text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(LEXER_PIECES), max_size=40).map("".join))
def test_lexer_gives_python_liquids_tokens(text: str) -> None:
    assert _tokens(liquid_module._tokenize, text) == _tokens(get_lexer(), text)


@settings(max_examples=3000, deadline=None)
@given(st.text(st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029`~a"), max_size=30))
def test_the_quick_test_for_code_is_codeblocks_test(text: str) -> None:
    assert liquid_module._may_hold_code(text) == bool(_MAY_HOLD_CODE.search(text))


@pytest.mark.parametrize("text", TRICKY)
def test_documents_render_as_with_plain_python_liquid(liquid, text: str) -> None:
    plain = Environment().from_string(text).render(x="X", **CTX)
    for _ in range(2):  # the second time with the expressions the first one parsed
        assert liquid.render(text, {"x": "X", **CTX}, Path("p.md"), protect_code=False) == plain


def test_an_expression_parsed_for_an_earlier_document_fails_at_the_later_ones_line(liquid) -> None:
    text = "{{ page.when | date_to_string }}"
    assert liquid.render(text, {"page": {"when": "2018-06-28"}}, Path("a.md")) == "28 Jun 2018"
    with pytest.raises(BuildError) as err:
        liquid.render("\n\nb " + text, {"page": {"when": "soon"}}, Path("b.md"), first_line=4)
    assert str(err.value) == "b.md:6: Liquid: date_to_string: 'soon' is not a valid date or time"


def test_warnings_name_each_documents_own_line(liquid) -> None:
    for lines in range(3):
        liquid.render("\n" * lines + "{{ page.title | nofilter }}", CTX, Path("p.md"))
        assert liquid.warnings == [
            f"p.md:{lines + 1}: Liquid: unknown filter 'nofilter' skipped, as Jekyll skips it"]


def test_an_include_fails_at_its_own_line_after_documents_used_its_expressions(tmp_path: Path) -> None:
    includes = tmp_path / "_includes"
    includes.mkdir()
    (includes / "card.html").write_text("<p>\n\n{{ page.x }}</p>")
    strict = LiquidRenderer(LinkTables({}, {}, includes), options=LiquidOptions(strict_variables=True))
    assert strict.render("{{ page.x }}", {"page": {"x": 1}}, Path("a.md")) == "1"
    with pytest.raises(BuildError) as err:
        strict.render("\n{% include card.html %}", {"page": {}}, Path("b.md"))
    assert err.value.line == 3  # card.html's line (not a.md's, where `page.x` was first parsed)


def test_importing_liquid_does_not_open_every_pytz_zone_file() -> None:
    """python-liquid imports Babel, which asks pytz for the local zone; pytz used to open each
    of its ~600 zone files first to list them. The switch it offers for that is on only for
    the import."""
    import subprocess
    import sys

    script = ("import os, pytz\n"
              "opened = []\n"
              "def spy(name, _open=pytz.open_resource):\n"
              "    opened.append(name)\n"
              "    return _open(name)\n"
              "pytz.open_resource = spy\n"
              "import builder.liquid\n"
              "print(len(opened), 'PYTZ_SKIPEXISTSCHECK' in os.environ)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTZ_SKIPEXISTSCHECK"})
    assert done.returncode == 0, done.stderr
    opened, switch_left_on = done.stdout.split()
    assert int(opened) <= 2 and switch_left_on == "False"
