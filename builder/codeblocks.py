"""Where the code is in a Markdown text: fenced and indented code blocks, and code spans.

Liquid leaves code alone, and the kramdown reader keeps math detection out of it, so both
need the same answer to "is this code?".
"""

from __future__ import annotations

import re
from collections.abc import Callable

FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})")
LIST_ITEM = re.compile(r"^\s*([-*+]|\d+[.)])\s")
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)((?:(?!\n[ \t]*\n).)+?)(?<!`)\1(?!`)", re.S)
# What every piece of code needs: a backtick (a fence or a span), a `~~~` fence, or a line
# indented by four columns (at any line start `str.splitlines` knows).
_MAY_HOLD_CODE = re.compile("`|~~~|(?:^|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029])(?: {4}|\t)", re.M)


def split_code_blocks(text: str) -> list[tuple[bool, str]]:
    """The text as consecutive (is_code_block, chunk) pieces that join back to it exactly."""
    pieces: list[tuple[bool, str]] = []
    lines = text.splitlines(keepends=True)
    start = i = 0
    prev_blank, prev_text = True, ""
    while i < len(lines):
        line = lines[i]
        end = None
        fence = FENCE.match(line)
        if fence:
            end = _fence_end(lines, i, fence.group(2))
        elif _is_indented_code_start(line, prev_blank, prev_text):
            end = i
            while end < len(lines) and (not lines[end].strip() or _indented(lines[end])):
                end += 1
            while end > i and not lines[end - 1].strip():  # trailing blank lines are not code
                end -= 1
        if end is not None:
            if start < i:
                pieces.append((False, "".join(lines[start:i])))
            pieces.append((True, "".join(lines[i:end])))
            start, i, prev_blank, prev_text = end, end, False, ""
            continue
        if line.strip():
            prev_text = line
        prev_blank = not line.strip()
        i += 1
    if start < len(lines):
        pieces.append((False, "".join(lines[start:])))
    return pieces


def map_outside_code(text: str, outside: Callable[[str], str],
                     code: Callable[[str], str] = lambda chunk: chunk) -> str:
    """Apply `outside` to the text that is not code and `code` to each block and span that is."""
    if text and not _MAY_HOLD_CODE.search(text):  # most prose: no code to look for
        return outside(text)
    return _map_pieces(text, outside, code)


def _map_pieces(text: str, outside: Callable[[str], str], code: Callable[[str], str]) -> str:
    out = []
    for is_code, chunk in split_code_blocks(text):
        if is_code:
            out.append(code(chunk))
            continue
        position = 0
        for span in CODE_SPAN.finditer(chunk):
            out.append(outside(chunk[position:span.start()]))
            out.append(code(span.group(0)))
            position = span.end()
        out.append(outside(chunk[position:]))
    return "".join(out)


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Line after the closing fence: same character, at least as long (as CommonMark and kramdown)."""
    closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
    for j in range(start + 1, len(lines)):
        if closing.match(lines[j]):
            return j + 1
    return len(lines)


def _indented(line: str) -> bool:
    return line.startswith(("    ", "\t"))


def _is_indented_code_start(line: str, prev_blank: bool, prev_text: str) -> bool:
    # After a list item (or its indented continuation), indentation continues the list.
    return (prev_blank and _indented(line) and bool(line.strip())
            and not LIST_ITEM.match(prev_text) and not _indented(prev_text))
