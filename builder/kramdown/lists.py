"""Lists and definition lists, as kramdown reads them.

An item's content is every following line indented at least as far as its text starts, blank
lines between them, and "lazy" lines: unindented text that continues it without a blank line
before. The content is then read as blocks of its own. The first paragraph of an item is a `<p>`
only when a blank line follows it (or, for the last item, when every other item's is).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from builder.kramdown import attributes
from builder.kramdown.document import (
    DEFINITION,
    EOB,
    HR,
    ITEM_IAL,
    LIST,
    TASK,
    Block,
    columns,
    dedent,
    ends_lazily,
    is_blank,
    width,
)

if TYPE_CHECKING:
    from builder.kramdown.blocks import BlockParser


def _kind(marker: str) -> str:
    return "ol" if marker[0].isdigit() else "ul"


def parse_list(parser: BlockParser, lines: list[str], i: int) -> tuple[Block, int] | None:
    match = LIST.match(lines[i])
    if match is None or HR.match(lines[i]):
        return None
    kind = _kind(match.group(2))
    items: list[tuple[list[str], Block]] = []
    content: list[str] = []
    indent = 0
    blank = by_marker = False
    while i < len(lines):
        line = lines[i]
        start = LIST.match(line)
        if is_blank(line):
            content.append("")
            blank = True
        elif blank and HR.match(line):  # after a blank line a rule ends the list, even indented
            break
        elif items and columns(line) >= indent:
            content.append(dedent(line, indent))
            blank = False
        elif start and _kind(start.group(2)) == kind:  # inside a list even `* * *` is an item
            content, indent = _item_start(line, start, lines[i + 1] if i + 1 < len(lines) else "")
            items.append((content, Block("li")))
            blank = False
        elif EOB.match(line):
            i += 1
            by_marker = True
            break
        elif blank or ends_lazily(line):
            break
        else:
            content.append(line)  # a lazy line
        i += 1
    if blank and not by_marker:  # blank lines before what ends the list are not the last item's
        # (its first line stays, even when empty: a marker with nothing after it is an item)
        while len(items[-1][0]) > 1 and not items[-1][0][-1]:
            items[-1][0].pop()
            i -= 1
    block = Block(kind)
    for content, item in items:
        fill_item(parser, item, content)
        block.children.append(item)
    _wrap_items(block.children)
    return block, i


def _item_start(line: str, start: re.Match, following: str) -> tuple[list[str], int]:
    """The item's first line and how far its content is indented: to its first character, or
    when the marker stands alone, as the next line is (four columns at most)."""
    marker_end = columns(start.group(1)) + len(start.group(2))
    rest = line[start.end():]
    if is_blank(rest):
        return [""], _empty_item_indent(following, marker_end + 1)
    gap = columns(" " * marker_end + rest) - marker_end
    return [rest.lstrip(" \t")], marker_end + gap


def _empty_item_indent(following: str, default: int) -> int:
    if is_blank(following) or columns(following) == 0:
        return default
    return min(columns(following), 4)


def fill_item(parser: BlockParser, item: Block, content: list[str]) -> None:
    """An item's blocks; an attribute list opening it is the item's, `[ ]`/`[x]` makes a task."""
    if (match := ITEM_IAL.match(content[0])) is not None:
        item.ials.append(attributes.parse_list(match.group(1)))
        content[0] = content[0][match.end():]
    item.children = parser.parse(content)
    first = item.children[0] if item.children else None
    if item.kind == "li" and first is not None and first.kind == "p" \
            and (task := TASK.match(first.text)) is not None:
        item.tag = "checked" if task.group(1) in "xX" else "unchecked"
        first.text = first.text[task.end():]


def _wrap_items(items: list[Block]) -> None:
    for item in items:
        item.wrap = bool(item.children and item.children[0].blank_after)
    if len(items) > 1 and not items[-1].wrap and all(item.wrap for item in items[:-1]):
        items[-1].wrap = True


def parse_definitions(parser: BlockParser, lines: list[str], i: int,
                      blocks: list[Block]) -> tuple[Block, int] | None:
    """`term` lines (the paragraph just read) then `: definition` lines; a definition's first
    paragraph is a `<p>` when a blank line stands before it. Terms right after a definition list
    join it."""
    previous = blocks[-1] if blocks else None
    if previous is None or previous.kind not in ("p", "dl"):
        return None
    if previous.kind == "p":
        blocks.pop()
        joins = blocks and blocks[-1].kind == "dl" and not blocks[-1].closed
        dl = blocks[-1] if joins else Block("dl")
        dl.ials += previous.ials
        dl.children += [Block("dt", term.strip()) for term in previous.text.split("\n")]
    else:
        dl = previous
    after_blank = i > 0 and is_blank(lines[i - 1])
    while i < len(lines) and (match := DEFINITION.match(lines[i])) is not None:
        item, i = _definition(parser, lines, i, match)
        item.wrap = after_blank
        dl.children.append(item)
        after_blank = is_blank(lines[i - 1])
        if i + 1 < len(lines) and is_blank(lines[i]) and DEFINITION.match(lines[i + 1]):
            i += 1
            after_blank = True
    return dl, i


def _definition(parser: BlockParser, lines: list[str], i: int, match: re.Match) -> tuple[Block, int]:
    rest, prefix = lines[i][match.end():], lines[i][:match.end()]
    if is_blank(ITEM_IAL.sub("", rest, count=1)):
        indent = _empty_item_indent(lines[i + 1] if i + 1 < len(lines) else "", width(prefix.rstrip()) + 1)
    else:
        indent = width(prefix)
    content, i = [rest], i + 1
    while i < len(lines):
        line = lines[i]
        if is_blank(line) or columns(line) >= indent:
            content.append("" if is_blank(line) else dedent(line, indent))
        elif is_blank(lines[i - 1]) or DEFINITION.match(line) or ends_lazily(line):
            break
        else:
            content.append(line)  # a lazy line
        i += 1
    while len(content) > 1 and is_blank(content[-1]):
        content.pop()
        i -= 1
    item = Block("dd")
    fill_item(parser, item, content)
    return item, i
