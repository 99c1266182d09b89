"""kramdown's tables: lines holding a `|` (not escaped, not in a code span), at a block boundary,
ended by a blank line; a separator line after the first rows makes them the header, `|=` starts
the footer, another separator a new body. Cells split before anything else is read, so a `|` in
math splits it too, as in Jekyll."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from builder.kramdown.document import (
    ALD_LINE,
    EOB,
    IAL_LINE,
    Block,
    code_spans,
    columns,
    is_blank,
    pipe_positions,
)

if TYPE_CHECKING:
    from builder.kramdown.blocks import BlockParser


def parse_table(parser: BlockParser, lines: list[str], i: int) -> tuple[Block, int] | None:
    if not pipe_positions(lines[i]):
        return None
    end = i
    while end < len(lines) and not is_blank(lines[end]) and columns(lines[end]) < 4 \
            and pipe_positions(lines[end]):
        end += 1
    if end < len(lines) and not any(p.match(lines[end]) for p in (EOB, IAL_LINE, ALD_LINE)) \
            and not is_blank(lines[end]):
        parser.table_failed = True
        return None
    sections, aligns = _sections(lines[i:end])
    if not any(kind != "thead" for kind, _ in sections):
        parser.table_failed = True
        return None
    columns_count = max(len(cells) for _, body in sections for cells in body)
    table = Block("table")
    for kind, body in sections:
        section = Block(kind)
        for cells in body:
            row = Block("tr")
            for index, cell in enumerate(cells + [""] * (columns_count - len(cells))):
                align = aligns[index] if index < len(aligns) else ""
                row.children.append(Block("th" if kind == "thead" else "td", cell, tag=align))
            section.children.append(row)
        table.children.append(section)
    return table, end


def _sections(rows: list[str]) -> tuple[list[tuple[str, list[list[str]]]], list[str]]:
    sections: list[tuple[str, list[list[str]]]] = [("tbody", [])]
    aligns: list[str] = []
    for row in rows:
        kind = _separator(row)
        if kind == "=":
            sections.append(("tfoot", []))
        elif kind == "-":
            if not aligns and len(sections) == 1 and sections[0][1]:
                sections[0] = ("thead", sections[0][1])
                aligns = _alignments(row) or [""]
                sections.append(("tbody", []))
            elif sections[-1][1]:
                sections.append(("tbody", []))
        else:
            sections[-1][1].append(_cells(row))
    return [(kind, body) for kind, body in sections if body], aligns


def _separator(line: str) -> str:
    """"-" for a separator line, "=" for the line before the footer, "" for a row."""
    stripped = line.strip()
    if "-" in stripped and re.fullmatch(r"[|+]?[ \t]*:?-[-:|+ \t]*", stripped):
        return "-"
    if re.fullmatch(r"\|[ \t]*:?=[=:|+ \t-]*", stripped):
        return "="
    return ""


def _alignments(line: str) -> list[str]:
    out = []
    for cell in _cells(line.replace("+", "|")):
        left, right = cell.startswith(":"), cell.endswith(":")
        out.append("center" if left and right else "left" if left else "right" if right else "")
    return out


def _cells(line: str) -> list[str]:
    line = line.strip()
    positions = pipe_positions(line)
    if positions and positions[0] == 0:
        line = line[1:]
        positions = [p - 1 for p in positions[1:]]
    if positions and positions[-1] == len(line) - 1:
        line = line[:-1]
        positions = positions[:-1]
    cells, start = [], 0
    for at in positions + [len(line)]:
        cells.append(_unescape_pipes(line[start:at]).strip())
        start = at + 1
    return cells


def _unescape_pipes(cell: str) -> str:
    """`\\|` -> `|`, except in code spans (where the backslash stays)."""
    spans = code_spans(cell)
    return "".join(char for index, char in enumerate(cell)
                   if not (char == "\\" and cell[index + 1:index + 2] == "|"
                           and not any(s <= index < e for s, e in spans)))
