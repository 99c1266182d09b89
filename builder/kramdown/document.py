"""The tree kramdown's block level builds, what a document defines, and the line helpers the
block parsers share (indentation with tabs, code spans, table pipes, lazy line ends)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from builder.kramdown import markup
from builder.kramdown.attributes import LIST_BODY, Item

BLANK = re.compile(r"[ \t]*$")
EOB = re.compile(r"\^[ \t]*$")
FENCE = re.compile(r"( {0,3})(`{3,}|~{3,})(.*)$")
BLOCKQUOTE = re.compile(r" {0,3}> ?")
ATX = re.compile(r"(#{1,6})[ \t]+(\S.*)$")
HR = re.compile(r" {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$")
LIST = re.compile(r"( {0,3})([+*-]|\d+\.)(?=[ \t])")
SETEXT = re.compile(r"(=+|-+)[ \t]*$")
IAL_LINE = re.compile(r" {0,3}\{:(?!:|/)(" + LIST_BODY + r")\}[ \t]*$")
ALD_LINE = re.compile(r" {0,3}\{:([\w-]+):(" + LIST_BODY + r")\}[ \t]*$")
EXTENSION = re.compile(r" {0,3}\{::(\w+)(" + LIST_BODY + r")\}")
DEFINITION = re.compile(r" {0,3}:([ \t]+|$)")
FOOTNOTE_DEF = re.compile(r" {0,3}\[\^([\w-]+)\]:[ \t]*(.*)$")
LINK_DEF = re.compile(r" {0,3}\[([^\]\n]+)\]:[ \t]*(?:<([^>]*)>|(\S+))[ \t]*"
                      r"(?:(\"|')(.*)\4|\((.*)\))?[ \t]*$")
LINK_TITLE = re.compile(r"[ \t]+(?:(\"|')(.*)\1|\((.*)\))[ \t]*$")
ABBREVIATION_DEF = re.compile(r" {0,3}\*\[([^\]\n]+)\]:[ \t]*(.*?)[ \t]*$")
MATH_BLOCK = re.compile(r" {0,3}\$\$")
ESCAPED_MATH_BLOCK = re.compile(r" {0,3}\\\$\$")
HTML_START = re.compile(r" {0,3}<(!--|[A-Za-z][\w:.-]*)")
HTML_NAME = re.compile(r" {0,3}<(/?)([A-Za-z][\w:.-]*)")
HEADER_ID = re.compile(r"^(.*?)[ \t]+\{#([A-Za-z][\w:-]*)\}[ \t]*$")
TASK = re.compile(r"\[([ xX])\][ \t]+")
ITEM_IAL = re.compile(r"\{:(?!:|/)(" + LIST_BODY + r")\}[ \t]*")


@dataclass(eq=False)
class Block:
    kind: str
    text: str = ""  # span-level text, code, math, raw HTML
    children: list[Block] = field(default_factory=list)
    ials: list[list[Item]] = field(default_factory=list)
    level: int = 0  # heading level
    tag: str = ""  # HTML element name; code language
    attrs: dict[str, str] = field(default_factory=dict)  # attributes written in an HTML tag
    wrap: bool = True  # a list item's first paragraph is a <p>
    blank_after: bool = False  # a blank line followed the block (list items and definitions)
    mode: str = ""  # how an HTML element's content was read: "raw", "block" or "span"
    closed: bool = False  # a definition list that later terms may not join


@dataclass
class Document:
    """What the whole text defines, whatever the place: read by the span level and the output."""

    links: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    footnotes: dict[str, Block] = field(default_factory=dict)
    alds: dict[str, list[Item]] = field(default_factory=dict)
    abbreviations: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


def link_key(name: str) -> str:
    return " ".join(name.split()).lower()


def columns(line: str) -> int:
    """Width of the leading white space, tabs to the next multiple of four."""
    width = 0
    for char in line:
        if char == " ":
            width += 1
        elif char == "\t":
            width += 4 - width % 4
        else:
            break
    return width


def dedent(line: str, count: int) -> str:
    """`line` without its first `count` columns of white space (a tab split if needed)."""
    width = 0
    for index, char in enumerate(line):
        if width >= count or char not in " \t":
            return " " * (width - count) + line[index:]
        width += 1 if char == " " else 4 - width % 4
    return " " * max(width - count, 0)


def is_blank(line: str) -> bool:
    """Only spaces and tabs (BLANK's `$` also allows one line break at the very end)."""
    rest = line.lstrip(" \t")
    return not rest or rest == "\n"


def code_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each code span on a line: a run of backticks up to the next run as long."""
    spans, position = [], 0
    while (start := line.find("`", position)) >= 0:
        run = len(line[start:]) - len(line[start:].lstrip("`"))
        closing = re.compile(r"(?<!`)" + "`" * run + r"(?!`)")
        found = closing.search(line, start + run)
        if found is None:
            position = start + run
            continue
        spans.append((start, found.end()))
        position = found.end()
    return spans


def pipe_positions(line: str) -> list[int]:
    """Positions of the `|` that separate table cells: not escaped, not in a code span."""
    spans = code_spans(line)
    found = []
    for match in re.finditer(r"\|", line):
        at = match.start()
        backslashes = len(line[:at]) - len(line[:at].rstrip("\\"))
        if backslashes % 2 == 0 and not any(s <= at < e for s, e in spans):
            found.append(at)
    return found



def ends_lazily(line: str, paragraph: bool = False) -> bool:
    """Lines that end a blockquote, a list item or an indented code block even without a blank
    line before them: attribute lists, the end-of-block marker, and a line that starts with the
    name of a block-level element (`<div`, `</div`, even `<http`). A paragraph ends at such HTML
    only when it is a whole start tag."""
    if is_blank(line) or EOB.match(line) or IAL_LINE.match(line) or ALD_LINE.match(line):
        return True
    match = HTML_NAME.match(line)
    if match is None or match.group(2).lower() in markup.SPAN_ELEMENTS or match.group(2).lower() == "script":
        return False
    if paragraph:
        return not match.group(1) and markup.START_TAG.match(line, match.end(1) - 1) is not None
    return True




def width(text: str) -> int:
    """Columns `text` takes at the start of a line (tabs to the next multiple of four)."""
    total = 0
    for char in text:
        total += 4 - total % 4 if char == "\t" else 1
    return total


def is_true(value: object) -> bool:
    return value is True or str(value).lower() == "true"
