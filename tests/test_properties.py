"""Property-based: whatever a post contains, the build succeeds or stops with the project's
own error naming the file; never a raw traceback, never a partial site."""

from __future__ import annotations

import dataclasses
import os
import tempfile
import unicodedata
from datetime import UTC, date
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.build import build
from builder.config import load_config
from builder.errors import BuildError
from builder.liquid import LiquidRenderer
from builder.model import LinkTables
from tests.helpers import tree

# 2,000 examples under CI (about 3 minutes here); fewer on a developer's machine unless asked.
EXAMPLES = int(os.environ.get("PROPERTY_EXAMPLES", "2000" if os.environ.get("CI") == "true" else "300"))
FRAGMENTS = [
    "{{ site.title }}", "{{ page.title }}", "{% if page.title %}", "{% endif %}",
    "{% for p in site.posts %}", "{% endfor %}", "{% raw %}", "{% endraw %}", "{{", "}}", "{%", "%}",
    "$x_i$", "$$", "\\(", "\\)", "$$\\begin{aligned} a &= b \\\\ c \\end{aligned}$$", "```", "```python\n",
    "\n# Tiêu đề\n", "\n## Đức\n", "![a](/b.png)\n\n_chú thích_\n", '{% include youtube.html id="x" %}',
    "<script>alert(1)</script>", "\u202eRTL", "e\u0301", "😀", "\x00", "\x1b[31m", "***", ":3",
    "[link](#neo)", "| a | b |\n|---|---|\n", "{% post_url 2020-01-01-a %}", "{% include ../x %}",
    "{: .lop}", "\r\n", "\t    code\n",
]
YAML_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
              st.dates(), st.datetimes(timezones=st.just(UTC))),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=5), children, max_size=3)),
    max_leaves=6)
FILE_CHARS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\")


@st.composite
def posts(draw) -> tuple[str, bytes]:
    day = draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2030, 12, 31)))
    slug = draw(st.text(FILE_CHARS, min_size=1, max_size=12)).strip(".") or "x"
    slug = unicodedata.normalize(draw(st.sampled_from(["NFC", "NFD"])), slug)
    name = draw(st.sampled_from([f"{day.isoformat()}-{slug}.md", f"{slug}.md", "2018-02-30-x.md"]))
    front = {key: draw(YAML_VALUES) for key in draw(st.lists(
        st.sampled_from(["title", "categories", "tags", "date", "published", "permalink", "description",
                         "background", "mathjax", "layout", "slug", "category"]), unique=True, max_size=6))}
    body = "".join(draw(st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=12)))
    try:
        header = yaml.safe_dump(front, allow_unicode=True)
    except yaml.YAMLError:
        header = "title: x\n"
    if draw(st.booleans()) and draw(st.booleans()):
        header = draw(st.text(max_size=40))  # raw, possibly malformed YAML
    text = f"---\n{header}---\n{body}"
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-16", "latin-1"]))
    return name, text.encode(encoding, errors="replace")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(posts(), min_size=1, max_size=3))
def test_any_post_builds_or_fails_cleanly(files: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source = root / "site_src"
        (source / "_posts").mkdir(parents=True)
        (source / "_config.yml").write_text("title: Thử\nurl: https://e.github.io\n", encoding="utf-8")
        config = load_config(source)
        (source / "_posts" / "2020-01-01-goc.md").write_text("---\ntitle: Gốc\n---\nGốc.\n", encoding="utf-8")
        build(config)  # a good site first: a failing build must leave it exactly as it is
        before = tree(config.destination)
        for name, data in files:
            (source / "_posts" / name).write_bytes(data)
        try:
            result = build(dataclasses.replace(config, future=True))
        except BuildError as err:
            assert err.path is not None, str(err)
            assert str(err).startswith(str(err.path)), str(err)
            assert tree(config.destination) == before
            assert not [p for p in root.iterdir() if p.name.startswith("._site")]
            return
        assert (config.destination / "index.html").is_file()
        cards = (config.destination / "index.html").read_text(encoding="utf-8").count('class="post-card"')
        assert result.posts >= 1 and cards == result.posts  # the home page lists every post built


# --- every Liquid filter, given anything -----------------------------------------------------

FILTER_EXAMPLES = int(os.environ.get("FILTER_EXAMPLES", "200" if os.environ.get("CI") == "true" else "40"))
RENDERER = LiquidRenderer(LinkTables({}, {}, Path("/nowhere/_includes")), baseurl="/blog", url="https://x.io")
FILTERS = sorted(RENDERER.env.filters)
ANYTHING = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-10**20, max_value=10**20),
              st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
              st.sampled_from(["", "2018-06-28", "2018-06-28 10:00:00 +0700", "Bài thử", "%Y-%m-%d", "a,b"]),
              st.dates(), st.datetimes(), st.datetimes(timezones=st.just(UTC))),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=4), children, max_size=3)),
    max_leaves=5)


