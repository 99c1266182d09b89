from __future__ import annotations

from pathlib import Path

import pytest

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
