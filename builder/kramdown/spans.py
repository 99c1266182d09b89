"""kramdown's span level: the text of one block -> a list of `Inline` nodes and strings.

Everything is found inside the one block it was given: math, emphasis, a link's brackets never
reach into the next paragraph, whatever they hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape as html_unescape

from builder.kramdown import attributes, markup, typography
from builder.kramdown.attributes import LIST_BODY
from builder.kramdown.document import Document, link_key
from builder.kramdown.links import inline_target, matching_bracket


class Typo(str):
    """Text kramdown made typographic (quotes, dashes, entities): no part of a heading's id."""


@dataclass(eq=False)
class Inline:
    tag: str  # an HTML element (em, strong, a, img, br...) or one of CODE, MATH, RAW, COMMENT, FOOTNOTE
    children: list[str | Inline] = field(default_factory=list)
    attrs: dict[str, str] = field(default_factory=dict)
    text: str = ""  # code, math (TeX), raw HTML, footnote name
    ials: list = field(default_factory=list)
    display: bool = False  # math as a block


# Nodes that are not HTML elements (names no element can have).
CODE, MATH, RAW, COMMENT, FOOTNOTE = "<code>", "<math>", "<raw>", "<comment>", "<footnote>"
ESCAPABLE = set("\\.*_+`<>()[]{}#!:|\"'$=-~")
# Where a construct may start. A character that only counts doubled (`--`, `...`, `>>`, `![`, `$$`,
# `~~`) is found only when doubled, and `]` never (a link finds its own): `_special` would turn the
# others down anyway, and prose has plenty of lone `.` and `-`. Written as alternatives that each
# start with one literal character, so that `re` skips ahead by the set of first characters.
_SPECIAL = re.compile("|".join(re.escape(start) for start in (
    "\\", "*", "_", "`", "<", "&", "'", '"', "[", "{", "\n", "--", "...", ">>", "![", "$$", "~~")))
_HTML_SPECIAL = re.compile(r"[<&]")
_AUTOLINK = re.compile(r"<((?:mailto|https?|ftps?):[^>\s]+?|[-.\w]+@[-\w]+(?:\.[-\w]+)*\.[a-z]+)>", re.I)
_SPAN_IAL = re.compile(r"\{:(?!:|/)(" + LIST_BODY + r")\}")
_EXTENSION = re.compile(r"\{::(\w+)(" + LIST_BODY + r")\}")
_FOOTNOTE = re.compile(r"\[\^([\w-]+)\]")
_WORD_BEFORE = re.compile(r"[^\W\d_]-?[^\W\d_]*\Z")  # `_` inside a word opens nothing
_STRIKE_CLOSE = re.compile(r"(?<=\S)~~")
_BACKSLASHED = re.compile(r"\\(.)")
_REFERENCE = re.compile(r"[ \t]*\n?[ \t]*\[([^\]]*)\]")


