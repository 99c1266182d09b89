"""HTML at the block level. An element's content is read as kramdown reads it: by default as HTML
only (nested elements, text kept but escaped as kramdown escapes it, a stray end tag as text),
with `markdown="1"` (or the `parse_block_html` option) as Markdown blocks or as span text, as the
element's content model says."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from builder.kramdown import markup
from builder.kramdown.document import HTML_START, Block, is_blank, is_true

if TYPE_CHECKING:
    from builder.kramdown.blocks import BlockParser


def parse_html(parser: BlockParser, lines: list[str], i: int) -> tuple[Block, int] | None:
    match = HTML_START.match(lines[i])
    if match is None:
        return None
    text = "\n".join(lines[i:]).lstrip(" ")
    if match.group(1) == "!--":
        found = markup.COMMENT.match(text)
        if found is None:
            return None
        return _rest_of_line(Block("raw", found.group(0)), lines, i, text, found.end())
    tag = markup.START_TAG.match(text)
    if tag is None or match.group(1).lower() in markup.SPAN_ELEMENTS:
        return None
    block, end = html_element(parser, text, tag)
    return _rest_of_line(block, lines, i, text, end)


def _rest_of_line(block: Block, lines: list[str], i: int, text: str, end: int) -> tuple[Block, int]:
    """Text after the element on its last line is read on as a line of its own."""
    used = text[:end].count("\n") + 1
    leftover = text[end:].split("\n", 1)[0]
    if not is_blank(leftover):
        lines[i + used - 1] = leftover.lstrip()
        used -= 1
    return block, i + used


def html_element(parser: BlockParser, text: str, tag: re.Match) -> tuple[Block, int]:
    """The element whose start tag is `tag`, and where it ends in `text`."""
    name = tag.group(1).lower()
    attrs = markup.attributes(tag.group(2))
    mode = markup.markdown_mode(attrs, name, is_true(parser.doc.options.get("parse_block_html")))
    block = Block("html", tag=name, attrs=attrs, mode=mode)
    if tag.group(3) or name in markup.VOID_ELEMENTS:
        block.text = "/" if tag.group(3) else ""
        return block, tag.end()
    if name in markup.TEXT_ELEMENTS and mode == "raw":
        end = markup.find_raw_end(text, tag.end(), name)
        inner = text[tag.end():end[0]] if end else text[tag.end():]
        block.children = [Block("raw", inner)] if inner else []
        return block, end[1] if end else len(text)
    end = markup.find_end(text, tag.end(), name)
    inner_end, after = end if end else (len(text), len(text))
    inner = text[tag.end():inner_end]
    if mode == "block":
        block.children = parser.parse(inner.split("\n"))
    elif mode == "span":
        block.children = [Block("span", inner)]
    else:
        block.children = _html_content(parser, inner)
    return block, after


def _html_content(parser: BlockParser, text: str) -> list[Block]:
    out: list[Block] = []
    position = 0
    for match in re.finditer(r"<", text):
        start = match.start()
        if start < position:
            continue
        comment = markup.COMMENT.match(text, start)
        tag = markup.START_TAG.match(text, start)
        end_tag = markup.END_TAG.match(text, start)
        if comment is None and tag is None and end_tag is None:
            continue
        if start > position:
            out.append(Block("raw", markup.escape_text(text[position:start])))
        if comment is not None:
            out.append(Block("raw", comment.group(0)))
            position = comment.end()
        elif tag is not None:
            element, end = html_element(parser, text[start:], markup.START_TAG.match(text[start:]))
            out.append(element)
            position = start + end
        else:
            out.append(Block("text", end_tag.group(0)))  # a stray end tag: text, escaped on output
            position = end_tag.end()
    if position < len(text):
        out.append(Block("raw", markup.escape_text(text[position:])))
    return out
