"""kramdown's block level, as Jekyll's kramdown (GFM input) reads it: lines -> a tree of `Block`.

Span-level text (paragraphs, headings, table cells, terms) is kept as written; `spans` reads it
once the whole document is known, because links, footnotes and abbreviations may be defined
after they are used. Lists live in `lists`, tables in `tables`, HTML in `htmlblocks`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from builder.kramdown import attributes, markup
from builder.kramdown.attributes import Item
from builder.kramdown.document import (
    ABBREVIATION_DEF,
    ALD_LINE,
    ATX,
    BLOCKQUOTE,
    DEFINITION,
    EOB,
    ESCAPED_MATH_BLOCK,
    EXTENSION,
    FENCE,
    FOOTNOTE_DEF,
    HEADER_ID,
    HR,
    IAL_LINE,
    LINK_DEF,
    LINK_TITLE,
    LIST,
    MATH_BLOCK,
    SETEXT,
    Block,
    Document,
    columns,
    dedent,
    ends_lazily,
    is_blank,
    link_key,
)
from builder.kramdown.htmlblocks import parse_html
from builder.kramdown.lists import parse_definitions, parse_list
from builder.kramdown.tables import parse_table


class BlockParser:
    """Reads a container's lines (the document, a list item, a blockquote...) into blocks."""

    def __init__(self, document: Document):
        self.doc = document
        self.table_failed = False

    # --- the loop ------------------------------------------------------------------------------

    def parse(self, lines: list[str]) -> list[Block]:
        lines = list(lines)
        blocks: list[Block] = []
        pending: list[list[Item]] = []  # IALs written before the next block
        last_end = -2  # index of the last line of the last block
        # At a block boundary (the container's start, after a blank line or the end-of-block
        # marker) a Setext heading, display math or a table may start; right after a block not.
        boundary = True
        definition_end = -2
        i = 0
        while i < len(lines):
            line = lines[i]
            if is_blank(line):
                if blocks and last_end == i - 1:
                    blocks[-1].blank_after = True
                boundary = True
                i += 1
                continue
            if line[0] == "^" and EOB.match(line):
                last_end = -2
                boundary = True
                i += 1
                continue
            # Attribute-list lines start with `{:` after up to three spaces.
            attribute_line = line.lstrip(" ")[0] == "{"
            if attribute_line and (match := ALD_LINE.match(line)) is not None:
                self.doc.alds[match.group(1)] = attributes.parse_list(match.group(2))
                boundary = False
                i += 1
                continue
            if attribute_line and (match := IAL_LINE.match(line)) is not None:
                items = attributes.parse_list(match.group(1))
                if blocks and last_end == i - 1:
                    blocks[-1].ials.append(items)
                    last_end = i
                elif definition_end == i - 1:
                    pass  # it belongs to the definition above, which shows nowhere
                elif blocks or (i + 1 < len(lines) and not is_blank(lines[i + 1])):
                    # Before the next block; at the start of a container only right before it.
                    pending.append(items)
                i += 1
                continue
            self.table_failed = False
            found, after = self._block(lines, i, blocks, boundary)
            if self.table_failed:  # a table tried and given up takes the attribute list with it
                pending = []
            if found is None:  # a definition: nothing to show, yet no block boundary either
                if blocks:
                    blocks[-1].closed = True
                boundary = False
                definition_end = after - 1
                i = after
                continue
            if pending:
                found.ials[:0] = pending
                pending = []
            if found.kind != "dl" or not blocks or blocks[-1] is not found:
                blocks.append(found)
            last_end = after - 1
            boundary = False
            i = after
        return blocks

    def _block(self, lines: list[str], i: int, blocks: list[Block],
               boundary: bool = True) -> tuple[Block | None, int]:
        line = lines[i]
        if line[0] in " \t" and columns(line) >= 4:
            return self._indented_code(lines, i)
        # Under four columns of indentation a line starts with at most three spaces (a tab would
        # make four); only the rules its next character can open are tried, in kramdown's order.
        first = line.lstrip(" ")[:1]
        for rule, at_boundary_only in _rules_for(first):
            if at_boundary_only and not boundary:
                continue
            result = rule(self, lines, i)
            if result is not None:
                return result
        if first == ":" and DEFINITION.match(line) \
                and (found := parse_definitions(self, lines, i, blocks)) is not None:
            return found
        return self._paragraph(lines, i)

    def _list(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        return parse_list(self, lines, i)

    def _table(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        if "|" not in lines[i]:  # what parse_table would find first: no cell separator
            return None
        return parse_table(self, lines, i)

    def _html(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        return parse_html(self, lines, i)

    # --- code --------------------------------------------------------------------------------

    def _indented_code(self, lines: list[str], i: int) -> tuple[Block, int]:
        code: list[str] = []
        while i < len(lines):
            line = lines[i]
            if columns(line) >= 4 and not is_blank(line):
                code.append(dedent(line, 4))
            elif is_blank(line):
                code.append("")
            elif code[-1] and not ends_lazily(line):
                code[-1] += " " + line  # a lazy line continues the one before it
            else:
                break
            i += 1
        while code and not code[-1]:
            code.pop()
            i -= 1
        return Block("code", "\n".join(code) + "\n"), i

    def _fenced_code(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        match = FENCE.match(lines[i])
        if match is None:
            return None
        run, rest = match.group(2), match.group(3)
        # Like a backtracking pattern: the longest opening that some later line closes.
        for length in range(len(run), 2, -1):
            info = (run[length:] + rest).strip()
            closing = re.compile(r" {0,3}" + re.escape(run[:length]) + re.escape(run[0]) + r"*[ \t]*$")
            for j in range(i + 1, len(lines)):
                if closing.match(lines[j]):
                    language = info.split()[0].split("?")[0] if info.split() else ""
                    if language.startswith("{"):
                        language = ""
                    return Block("code", "".join(f"{line}\n" for line in lines[i + 1:j]), tag=language), j + 1
        return None

    # --- containers ----------------------------------------------------------------------------

    def _blockquote(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        if not BLOCKQUOTE.match(lines[i]):
            return None
        inner: list[str] = []
        while i < len(lines) and not (inner and ends_lazily(lines[i])):
            match = BLOCKQUOTE.match(lines[i])
            inner.append(lines[i][match.end():] if match else lines[i])
            i += 1
        return Block("blockquote", children=self.parse(inner)), i

    # --- headings, rules, paragraphs -------------------------------------------------------------

    def _atx_header(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        match = ATX.match(lines[i])
        if match is None:
            return None
        return self._header(len(match.group(1)), match.group(2), closing=True), i + 1

    @staticmethod
    def _header(level: int, text: str, closing: bool) -> Block:
        block = Block("h", level=level)
        text = text.rstrip()
        if (match := HEADER_ID.match(text)) is not None:
            text = match.group(1)
            block.ials.append([("id", match.group(2), "")])
        if closing:
            text = _CLOSING_HASHES.sub("", text)
        block.text = text.strip()
        return block

    def _setext_header(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        if i + 1 >= len(lines) or not SETEXT.match(lines[i + 1]):
            return None
        level = 1 if lines[i + 1][0] == "=" else 2
        return self._header(level, lines[i].strip(), closing=False), i + 2

    def _rule(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        return (Block("hr"), i + 1) if HR.match(lines[i]) else None

    def _paragraph(self, lines: list[str], i: int) -> tuple[Block, int]:
        text = [lines[i].lstrip()]
        i += 1
        while i < len(lines) and not self._ends_paragraph(lines, i):
            text.append(lines[i])
            i += 1
        return Block("p", "\n".join(text).rstrip()), i

    def _ends_paragraph(self, lines: list[str], i: int) -> bool:
        line = lines[i]
        if is_blank(line):
            return True
        first = line.lstrip(" ")[:1]
        if first not in _MAY_END_PARAGRAPH and not _DIGIT.match(first):
            return False  # what could end it starts with one of those, after up to three spaces
        if ends_lazily(line, paragraph=True) or ATX.match(line) or BLOCKQUOTE.match(line) \
                or DEFINITION.match(line):
            return True
        if LIST.match(line) and (columns(line) < 4):
            return True
        return FENCE.match(line) is not None and self._fenced_code(lines, i) is not None

    def _math(self, lines: list[str], i: int) -> tuple[Block, int] | None:
        """`$$...$$` alone between block boundaries (a blank line, the end-of-block marker, an
        attribute list or the container's edge before and after) is display math."""
        if (escaped := ESCAPED_MATH_BLOCK.match(lines[i])) is not None:
            # `\$$...$$` where display math could start: inline math opening a paragraph.
            closing = lines[i].find("$$", escaped.end())
            if closing >= 0 and is_blank(lines[i][closing + 2:]):
                lines[i] = lines[i][:escaped.end() - 3] + lines[i][escaped.end() - 2:]
                return self._paragraph(lines, i)
            return None
        if not MATH_BLOCK.match(lines[i]):
            return None
        text = "\n".join(lines[i:])
        start = text.index("$$") + 2
        end = text.find("$$", start)
        if end < 0:
            return None
        after = text[end + 2:]
        line_end = after.find("\n")
        rest_of_line = after if line_end < 0 else after[:line_end]
        if not is_blank(rest_of_line):
            return None
        used = text[:end + 2].count("\n") + 1
        if i + used < len(lines) and not (is_blank(lines[i + used]) or IAL_LINE.match(lines[i + used])
                                          or EOB.match(lines[i + used])):
            return None
        return Block("math", text[start:end].strip()), i + used

    # --- definitions ---------------------------------------------------------------------------

    def _footnote(self, lines: list[str], i: int) -> tuple[None, int] | None:
        match = FOOTNOTE_DEF.match(lines[i])
        if match is None:
            return None
        more: list[str] = []
        i += 1
        while i < len(lines) and (is_blank(lines[i]) or columns(lines[i]) >= 4):
            more.append(dedent(lines[i], 4))
            i += 1
        while more and is_blank(more[-1]):
            more.pop()
            i -= 1
        content = [match.group(2), *more]
        name = match.group(1)
        if name not in self.doc.footnotes:
            self.doc.footnotes[name] = Block("footnote", children=self.parse(content))
        return None, i

    def _link_definition(self, lines: list[str], i: int) -> tuple[None, int] | None:
        match = LINK_DEF.match(lines[i])
        if match is None:
            return None
        name, angle, bare, _, quoted, parens = match.groups()
        title = quoted if quoted is not None else parens
        used = 1
        if title is None and i + 1 < len(lines) and (more := LINK_TITLE.match(" " + lines[i + 1])):
            title = more.group(2) if more.group(2) is not None else more.group(3)
            used = 2
        key = link_key(name)
        if key not in self.doc.links:
            self.doc.links[key] = ((angle if angle is not None else bare).strip(), title)
        return None, i + used

    def _abbreviation(self, lines: list[str], i: int) -> tuple[None, int] | None:
        match = ABBREVIATION_DEF.match(lines[i])
        if match is None:
            return None
        self.doc.abbreviations[match.group(1).strip()] = match.group(2)
        return None, i + 1

    def _extension(self, lines: list[str], i: int) -> tuple[Block | None, int] | None:
        """`{::comment}`, `{::nomarkdown}` and `{::options .../}` on a line of their own."""
        match = EXTENSION.match(lines[i])
        if match is None or not is_blank(lines[i][match.end():]):
            return None
        name, body = match.group(1), match.group(2)
        if body.rstrip().endswith("/"):
            if name == "options":
                self.doc.options.update(markup.attributes(body.rstrip()[:-1]))
            return (Block("comment", "") if name == "comment" else None), i + 1
        text = "\n" + "\n".join(lines[i + 1:])
        close = re.search(r"\{:/(?:" + re.escape(name) + r")?\}", text)
        if close is None:
            return None
        inner = text[:close.start()]
        used = text[:close.end()].count("\n") + 1
        leftover = text[close.end():].split("\n", 1)[0]
        if not is_blank(leftover):
            lines[i + used - 1] = leftover
            used -= 1
        if name == "comment":
            return Block("comment", inner), i + used
        if name == "nomarkdown":
            return Block("raw", inner.strip("\n")), i + used
        return None, i + used


# The block rules in the order kramdown tries them: (rule, the characters it can start with after
# up to three spaces, whether it needs a block boundary). None: any character (the Setext heading
# looks at the next line, a table for a `|` anywhere). LIST's `\d` takes any Unicode digit.
_RULES = (
    (BlockParser._fenced_code, "`~", False), (BlockParser._blockquote, ">", False),
    (BlockParser._atx_header, "#", False), (BlockParser._rule, "*-_", False), (BlockParser._html, "<", False),
    (BlockParser._list, "+*-0123456789", False), (BlockParser._setext_header, None, True),
    (BlockParser._math, "$\\", True), (BlockParser._table, None, True), (BlockParser._footnote, "[", False),
    (BlockParser._link_definition, "[", False), (BlockParser._abbreviation, "*", False),
    (BlockParser._extension, "{", False),
)
_DIGIT = re.compile(r"\d")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t]+)#+[ \t]*$")
# The first characters (after spaces) of the lines that end a paragraph: a blank line aside, the
# end-of-block marker, attribute lists, HTML, ATX headings, quotes, definitions, lists, fences.
_MAY_END_PARAGRAPH = "^{<#>:+*-`~"


@functools.cache
def _rules_for(first: str) -> tuple[tuple[Callable, bool], ...]:
    """The rules a line whose first character (after up to three spaces) is `first` may open; every
    rule left out would fail on its opening pattern."""
    return tuple((rule, at_boundary_only) for rule, starts, at_boundary_only in _RULES
                 if starts is None or (first and (first in starts or (rule is BlockParser._list
                                                                       and _DIGIT.match(first)))))
