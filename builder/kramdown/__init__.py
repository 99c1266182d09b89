"""Reading posts as Jekyll's kramdown (GFM input, Jekyll's defaults) reads them, for sites whose
`_config.yml` says `markdown: kramdown`: an existing Jekyll blog builds without touching its posts.

`blocks` reads the block level, `spans` the text inside each block, `output` settles ids, the table
of contents and footnotes and writes HTML. Math leaves as `<span class="arithmatex">\\(TeX\\)</span>`
and `<div class="arithmatex">\\[TeX\\]</div>`, the TeX exactly as written.
"""

from __future__ import annotations

import re
from typing import Any

from builder.kramdown.blocks import BlockParser, Document
from builder.kramdown.output import Converter, HeadingInfo, Options
from builder.kramdown.serialize import serialize
from builder.kramdown.typography import quotes_setting

__all__ = ["KramdownReader", "options_from_config", "to_html"]


def options_from_config(settings: Any) -> Options:
    """Options from the `kramdown:` mapping of `_config.yml` (Jekyll's defaults otherwise)."""
    settings = settings if isinstance(settings, dict) else {}
    options = Options()
    if "auto_ids" in settings:
        options.auto_ids = bool(settings["auto_ids"])
    if "toc_levels" in settings:
        options.toc_levels = _levels(settings["toc_levels"])
    if settings.get("parse_block_html") in (True, "true"):
        options.parse_block_html = True
    if str(settings.get("footnote_nr", "1")).isdigit():
        options.footnote_nr = int(settings.get("footnote_nr", 1))
    if "smart_quotes" in settings:
        options.smart_quotes = quotes_setting(settings["smart_quotes"])
    highlighter = settings.get("syntax_highlighter_opts")
    if isinstance(highlighter, dict):
        block = highlighter.get("block") if isinstance(highlighter.get("block"), dict) else {}
        options.line_numbers = bool(block.get("line_numbers", highlighter.get("line_numbers", False)))
    return options


def _levels(value: Any) -> frozenset[int]:
    """`1..3`, `2..6`, `[2, 3]`, `1,2,3` or `3` -> the heading levels."""
    if isinstance(value, int):
        return frozenset([value])
    if isinstance(value, (list, tuple)):
        return frozenset(int(v) for v in value if str(v).isdigit())
    text = str(value)
    if (match := re.fullmatch(r"\s*(\d)\s*\.\.\.?\s*(\d)\s*", text)) is not None:
        return frozenset(range(int(match.group(1)), int(match.group(2)) + 1))
    return frozenset(int(v) for v in re.findall(r"\d", text)) or frozenset(range(1, 7))


def parse(text: str, options: Options) -> tuple[Any, list[HeadingInfo]]:
    """The document's ElementTree (its root holds the body) and its headings."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    document = Document(options={"parse_block_html": "true"} if options.parse_block_html else {})
    lines = text.split("\n")
    if lines and not lines[-1]:
        lines.pop()  # the last line's line break ends it; no blank line after it
    blocks = BlockParser(document).parse(lines)
    converter = Converter(document, options)
    return converter.convert(blocks), converter.headings


def to_html(text: str, options: Options | None = None) -> str:
    root, _ = parse(text, options or Options())
    return serialize(root)


class KramdownReader:
    """What `builder.markdown` renders a document with when a site reads as kramdown."""

    def __init__(self, options: Options, decorate=None):
        self.options = options
        self.decorate = decorate  # called with the ElementTree root before it is written

    def convert(self, text: str) -> tuple[str, list[HeadingInfo]]:
        root, headings = parse(text, self.options)
        if self.decorate is not None:
            self.decorate(root)
        return serialize(root), headings
