"""Where a link's parts end: its text's closing bracket, its `(destination "title")`."""

from __future__ import annotations

import re

_TITLE_TAIL = re.compile(r"""^(.*?)\s+(["'])(.+?)\2\s*$""", re.S)
_TITLE_AFTER = re.compile(r"""\(\s*(\S*?)\s+(["'])(.+?)\2\s*\)""", re.S)
_BRACKET_OR_SKIP = re.compile(r"[\\`\[\]]")
_PARENTHESIS = re.compile(r"[()]")
_EMPTY_TITLE = re.compile(r"""\s(["'])\1\s*$""")
_ANGLED = re.compile(r"""\(<([^>]*)>\s*(?:(["'])(.+?)\2\s*)?\)""", re.S)


def matching_bracket(text: str, at: int, end: int) -> int | None:
    """Position of the `]` closing the `[` at `at`: nested brackets count, escaped ones and those in
    code spans do not."""
    depth = 0
    position = at
    while position < end:
        found = _BRACKET_OR_SKIP.search(text, position, end)  # other characters change nothing
        if found is None:
            return None
        position = found.start()
        char = text[position]
        if char == "\\":
            position += 2
            continue
        if char == "`":
            run = len(text[position:end]) - len(text[position:end].lstrip("`"))
            found = re.compile(r"(?<!`)" + "`" * run + r"(?!`)").search(text, position + run, end)
            position = found.end() if found else position + run
            continue
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return None


def inline_target(text: str, at: int, end: int) -> tuple[str, str | None, int] | None:
    """`(url "title")` after a link's text: (url, title, position after the `)`)."""
    if text.startswith("(<", at):
        match = _ANGLED.match(text, at, end)
        if match is None:
            return None
        return match.group(1), match.group(3), match.end()
    depth = 0
    for paren in _PARENTHESIS.finditer(text, at, end):
        position = paren.start()
        if text[position] == "(":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                inner = text[at + 1:position]
                titled = _TITLE_TAIL.match(inner)
                if titled is not None:
                    return titled.group(1).strip(), titled.group(3), position + 1
                if _EMPTY_TITLE.search(inner):
                    return None
                return inner.strip(), None, position + 1
    match = _TITLE_AFTER.match(text, at, end)
    if match is not None:
        return match.group(1), match.group(3), match.end()
    return None