@pytest.mark.parametrize("name", FILTERS)
@settings(max_examples=FILTER_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(value=ANYTHING, arguments=st.lists(ANYTHING, max_size=3))
def test_no_filter_argument_ends_in_a_raw_traceback(name: str, value, arguments: list) -> None:
    """Dates, strings, numbers, nil, lists and maps, as the value and as arguments: a filter
    gives text or a BuildError placed at the statement's file and line, nothing else."""
    names = [f"a{i}" for i in range(len(arguments))]
    text = "Dòng đầu.\n{{ v | " + name + (": " + ", ".join(names) if names else "") + " }}"
    source = Path("/site/_posts/2020-01-01-x.md")
    try:
        out = RENDERER.render(text, {"v": value, **dict(zip(names, arguments, strict=True))}, source, 7)
    except BuildError as err:
        assert (err.path, err.line) == (source, 8), str(err)
        assert str(err).startswith(f"{source}:8: Liquid: ") and "\n" not in str(err), str(err)
        return
    assert isinstance(out, str)


CODE_FRAGMENTS = ["```", "~~~", "`", "``", "    ", "\t", "   ", "\n", "\n\n", "- ", "1. ", "x", "{{ a }}",
                  "  ~~", "code",
                  *"\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"]  # every other line end str.splitlines knows


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(st.sampled_from(CODE_FRAGMENTS), max_size=24).map("".join))
def test_prose_without_code_skips_the_search_for_code(text: str) -> None:
    """The shortcut for text that cannot hold code gives what the line-by-line search gives."""
    from builder import codeblocks

    def outside(chunk: str) -> str:
        return f"<{chunk}>"

    def code(chunk: str) -> str:
        return f"[{chunk}]"

    assert codeblocks.map_outside_code(text, outside, code) == codeblocks._map_pieces(text, outside, code)


def _one_pattern_at_a_time(source: Path, patterns: tuple[str, ...], entry: str) -> bool:
    """Jekyll's `glob_include?` read pattern by pattern: a glob, a prefix, or a folder named
    with a trailing `/`."""
    from fnmatch import fnmatchcase

    path = entry.strip("/")
    for pattern in (p.lstrip("/") for p in patterns):
        if pattern and (fnmatchcase(path, pattern) or path.startswith(pattern)
                        or pattern == path + "/" and (source / path).is_dir()):
            return True
    return False


PATTERN_PARTS = st.sampled_from(["a", "b", "_", ".", "*", "?", "/", "[a]", "[!b]", "[", "~", "#", "_posts",
                                 "basic", "basic/", "math/", "vendor/bundle/", "x.md"])


@given(include=st.lists(st.lists(PATTERN_PARTS, max_size=4).map("".join), max_size=3),
       exclude=st.lists(st.lists(PATTERN_PARTS, max_size=4).map("".join), max_size=4),
       entries=st.lists(st.lists(PATTERN_PARTS, min_size=1, max_size=5).map("".join), min_size=1, max_size=8))
@settings(max_examples=EXAMPLES, deadline=None)
def test_include_and_exclude_patterns_match_as_one_at_a_time(include, exclude, entries) -> None:
    """All of a site's patterns tried at once (one regular expression) keep and leave out what
    trying them one by one does."""
    from builder.entries import EntryFilter

    source = Path(__file__).parent / "sites"  # a folder with subfolders, for `name/` patterns
    entry_filter = EntryFilter.of(source, tuple(include), tuple(exclude))
    for entry in [*entries, "basic", "basic/", "math"]:
        for patterns in (entry_filter.include, entry_filter._excluded_only):
            assert entry_filter._matches(patterns, entry) == _one_pattern_at_a_time(source, patterns, entry)
