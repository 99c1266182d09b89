"""Property-based: whatever a post contains, the build succeeds or stops with the project's
own error naming the file; never a raw traceback, never a partial site."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import tempfile
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder.build import build
from builder.config import load_config
from builder.errors import BuildError

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


def snapshot(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


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
        before = snapshot(config.destination)
        for name, data in files:
            (source / "_posts" / name).write_bytes(data)
        try:
            result = build(dataclasses.replace(config, future=True))
        except BuildError as err:
            assert err.path is not None, str(err)
            assert str(err).startswith(str(err.path)), str(err)
            assert snapshot(config.destination) == before
            assert not [p for p in root.iterdir() if p.name.startswith("._site")]
            return
        assert (config.destination / "index.html").is_file()
        assert result.posts >= 1 and datetime.now() is not None
