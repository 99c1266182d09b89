"""Reading posts as kramdown (GFM input) does, for sites whose `_config.yml` says
`markdown: kramdown`: an existing Jekyll blog builds without rewriting its posts.

Python-Markdown does the parsing; this extension reshapes what kramdown reads differently:
math (`$$...$$`, `\\\\(...\\\\)`, `\\\\[...\\\\]`) with kramdown's escapes, taken out before any
emphasis or smart punctuation can touch it; lists and fenced code that start right after a
paragraph line; fences closed by a longer fence; `{:toc}`; `{::nomarkdown}`; and heading ids
made the way kramdown's GFM parser makes them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html import escape

import markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from builder.codeblocks import map_outside_code

# kramdown's backslash escapes: \ . * _ + ` < > ( ) [ ] { } # ! : | " ' $ = -
ESCAPABLE = set("\\.*_+`<>()[]{}#!:|\"'$=-")
_FENCE = re.compile(r"^( {0,3})(`{3,}|~{3,})(.*)$")
_LIST_ITEM = re.compile(r"^ {0,3}([-*+]|\d{1,9}[.)])[ \t]+\S")
_TOC = re.compile(r"^[ \t]*([-*+]|\d+\.)[ \t]+.*\n[ \t]*\{:[ \t]*toc[ \t]*\}[ \t]*$", re.M)
_NOMARKDOWN = re.compile(r"\{::nomarkdown\}(.*?)\{:/(?:nomarkdown)?\}", re.S)
_MATH = re.compile(r"\$\$(.+?)\$\$|\\\\\((.+?)\\\\\)|\\\\\[(.+?)\\\\\]", re.S)
_NON_WORD = re.compile(r"[^\w\- \t]")


def unescape_math(text: str) -> str:
    """kramdown's escapes inside math: `\\_` -> `_`, `\\\\|` -> `\\|`, `\\{` -> `{`..."""
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in ESCAPABLE:
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def gfm_heading_id(text: str, used: dict[str, int]) -> str:
    """kramdown-parser-gfm's ids: lower-case, Unicode letters kept, punctuation dropped,
    spaces to `-`, `-1`, `-2`... on repeats."""
    base = _NON_WORD.sub("", text.lower()).replace(" ", "-").replace("\t", "-")
    count = used.get(base, 0)
    used[base] = count + 1
    return base if count == 0 else f"{base}-{count}"


class _KramdownBlocks(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(self._blocks(lines))
        text = _TOC.sub("[TOC]", text)
        text = _NOMARKDOWN.sub(lambda m: self._stash(m.group(1)), text)
        return self._math(text).split("\n")

    def _stash(self, html: str) -> str:
        return self.md.htmlStash.store(html)

    def _blocks(self, lines: list[str]) -> list[str]:
        """Blank lines where kramdown starts a block without one; fences closed as kramdown closes them."""
        out: list[str] = []
        fence: tuple[str, int] | None = None  # (character, length) of the open fence
        for line in lines:
            match = _FENCE.match(line)
            if fence is not None:
                if match and match.group(2)[0] == fence[0] and len(match.group(2)) >= fence[1] \
                        and not match.group(3).strip():
                    line = match.group(1) + fence[0] * fence[1]  # a longer closing fence closes too
                    fence = None
                out.append(line)
                continue
            previous = out[-1] if out else ""
            is_text = bool(previous.strip()) and not previous.startswith(("    ", "\t")) \
                and not _LIST_ITEM.match(previous) and not previous.lstrip().startswith(("|", "<", "#"))
            if match:
                fence = (match.group(2)[0], len(match.group(2)))
                if is_text:
                    out.append("")
            elif _LIST_ITEM.match(line) and is_text:
                out.append("")
            out.append(line)
        return out

    def _math(self, text: str) -> str:
        """Take math out before Markdown sees it, outside code blocks and code spans."""
        return map_outside_code(text, lambda chunk: _MATH.sub(self._math_html, chunk))

    def _math_html(self, match: re.Match) -> str:
        dollars, paren, bracket = match.groups()
        body = escape(unescape_math(dollars or paren or bracket), quote=False)
        alone = paren is None and _alone_in_paragraph(match)
        # $$ is display math only alone in its paragraph; \\[ always is (MathJax decides).
        display = bracket is not None or alone
        math = f"\\[{body}\\]" if display else f"\\({body}\\)"
        if alone:
            return "\n\n" + self._stash(f'<div class="arithmatex">{math}</div>') + "\n\n"
        return self._stash(f'<span class="arithmatex">{math}</span>')


def _alone_in_paragraph(match: re.Match) -> bool:
    """`$$...$$` is display math when nothing shares its lines and blank lines surround it."""
    text = match.string
    line_start = text.rfind("\n", 0, match.start()) + 1
    line_end = text.find("\n", match.end())
    line_end = len(text) if line_end < 0 else line_end
    if text[line_start:match.start()].strip() or text[match.end():line_end].strip():
        return False
    before = text[:max(line_start - 1, 0)].rsplit("\n", 1)[-1] if line_start > 0 else ""
    after = text[line_end + 1:].split("\n", 1)[0] if line_end < len(text) else ""
    return not before.strip() and not after.strip()


class _GfmHeadingIds(Treeprocessor):
    """Ids before the toc extension runs (it keeps ids that exist)."""

    def run(self, root: ET.Element) -> None:
        used: dict[str, int] = {}
        for element in root.iter():
            if element.tag in ("h1", "h2", "h3", "h4", "h5", "h6") and "id" not in element.attrib:
                text = "".join(element.itertext())
                element.set("id", gfm_heading_id(text, used) or "section")


class KramdownExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (the library's name)
        # After whitespace normalising (30), which would strip the stash's placeholder markers,
        # and before fenced code (25) and raw HTML blocks (20).
        md.preprocessors.register(_KramdownBlocks(md), "kramdown_blocks", 28)
        md.treeprocessors.register(_GfmHeadingIds(md), "gfm_heading_ids", 6)