class SpanParser:
    def __init__(self, document: Document, footnote_order: list[str],
                 quotes: tuple[str, str, str, str] = typography.QUOTES):
        self.doc = document
        self.footnote_order = footnote_order  # names in the order of their first marker
        self.quotes = quotes

    def parse(self, text: str, html_only: bool = False) -> list[str | Inline]:
        if not html_only and _SPECIAL.search(text) is None:  # plain text, as much prose is
            return [text] if text else []
        self.src = text
        self._failed: set[tuple[int, str]] = set()
        nodes, _ = self._spans(0, len(text), None, (), html_only)
        return nodes

    # --- the scanner ---------------------------------------------------------------------------

    def _spans(self, pos: int, end: int, stop, stack: tuple[str, ...], html_only: bool = False):
        """Nodes from `pos` until `stop(pos)` says the enclosing element closes (then the position of
        the closing) or `end` (then None)."""
        out: list[str | Inline] = []
        text = self.src
        plain = pos
        while pos < end:
            match = (_HTML_SPECIAL if html_only else _SPECIAL).search(text, pos, end)
            if match is None:
                break
            at = match.start()
            if stop is not None and stop(at):
                _text(out, text[plain:at])
                return out, at
            found = self._special(at, end, stack, html_only)
            if found is None:
                pos = at + 1
                continue
            node, after = found
            _text(out, text[plain:at])
            if isinstance(node, list):
                out.extend(node)
            elif node is not None:
                out.append(node)
            pos = plain = after
        _text(out, text[plain:end])
        return out, None

    def _special(self, at: int, end: int, stack: tuple[str, ...], html_only: bool):
        """(node or nodes, position after) for the construct starting at `at`, None when there is
        none (the character is then text)."""
        text = self.src
        char = text[at]
        if html_only:
            return self._entity(at) if char == "&" else self._html(at, end, stack, html_only=True)
        if char == "\n":  # first: the line ends of a paragraph are its most common find
            return self._line_break(at)
        if char == "\\":
            return self._escape(at, end)
        if char in "*_":
            return self._emphasis(at, end, stack)
        if char == "`":
            return self._with_ial(self._code(at, end), end)
        if char == "<":
            return (self._autolink(at, end) or self._with_ial(self._html(at, end, stack), end)
                    or self._typographic(at))
        if char == "&":
            return self._entity(at)
        if char in "-.>":
            return self._typographic(at)
        if char in "'\"":
            return [Typo(typography.quote(text, at, self.quotes))], at + 1
        if char == "[":
            return self._footnote(at) or self._with_ial(self._link(at, end, stack, image=False), end)
        if char == "!" and text.startswith("[", at + 1):
            return self._with_ial(self._link(at + 1, end, stack, image=True), end)
        if char == "{":
            return self._extension(at, end)
        if char == "$" and text.startswith("$$", at):
            return self._math(at, end)
        if char == "~" and text.startswith("~~", at) and "del" not in stack:
            return self._strike(at, end, stack)
        return None

    def _with_ial(self, found, end: int):
        """A span IAL written right after an element applies to it."""
        if found is None:
            return None
        node, after = found
        while isinstance(node, Inline) and (match := _SPAN_IAL.match(self.src, after, end)) is not None:
            node.ials.append(attributes.parse_list(match.group(1)))
            after = match.end()
        return node, after

    # --- escapes, entities, typography ---------------------------------------------------------

    def _escape(self, at: int, end: int):
        text = self.src
        following = text[at + 1:at + 2]
        if following == "\n" or at + 1 == end:  # GFM: a backslash ending a line breaks it
            return ([Inline("br"), "\n"], at + 2) if following == "\n" else None
        if text.startswith("\\(", at + 1) or text.startswith("\\[", at + 1):
            math = self._bracket_math(at, end)
            if math is not None:
                return math
        if following and following in ESCAPABLE:
            if following == "\\" and text[at + 2:at + 3] == "\n":
                return [Inline("br"), "\n"], at + 3
            return [following], at + 2
        return None

    def _bracket_math(self, at: int, end: int):
        """`\\\\(...\\\\)` and `\\\\[...\\\\]`: kramdown's escapes leave MathJax's delimiters in the text."""
        closing = "\\\\)" if self.src[at + 2] == "(" else "\\\\]"
        close = self.src.find(closing, at + 3, end)
        if close < 0:
            return None
        # The TeX is the text kramdown leaves between them: escapes resolved, quotes and dashes made
        # typographic, as MathJax then reads it on Jekyll's page.
        nodes, _ = self._spans(at + 3, close, None, ("a",))
        return Inline(MATH, text=flat_text(nodes), display=closing.endswith("]")), close + 3

    def _entity(self, at: int):
        found = typography.entity(self.src, at)
        return ([Typo(found[0])], found[1]) if found else None

    def _typographic(self, at: int):
        found = typography.symbol(self.src, at)
        return ([Typo(found[0])], found[1]) if found else None

    def _line_break(self, at: int):
        """Two spaces at the end of a line (not the block's last) break it."""
        if at > 1 and self.src[at - 2:at] == "  " and at + 1 < len(self.src):
            return [Inline("br"), "\n"], at + 1
        return None

    # --- code, math ----------------------------------------------------------------------------

    def _code(self, at: int, end: int):
        """A run of backticks up to the next run as long. A lone backtick between spaces is text; a
        longer delimiter drops one space on each side of the code."""
        text = self.src
        run = len(text[at:end]) - len(text[at:end].lstrip("`"))
        if run == 1 and at > 0 and text[at - 1] in " \t\n" and text[at + 1:at + 2] in (" ", "\t", "\n"):
            return ["`"], at + 1
        closing = re.compile(r"(?<!`)" + "`" * run + r"(?!`)")
        found = closing.search(text, at + run, end)
        if found is None:
            return ["`" * run], at + run
        code = text[at + run:found.start()]
        if run > 1:
            code = code[1:] if code.startswith(" ") else code
            code = code[:-1] if code.endswith(" ") else code
        return Inline(CODE, text=code), found.end()

    def _math(self, at: int, end: int):
        close = self.src.find("$$", at + 2, end)
        if close < 0:
            return ["$$"], at + 2
        return Inline(MATH, text=self.src[at + 2:close].strip()), close + 2

    # --- emphasis ------------------------------------------------------------------------------

    def _emphasis(self, at: int, end: int, stack: tuple[str, ...]):
        text = self.src
        char = text[at]
        double = text.startswith(char * 2, at)
        delimiter = char * 2 if double else char
        tag = "strong" if double else "em"
        after = at + len(delimiter)
        if (after >= end or text[after] in " \t\n" or tag in stack
                or (char == "_" and _WORD_BEFORE.search(text[max(0, at - 40):at]))):
            return [delimiter], after
        found = self._emphasis_body(at, after, end, delimiter, tag, stack)
        if found is None and tag == "strong" and "em" not in stack:
            found = self._emphasis_body(at, at + 1, end, char, "em", stack)
        if found is None:
            return [delimiter], after
        return self._with_ial(found, end)

    def _emphasis_body(self, at: int, start: int, end: int, delimiter: str, tag: str, stack):
        key = (start, tag)
        if key in self._failed:
            return None
        text = self.src
        char = delimiter[0]
        node = Inline(tag)

        def closes(pos: int) -> bool:
            """The closing delimiter: after a non-space, not empty, for `*` not the start of a
            `**` of exactly two, for `_` not inside a word."""
            if pos == start or not text.startswith(delimiter, pos) or text[pos - 1] in " \t\n":
                return False
            if tag == "em" and text.startswith(char * 2, pos) and not text.startswith(char * 3, pos):
                return False
            after = pos + len(delimiter)
            return not (char == "_" and after < len(text) and text[after].isalnum())

        children, close = self._spans(start, end, closes, stack + (tag,))
        if close is None:
            self._failed.add(key)
            return None
        node.children = children
        return node, close + len(delimiter)

    def _strike(self, at: int, end: int, stack):
        """GFM's `~~text~~`: up to the first `~~` after a non-space; the text inside is read after."""
        text = self.src
        if at + 2 >= end or text[at + 2] in " \t\n~":
            return None
        close = _STRIKE_CLOSE.search(text, at + 3, end)
        if close is None:
            return None
        children, _ = self._spans(at + 2, close.start(), None, stack + ("del",))
        return Inline("del", children), close.end()

    # --- links, images, footnotes --------------------------------------------------------------

    def _footnote(self, at: int):
        match = _FOOTNOTE.match(self.src, at)
        if match is None or match.group(1) not in self.doc.footnotes:
            return None
        name = match.group(1)
        if name not in self.footnote_order:
            self.footnote_order.append(name)
        return Inline(FOOTNOTE, text=name), match.end()

    def _link(self, at: int, end: int, stack, image: bool):
        text = self.src
        if "a" in stack and not image:
            return None
        close = matching_bracket(text, at, end)
        if close is None:
            return None
        label = text[at + 1:close]
        after = close + 1
        target = None
        if text.startswith("(", after):
            target = inline_target(text, after, end)
        if target is None:
            reference = _REFERENCE.match(text, after, end)
            if reference is not None and reference.group(1):
                key, after_ref = link_key(reference.group(1)), reference.end()
            elif reference is not None:
                key, after_ref = link_key(label), reference.end()
            else:
                key, after_ref = link_key(label), after
            if key not in self.doc.links:
                return None
            url, title = self.doc.links[key]
            target = (url, title, after_ref)
        url, title, after = target
        if image:
            node = Inline("img", attrs={"src": url, "alt": unescape(label)})
        else:
            node = Inline("a", attrs={"href": url})
            node.children, _ = self._spans(at + 1, close, None, stack + ("a",))
        if title is not None:
            node.attrs["title"] = title
        return node, after

    # --- HTML ----------------------------------------------------------------------------------

    def _autolink(self, at: int, end: int):
        match = _AUTOLINK.match(self.src, at, end)
        if match is None:
            return None
        target = html_unescape(match.group(1))
        href = target if ":" in target.split("@")[0] or "@" not in target else "mailto:" + target
        shown = target[7:] if target.lower().startswith("mailto:") else target
        return Inline("a", [shown], {"href": href}), match.end()

    def _html(self, at: int, end: int, stack, html_only: bool = False):
        text = self.src
        if text.startswith("<!--", at):
            comment = markup.COMMENT.match(text, at, end)
            return (Inline(RAW, text=comment.group(0)), comment.end()) if comment else None
        tag = markup.START_TAG.match(text, at, end)
        if tag is None:
            return None
        name = tag.group(1)
        lowered = name.lower()
        if lowered in markup.BLOCK_ELEMENTS or name != lowered and name != name.upper() and \
                lowered not in markup.SPAN_ELEMENTS:
            return None
        if name != lowered and lowered in ("hr",):
            return None
        attrs = markup.attributes(tag.group(2))
        mode = attrs.pop("markdown", None)
        node = Inline(lowered, attrs=attrs)
        if tag.group(3) or lowered in markup.VOID_ELEMENTS:
            return node, tag.end()
        if lowered in markup.TEXT_ELEMENTS:
            close = markup.find_raw_end(text[:end], tag.end(), lowered)
            inner_end, after = close if close else (end, end)
            if inner_end > tag.end():
                node.children = [Inline(RAW, text=text[tag.end():inner_end])]
            return node, after
        close = markup.find_end(text[:end], tag.end(), lowered)
        inner_end, after = close if close else (end, end)
        literal = mode == "0" or (html_only and mode not in ("1", "span", "block")) or \
            (lowered in markup.RAW_ELEMENTS and mode not in ("1", "span", "block"))
        node.children, _ = self._spans(tag.end(), inner_end, None, stack, literal)
        return node, after

    def _extension(self, at: int, end: int):
        text = self.src
        match = _EXTENSION.match(text, at, end)
        if match is None:
            return None
        name, body = match.group(1), match.group(2)
        if body.rstrip().endswith("/"):
            if name == "options":
                self.doc.options.update(markup.attributes(body.rstrip()[:-1]))
            return (Inline(COMMENT) if name == "comment" else None), match.end()
        close = re.compile(r"\{:/(?:" + re.escape(name) + r")?\}").search(text, match.end(), end)
        if close is None:
            return None
        inner = text[match.end():close.start()]
        if name == "comment":
            return Inline(COMMENT, text=inner), close.end()
        if name == "nomarkdown":
            return Inline(RAW, text=inner), close.end()
        return None, close.end()


def _text(out: list, chunk: str) -> None:
    if chunk:
        out.append(chunk)


def flat_text(nodes: list) -> str:
    """The text of parsed nodes, markup dropped."""
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node.tag in (CODE, MATH):
            out.append(node.text)
        elif node.tag not in (RAW, COMMENT, FOOTNOTE):
            out.append(flat_text(node.children))
    return "".join(out)




def unescape(text: str) -> str:
    """kramdown's backslash escapes resolved: `\\_` -> `_`, `\\{` -> `{` (an image's alt text)."""
    if "\\" not in text:
        return text
    return _BACKSLASHED.sub(lambda m: m.group(1) if m.group(1) in ESCAPABLE else m.group(0), text)
