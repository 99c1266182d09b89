"""Shortcuts through Python-Markdown that leave its output unchanged, byte for byte.

Python-Markdown tries each of its ~20 inline patterns on every piece of text, in order, each
search with its own Python overhead, about 800 tries for a 5 KB post of which a few dozen match.
Every match of an inline pattern holds a character such as `*`, `[`, `<` or `$`: a piece of text
without any of a pattern's characters cannot match it, so that try is skipped. Everything else
(the order of the patterns, a pattern tried again after it matched, where the next search
starts, nested text) stays the library's own work.

The other shortcuts do what a library function does with less Python per character or per
element: links' text and destination found mark to mark, the tree written by one recursive
walk (`to_html_string`), the unescape pass and whitespace normalisation touching only what they
change, and the figure decoration's notes and <source>s written once per build.

`tests/test_markdown_speed.py` renders tricky and random documents through these shortcuts and
through Python-Markdown configured the same way without them, and compares the HTML; each
shortcut is also compared with the library function it stands for, on random input.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import markdown
from markdown import serializers
from markdown.blockparser import BlockParser
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions import toc
from markdown.extensions.footnotes import FootnotePostprocessor
from markdown.htmlparser import HTMLExtractor, htmlparser
from markdown.inlinepatterns import LinkInlineProcessor, Pattern, dequote
from markdown.postprocessors import AndSubstitutePostprocessor, RawHtmlPostprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import InlineProcessor, UnescapeTreeprocessor
from markdown.util import ETX, HTML_PLACEHOLDER, STX, AtomicString, Registry
from pymdownx.superfences import SuperFencesBlockPreprocessor

# A need: text that holds at least one of these marks (None: any text).
Marks = tuple[str, ...] | None


def holds(marks: Marks, text: str) -> bool:
    return marks is None or any(mark in text for mark in marks)


# What every match of each inline pattern holds, by the pattern's name in the registry and its
# class (checked on the whole text, so never stricter than the pattern; a look-ahead's character
# counts, being in the text). A pattern not listed here (another extension's, or one replaced by
# a class not listed) is always tried.
NEEDS: dict[tuple[str, str], Marks] = {
    ("backtick", "BacktickInlineProcessor"): ("`",),  # a backtick, or backslashes before one
    ("math-inline-display", "_MathOutsideAttributes"): ("$$",),
    ("arithmatex-inline", "_MathOutsideAttributes"): ("$", "\\("),  # or backslashes before them
    ("escape", "EscapeInlineProcessor"): ("\\",),
    ("footnote", "FootnoteInlineProcessor"): ("[^",),
    ("reference", "ReferenceInlineProcessor"): ("[",),
    ("link", "LinkInlineProcessor"): ("[",),
    ("image_link", "ImageInlineProcessor"): ("![",),
    ("image_reference", "ImageReferenceInlineProcessor"): ("![",),
    ("short_reference", "ShortReferenceInlineProcessor"): ("[",),
    ("short_image_ref", "ShortImageReferenceInlineProcessor"): ("![",),
    ("autolink", "MagiclinkAutoPattern"): ("<",),
    ("automail", "AutomailInlineProcessor"): ("<",),
    ("linebreak", "SubstituteTagInlineProcessor"): ("  \n",),
    ("html", "HtmlInlineProcessor"): ("<",),
    ("magic-link", "MagiclinkPattern"): ("://", "ww", "wW", "Ww", "WW"),  # or "www." in any case
    ("magic-mail", "MagiclinkMailPattern"): ("@",),
    ("entity", "HtmlInlineProcessor"): ("&",),
    ("em_strong", "AsteriskProcessor"): ("*",),
    ("em_strong", "DelimiterProcessor"): ("*", "_"),
    ("em_strong2", "UnderscoreProcessor"): ("_",),
}

# The same for block processors, checked on the block at hand: a processor is skipped where its
# test would fail, or where its run would put the block back and report False (those whose test
# is always True: link references, footnote definitions, indented code under superfences).
INDENT = " " * 4  # Python-Markdown's tab_length (`install` checks it); such a block starts with it
BLOCK_NEEDS: dict[tuple[str, str], Marks] = {
    ("indent", "ListIndentProcessor"): (INDENT,),
    ("code", "SuperFencesCodeBlockProcessor"): (INDENT,),
    ("code", "CodeBlockProcessor"): (INDENT,),
    ("arithmatex-block", "BlockArithmatexProcessor"): ("$$", "\\"),  # $$...$$, \[...\], \begin{...}
    ("table", "TableProcessor"): ("|",),  # a row of two cells, or a one-cell row with a border
    ("hashheader", "HashHeaderProcessor"): ("#",),
    ("setextheader", "SetextHeaderProcessor"): ("\n=", "\n-"),
    # a rule: three of one mark, up to two spaces apart (so two of them at least once)
    ("hr", "HRProcessor"): ("--", "- -", "-  -", "__", "_ _", "_  _", "**", "* *", "*  *"),
    ("olist", "OListProcessor"): (".",),
    ("ulist", "UListProcessor"): ("*", "+", "-"),
    ("quote", "BlockQuoteProcessor"): (">",),
    ("footnote", "FootnoteBlockProcessor"): ("[^",),
    ("reference", "ReferenceProcessor"): ("]:",),
}


def needs_of(registry: Registry, needs: dict[tuple[str, str], Marks]) -> list[tuple[Any, Marks]]:
    """Each item of a registry in order, with its need (None where the table has none)."""
    items = list(registry)  # sorts the registry
    return [(item, needs.get((entry.name, type(item).__name__)))
            for entry, item in zip(registry._priority, items, strict=True)]


# Where each block processor's match must begin: (the characters a block it takes may start
# with, a pattern found in every block it takes that does not start with one of them). A heading,
# rule, quote or setext underline begins a line; a list, indented code or a math block begins
# the block; a table row, footnote or reference holds its mark anywhere. A block that starts with
# none of these characters and holds none of these patterns (most paragraphs) can only be taken
# by the processors not listed: the empty block's and the paragraph's.
BLOCK_PLACES: dict[tuple[str, str], tuple[str, str | None]] = {
    ("indent", "ListIndentProcessor"): (" ", None),  # tab_length spaces
    ("code", "SuperFencesCodeBlockProcessor"): (" ", None),
    ("code", "CodeBlockProcessor"): (" ", None),
    ("arithmatex-block", "BlockArithmatexProcessor"): ("$\\", None),  # $$, \[ or \begin at the start
    ("table", "TableProcessor"): ("", r"\|"),
    ("hashheader", "HashHeaderProcessor"): ("#", r"\n#"),
    ("setextheader", "SetextHeaderProcessor"): ("", r"\n[=-]"),
    ("hr", "HRProcessor"): (" -_*", r"\n {0,3}[-_*]"),
    ("olist", "OListProcessor"): (" 0123456789", None),  # up to 3 spaces, then a number
    ("ulist", "UListProcessor"): (" *+-", None),
    ("quote", "BlockQuoteProcessor"): (" >", r"\n {0,3}>"),
    ("footnote", "FootnoteBlockProcessor"): ("", r"\[\^"),
    ("reference", "ReferenceProcessor"): ("", r"\]:"),
}


def may_take(place: tuple[str, str | None], block: str) -> bool:
    """Whether a block processor with this place could take the block (see BLOCK_PLACES)."""
    starts, pattern = place
    if block and block[0] in starts:
        return True
    return pattern is not None and re.search(pattern, block) is not None


def _plain_text(pattern: str) -> str | None:
    """The text a pattern matches where it is plain text with escapes (`\\[\\^`), else None."""
    text = re.sub(r"\\(\W)", r"\1", pattern)
    return text if re.escape(text) == pattern else None


def any_may_take(places: list[tuple[str, str | None]]) -> Callable[[str], bool]:
    """Whether any processor with one of these places could take a block, in one go: the first
    character looked up, the patterns that are plain text looked for with `in` (a regex steps
    through non-ASCII text a character at a time), those that start a line in one regex, searched
    only in a block of several lines."""
    starts = "".join(place[0] for place in places)
    patterns = [place[1] for place in places if place[1] is not None]
    texts = tuple(text for pattern in patterns if (text := _plain_text(pattern)) is not None)
    others = [pattern for pattern in patterns if _plain_text(pattern) is None]
    after_break = [pattern for pattern in others if pattern.startswith(r"\n")]
    lines = re.compile("|".join(after_break)) if after_break else None
    rest = [pattern for pattern in others if not pattern.startswith(r"\n")]
    anywhere = re.compile("|".join(rest)) if rest else None

    def may_be_taken(block: str) -> bool:
        if not block:
            return False
        if block[0] in starts:
            return True
        for text in texts:  # (a loop, not any(): this runs for every block)
            if text in block:
                return True
        if lines is not None and "\n" in block and lines.search(block) is not None:
            return True
        return anywhere is not None and anywhere.search(block) is not None

    return may_be_taken


def skipping_parse_blocks(parser: BlockParser) -> Callable[[ET.Element, list[str]], None]:
    """`BlockParser.parseBlocks`, trying on each block only the block processors that could take
    it: a block no processor's place allows (most paragraphs: one test for all of them) tries
    those without a place; any other block, the processors whose place allows its first
    character, or whose place's pattern it holds, and whose marks it holds. The lists are made
    once per first character."""
    processors = needs_of(parser.blockprocessors, BLOCK_NEEDS)
    places = [BLOCK_PLACES.get((entry.name, type(item).__name__))
              for entry, item in zip(parser.blockprocessors._priority, parser.blockprocessors, strict=True)]
    placed = any_may_take([place for place in places if place is not None])
    Candidate = tuple[int, Any, Marks, "re.Pattern | None"]  # index, processor, marks, pattern to hold
    by_start: dict[str | None, list[Candidate]] = {}

    def candidates(start: str | None) -> list[Candidate]:
        """The processors that could take a block starting with `start` (None: a block no
        processor with a place can take), in order."""
        found = []
        for index, ((processor, marks), place) in enumerate(zip(processors, places, strict=True)):
            if place is None or (start is not None and start in place[0]):  # ("" is in every str)
                found.append((index, processor, marks, None))
            elif start is not None and place[1] is not None:
                found.append((index, processor, marks, re.compile(place[1])))
        return found

    def walk(parent: ET.Element, blocks: list[str], first: int) -> None:
        """The library's loop from processor `first` on: after a processor that declined the
        block changed it, the next one looks at what is first now."""
        for processor, marks in processors[first:]:
            block = blocks[0]
            if marks is not None and not any(mark in block for mark in marks):
                continue
            if processor.test(parent, block) and processor.run(parent, blocks) is not False:
                break

    def parse_blocks(parent: ET.Element, blocks: list[str]) -> None:
        while blocks:
            block = blocks[0]
            start = block[:1] if placed(block) else None
            tried = by_start.get(start)
            if tried is None:
                tried = by_start[start] = candidates(start)
            for index, processor, marks, pattern in tried:
                if marks is not None:
                    for mark in marks:  # inline, not holds(): this runs ~300 times per post
                        if mark in block:
                            break
                    else:
                        continue
                if pattern is not None and pattern.search(block) is None:
                    continue
                if processor.test(parent, block):
                    if processor.run(parent, blocks) is not False:
                        break
                    if not blocks or blocks[0] is not block:  # declined, and changed the blocks
                        walk(parent, blocks, index + 1)
                        break
            # as in the library, the next block (or this one again) starts from the first processor

    return parse_blocks


class HeadingSearch:
    """`HashHeaderProcessor.RE.search(block)`: a `#` heading at the block's start or after a
    line break. The pattern is tried only where a line starts with `#`, and there first as the
    greedy `PLAIN`: on a heading line with no `#` after its level and no backslash, it gives the
    library's match (span and groups) without trying the rest of the pattern after each
    character. The last answer is remembered: the processor's test searches the block, and its
    run the same block again. Anything else goes to the library's pattern."""

    PLAIN = re.compile(r"(?:^|\n)(?P<level>#{1,6})(?P<header>[^\\#\n]*)(?:\n|$)")

    def __init__(self, pattern: re.Pattern):
        self.pattern = pattern
        self.block: str | None = None
        self.found: re.Match | None = None

    def search(self, block: str, *where: int) -> re.Match | None:
        if where:
            return self.pattern.search(block, *where)
        if block is not self.block:
            self.block, self.found = block, self._search(block)
        return self.found

    def _search(self, block: str) -> re.Match | None:
        at = 0 if block.startswith("#") else block.find("\n#")
        while at != -1:
            found = self.PLAIN.match(block, at) or self.pattern.match(block, at)
            if found is not None:
                return found
            at = block.find("\n#", at + 1)
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pattern, name)


def block_processor_shortcuts(md: markdown.Markdown) -> None:
    """The hash heading's processor searches each block once, where lines start with `#`."""
    headings = md.parser.blockprocessors["hashheader"] if "hashheader" in md.parser.blockprocessors else None
    if type(headings) is HashHeaderProcessor and headings.RE is HashHeaderProcessor.RE:
        headings.RE = HeadingSearch(HashHeaderProcessor.RE)


# --- Preprocessors: work skipped where the text cannot hold what it looks for ----------------

FENCE_OPENERS = ("```", "~~~")  # a fence opens with three backticks or three tildes, on one line


def skipping_fence_search(fences: SuperFencesBlockPreprocessor) -> Callable[[list[str]], list[str]]:
    """superfences' `search_nested` (each line's leading whitespace parsed, then a fence opener
    looked for after it) without the walk where no line holds an opener: the lines come back as
    they are, and the preprocessor keeps the last line's whitespace, as after the library's walk."""
    library = fences.search_nested

    def search_nested(lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if any(opener in text for opener in FENCE_OPENERS):
            return library(lines)
        if lines:
            fences.parse_whitespace(lines[-1].rstrip("\r"))
        return fences.reassemble(lines)

    return search_nested


_MARK_AT = re.compile("[&<]")  # what the HTML parser stops at, outside <script> and <style>


class _NextMark:
    """`html.parser`'s `interesting_normal.search` (the next `&` or `<`), by two `str.find`s
    whose answers are kept for the next call on the same text: a regex's search for one of two
    characters steps through non-ASCII text a character at a time."""

    pattern = "[&<]"

    def __init__(self) -> None:
        self.text: str | None = None
        self.found: dict[str, int] = {}  # each mark's first place at or after `searched`
        self.searched = 0

    def search(self, text: str, position: int = 0) -> re.Match | None:
        if text is not self.text or position < self.searched:
            self.text, self.found = text, {}
        self.searched = position
        first = len(text)
        for mark in "&<":
            at = self.found.get(mark, -2)
            if at != -1 and at < position:
                at = self.found[mark] = text.find(mark, position)
            if at != -1:
                first = min(first, at)
        return _MARK_AT.match(text, first) if first < len(text) else None


class LineStartsExtractor(HTMLExtractor):
    """Python-Markdown's HTML extractor, finding the start of the parser's current line as its
    position less its column, instead of walking the text line by line from the last line it
    found (from the document's start to its first tag); and the next tag or entity with
    `_NextMark`. Once `close()` has the parser go on with what was left of the text, the
    library's own walk, which starts from the last line start found (the only one it reads)."""

    def reset(self) -> None:
        super().reset()
        self.interesting = self.next_mark = _NextMark()
        self.position = 0  # where the parser is: the last position `updatepos` moved it to
        self.closing = False

    def clear_cdata_mode(self) -> None:
        super().clear_cdata_mode()
        self.interesting = self.next_mark

    def updatepos(self, i: int, j: int) -> int:
        if i < j:
            self.position = j
        return super().updatepos(i, j)

    def close(self) -> None:
        self.closing = True
        super().close()

    @property
    def line_offset(self) -> int:
        cache, line = self.lineno_start_cache, self.lineno
        if len(cache) < line:
            if self.closing:
                return HTMLExtractor.line_offset.fget(self)
            # The lines between are never read again: a parser's line number only grows.
            cache.extend([-1] * (line - len(cache) - 1))
            cache.append(self.position - self.offset)
        return cache[line - 1]


class SkippingHtmlBlock(HtmlBlockPreprocessor):
    """The library's HTML-block preprocessor, with `LineStartsExtractor`; a text without `<` or
    `&` comes back as it is (the parser would only hand it on as data)."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines)
        if "<" not in source and "&" not in source:  # the lines, unless one held a line break
            return list(lines) if source.count("\n") == len(lines) - 1 else source.split("\n")
        parser = LineStartsExtractor(self.md)
        parser.feed(source)
        parser.close()
        return "".join(parser.cleandoc).split("\n")

    @staticmethod
    def applies() -> bool:
        """Whether the parser still looks for the next tag or entity with `interesting_normal`,
        and the extractor keeps line starts where `LineStartsExtractor` does."""
        normal = getattr(htmlparser, "interesting_normal", None)
        return (normal is not None and normal.pattern == _NextMark.pattern
                and isinstance(vars(HTMLExtractor).get("line_offset"), property)
                and callable(getattr(htmlparser.HTMLParser, "updatepos", None)))


def block_shortcuts(md: markdown.Markdown) -> None:
    """The preprocessors', block processors' and raw HTML's shortcuts, each where the converter
    has the library's class."""
    block_processor_shortcuts(md)
    fences = md.preprocessors["fenced_code_block"] if "fenced_code_block" in md.preprocessors else None
    if type(fences) is SuperFencesBlockPreprocessor:
        fences.search_nested = skipping_fence_search(fences)
    raw = md.postprocessors["raw_html"] if "raw_html" in md.postprocessors else None
    if type(raw) in (RawHtmlPostprocessor, SkippingRawHtml):
        raw.run = placeholder_regions(raw.run)
    if type(md.preprocessors["html_block"]) is HtmlBlockPreprocessor and SkippingHtmlBlock.applies():
        md.preprocessors.register(SkippingHtmlBlock(md), "html_block", 20)


# --- Raw HTML back in place: only where its placeholders are -------------------------------

_RAW_PLACEHOLDER = re.compile(HTML_PLACEHOLDER % "[0-9]+")
_AROUND = (len("<p>"), len("</p>"))  # what the library's pattern may take on either side of one


def placeholder_regions(library: Callable[[str], str]) -> Callable[[str], str]:
    """The raw-HTML postprocessor's `run` (each placeholder of the HTML stash, or one alone in a
    paragraph, replaced by what it holds), given only the stretches of the document around its
    placeholders: its pattern steps through the whole document otherwise, trying `<p>` at every
    tag. Every match holds a whole placeholder and reaches at most `<p>` before it and `</p>`
    after, so the stretches, merged where they meet, hold every match, and the library's scan
    of each finds what its scan of the document finds there."""

    def run(text: str) -> str:
        pieces, position, region = [], 0, None
        at = text.find(STX)
        while at != -1:
            found = _RAW_PLACEHOLDER.match(text, at)
            if found is not None:
                start, end = max(at - _AROUND[0], 0), min(found.end() + _AROUND[1], len(text))
                if region is not None and start <= region[1]:
                    region = (region[0], end)
                else:
                    if region is not None:
                        pieces += [text[position:region[0]], library(text[region[0]:region[1]])]
                        position = region[1]
                    region = (start, end)
                at = text.find(STX, found.end())
            else:
                at = text.find(STX, at + 1)
        if region is None:
            return library(text) if STX in text else text
        pieces += [text[position:region[0]], library(text[region[0]:region[1]]), text[region[1]:]]
        return "".join(pieces)

    return run


# --- The table of contents: each heading's HTML and name ------------------------------------

# Postprocessors that replace placeholders only (each starts with STX): a text without STX comes
# back from them as it went in.
PLACEHOLDER_POSTPROCESSORS = (RawHtmlPostprocessor, AndSubstitutePostprocessor, FootnotePostprocessor)


PLAIN_HEADING_MARKS = ("&", "<", ">", STX)  # what a heading's text is written without, or escaped with


def heading_text(md: markdown.Markdown) -> Callable[[ET.Element], tuple[str, str]]:
    """For `toc`: a heading's inner HTML (`render_inner_html`) and its name (`strip_tags` of
    that), without the steps that leave it unchanged: the unescape pass and the postprocessors on
    a text without STX, tag stripping on a text without `<`; and for a heading of plain text
    alone (no element, attribute, escape or placeholder), without writing it. The
    postprocessors are the converter's own, read when it is complete."""
    postprocessors = list(md.postprocessors)
    placeholders_only = all(isinstance(pp, PLACEHOLDER_POSTPROCESSORS) for pp in postprocessors)

    def text_of(heading: ET.Element) -> tuple[str, str]:
        text, tail = heading.text or "", heading.tail or ""
        if (placeholders_only and not len(heading) and not heading.attrib and STX not in tail
                and not any(mark in text for mark in PLAIN_HEADING_MARKS)):
            html = text.strip()  # what the writer writes of text alone: the text itself
            return html, " ".join(html.split())
        html = md.serializer(heading)
        if STX in html:
            html = toc.unescape(html)
        html = html[html.index(">") + 1:html.rindex("<")].strip()  # the heading's tags left out
        if STX in html or not placeholders_only:
            html = toc.run_postprocessors(html, md)
        return html, toc.strip_tags(html) if "<" in html else " ".join(html.split())

    return text_of


class SkippingInlineProcessor(InlineProcessor):
    """The library's inline processor, skipping the patterns a piece of text cannot match.

    Overrides the library's private `__handleInline` (name-mangled, hence the spelled-out name):
    its loop, with a pattern that cannot match counted as one that did not. `applies()` says
    whether the library still has the private methods this relies on."""

    def __init__(self, md: markdown.Markdown, needs: dict[tuple[str, str], Marks]):
        super().__init__(md)
        # Plain lists: the registry checks its order on every lookup. Nothing registers
        # patterns after the converter is made.
        pairs = needs_of(md.inlinePatterns, needs)
        self.inlinePatterns = [pattern for pattern, _ in pairs]
        self.needs = [marks for _, marks in pairs]

    @staticmethod
    def applies() -> bool:
        return all(hasattr(InlineProcessor, f"_InlineProcessor__{name}")
                   for name in ("handleInline", "applyPattern", "processPlaceholders"))

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        if isinstance(data, AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern
        patterns, needs = self.inlinePatterns, self.needs
        count = len(patterns)
        start = 0
        while patternIndex < count:
            marks = needs[patternIndex]
            if marks is not None:
                for mark in marks:  # inline, not holds(): this runs ~900 times per post
                    if mark in data:
                        break
                else:
                    start = 0  # as after a try that found nothing
                    patternIndex += 1
                    continue
            data, matched, start = apply(patterns[patternIndex], data, patternIndex, start)
            if not matched:
                patternIndex += 1
            # else the same pattern again, from after what it replaced
        return data


_BRACKET = re.compile(r"[\[\]]")


def bracketed_text(data: str, index: int) -> tuple[str, int, bool]:
    """`LinkInlineProcessor.getText`: the text from `index` to the `]` that closes the `[` just
    before it (nested pairs inside), the index after that `]`, and whether there was one. The
    library steps through the text a character at a time; this jumps from bracket to bracket."""
    depth = 1
    for bracket in _BRACKET.finditer(data, index):
        depth += 1 if bracket.group() == "[" else -1
        if depth == 0:
            return data[index:bracket.start()], bracket.end(), True
    return data[index:], max(index, len(data)), False


_DESTINATION_MARK = re.compile("[()'\"]")  # what the library's destination loop reacts to


def _scan_destination(data: str, start: int) -> tuple[str, str | None, int, bool]:
    """The loop of `LinkInlineProcessor.getLink` over `(destination "title")` from `start` (just
    after the parenthesis): nested parentheses, a title in either quote, and the fallbacks when
    a title is not closed. The library looks at every character; this looks at the marks only,
    working out the last non-space character before a `)` when it needs it. Returns the raw
    destination, the raw title, the index after the link and whether it was closed."""
    depth = backtrack = 1
    last_bracket = start_quote = exit_quote = start_alt_quote = exit_alt_quote = -1
    quote = alt_quote = None
    in_title = False  # the library's ignore_matches
    for mark in _DESTINATION_MARK.finditer(data, start):
        position, char = mark.start(), mark.group()
        if char == "(":
            if not in_title:
                depth += 1
            elif backtrack > 0:
                backtrack -= 1
        elif char == ")":
            last = data[start:position].rstrip(" ")[-1:]
            if (exit_quote != -1 and quote == last) or (exit_alt_quote != -1 and alt_quote == last):
                depth = 0
            elif not in_title:
                depth -= 1
            elif backtrack > 0:
                backtrack -= 1
                if backtrack == 0:
                    last_bracket = position + 1
            if depth == 0:  # closed: only a `)` closes
                if exit_quote >= 0 and quote == last:
                    return data[start:start_quote - 1], data[start_quote:exit_quote - 1], position + 1, True
                if exit_alt_quote >= 0 and alt_quote == last:
                    return (data[start:start_alt_quote - 1], data[start_alt_quote:exit_alt_quote - 1],
                            position + 1, True)
                return data[start:position], None, position + 1, True
        elif not quote:  # a first quote: from here on, presumably a title
            in_title, backtrack, depth = True, depth, 1
            start_quote, quote = position + 1, char
        elif char != quote and not alt_quote:
            start_alt_quote, alt_quote = position + 1, char
        elif char == quote:
            exit_quote = position + 1
        elif alt_quote and char == alt_quote:
            exit_alt_quote = position + 1
    if backtrack == 0:  # an unclosed title: the link ends at the `)` that balanced before it
        return data[start:last_bracket - 1], None, last_bracket, True
    return "", None, max(start, len(data)), False


def jumping_get_link(pattern: LinkInlineProcessor) -> Callable[[str, int], tuple[str, str | None, int, bool]]:
    """`pattern.getLink` with the destination loop of `_scan_destination`; the library's own
    method where it has no loop to run (no `(`, or `(<destination>`)."""

    def get_link(data: str, index: int) -> tuple[str, str | None, int, bool]:
        opening = pattern.RE_LINK.match(data, pos=index)
        if not opening or opening.group(1):
            return LinkInlineProcessor.getLink(pattern, data, index)
        href, title, index, closed = _scan_destination(data, opening.end())
        if title is not None:
            title = pattern.RE_TITLE_CLEAN.sub(" ", dequote(pattern.unescape(title.strip())))
        return pattern.unescape(href).strip(), title, index, closed

    return get_link


def skipping_unescape(pattern: Pattern) -> Callable[[str], str]:
    """`pattern.unescape` (stashed inline nodes back as text in a link's destination, title or
    alt text: ~30 calls a post), not searching a string that holds no placeholder (they start
    with STX). A plain string comes back as it is, anything else goes through the library."""
    library = pattern.unescape

    def unescape(text: str) -> str:
        return text if type(text) is str and STX not in text else library(text)

    return unescape


def patterns_shortcuts(md: markdown.Markdown) -> None:
    """Links' and images' patterns find the end of their text with `bracketed_text` and of
    their destination with `_scan_destination`; every pattern unescapes with
    `skipping_unescape` (each where its class does these as the library does)."""
    for pattern in md.inlinePatterns:
        if type(pattern).unescape is Pattern.unescape:
            pattern.unescape = skipping_unescape(pattern)
        if not isinstance(pattern, LinkInlineProcessor):
            continue
        if type(pattern).getText is LinkInlineProcessor.getText:
            pattern.getText = bracketed_text
        if type(pattern).getLink is LinkInlineProcessor.getLink:
            pattern.getLink = jumping_get_link(pattern)


class LineWiseWhitespace(NormalizeWhitespace):
    """The library's first preprocessor: STX and ETX removed, line breaks made `\n`, two blank
    lines added, tabs expanded, and each line after the first that holds only spaces emptied.
    That last step is a regex with a look-behind tried at every character; here, a test per line."""

    def run(self, lines: list[str]) -> list[str]:
        source = "\n".join(lines).replace(STX, "").replace(ETX, "")
        source = source.replace("\r\n", "\n").replace("\r", "\n") + "\n\n"
        lines = source.expandtabs(self.md.tab_length).split("\n")
        last = len(lines) - 1  # the only line no line break follows: the regex needs one
        return ["" if 0 < number < last and line and not line.strip(" ") else line
                for number, line in enumerate(lines)]


class SkippingUnescape(UnescapeTreeprocessor):
    """The library's last tree processor (characters escaped with a backslash, kept as their
    code point between STX and ETX, back as themselves in every text, tail and attribute),
    with no substitution tried on a string that holds no STX."""

    def unescape(self, text: str) -> str:
        if type(text) is str and STX not in text:
            return text
        return super().unescape(text)


class SkippingRawHtml(RawHtmlPostprocessor):
    """The library's first postprocessor (raw HTML back from its stash in place of its STX
    placeholders), not searching a text that holds no placeholder. It runs on the document
    and on every heading."""

    def run(self, text: str) -> str:
        return super().run(text) if STX in text else text


def remembering_is_block_level(md: markdown.Markdown) -> Callable[[Any], bool]:
    """`Markdown.is_block_level` (a look-up in a list of ~50 names, some 130 times a post),
    remembering its answer for each tag. The list is read when the converter is complete."""
    names = frozenset(md.block_level_elements)
    known: dict[Any, bool] = {}

    def is_block_level(tag: Any) -> bool:
        answer = known.get(tag)
        if answer is None:
            answer = known[tag] = isinstance(tag, str) and tag.lower().rstrip("/") in names
        return answer

    return is_block_level


class SkippingUnescapeWalk(SkippingUnescape):
    """The same, also not setting a text, tail or attribute that holds no STX to itself (the
    library's walk sets every one of them, ~100 elements a post)."""

    def run(self, root: ET.Element) -> None:
        unescape = self.unescape
        for element in root.iter():
            text, tail = element.text, element.tail
            if text and STX in text and element.tag != "code":
                element.text = unescape(text)
            if tail and STX in tail:
                element.tail = unescape(tail)
            for key, value in element.items():
                if value is not None and STX in value:
                    element.set(key, unescape(value))


# --- Writing the tree: `to_html_string` for this configuration's trees, in one recursive walk ---

_KINDS: dict[str, tuple[str, bool]] = {}  # tag -> (its end tag, whether its text is written as it is)


def _kind(tag: str) -> tuple[str, bool]:
    """What the library decides from `tag.lower()`: no end tag for a void element (its content,
    if any, is written), the text of <script> and <style> unescaped. Remembered per tag."""
    lower = tag.lower()
    kind = _KINDS[tag] = ("" if lower in ET.HTML_EMPTY else f"</{tag}>", lower in ("script", "style"))
    return kind


def _escape_text(text: str) -> str:
    # As the library escapes text: `&` unless it starts an entity, `<`, `>`.
    if "&" in text:
        text = serializers.RE_AMP.sub("&amp;", text)
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _escape_value(value: str) -> str:
    # As the library escapes an attribute's value in HTML: the same, and `"`.
    text = _escape_text(value)
    return text.replace('"', "&quot;") if '"' in text else text


class _Unusual(Exception):
    """A tree the walk below leaves to the library: a comment, a processing instruction, a
    QName, an element without a tag, an attribute that is not a string."""


def _write(element: ET.Element, out: list[str]) -> None:
    """The element, its content and its tail, as the library writes them (format "html")."""
    tag = element.tag
    if type(tag) is not str:
        raise _Unusual
    if tag == WRITTEN:
        out.append(element.text)
        if element.tail:
            out.append(_escape_text(element.tail))
        return
    attributes = element.attrib
    out.append(f"<{tag}{_attributes(attributes)}>" if attributes else f"<{tag}>")
    end, raw = _KINDS.get(tag) or _kind(tag)
    text = element.text
    if text:
        out.append(text if raw else _escape_text(text))
    for child in element:
        _write(child, out)
    if end:
        out.append(end)
    if element.tail:
        out.append(_escape_text(element.tail))


_BOOLEAN = serializers.BOOLEAN_ATTRIBUTES["html"] if hasattr(serializers, "BOOLEAN_ATTRIBUTES") else None


def _attributes(attributes: dict) -> str:
    written = ""
    for key in sorted(attributes):  # the library writes them in lexical order
        value = attributes[key]
        if type(key) is not str:
            raise _Unusual
        if value is None:
            written += f" {key}"  # a valueless attribute, as it was given
            continue
        if type(value) is not str:
            raise _Unusual
        value = _escape_value(value)
        written += f" {value}" if key == value and key in _BOOLEAN else f' {key}="{value}"'
    return written


def to_html_string(root: ET.Element) -> str:
    """`markdown.serializers.to_html_string`, the same text for every tree, faster: it runs on
    the document, and once more on each heading for its id and table-of-contents entry."""
    out: list[str] = []
    try:
        _write(root, out)
    except (_Unusual, RecursionError):  # RecursionError: a tree nested deeper than Python allows
        return serializers.to_html_string(root)
    return "".join(out)


# --- Subtrees written once: the figure decoration's notes and <source>s ---------------------

WRITTEN = "markdown-speed-written"  # an element `to_html_string` writes as its text: HTML written before
_HEADING = re.compile("[Hh][123456]")  # what `toc` takes for a heading (a match at the start)
AFTER_FIGURES = ["toc", "unescape"]  # the tree processors that run after the figure decoration


def _inert(element: ET.Element) -> bool:
    """Whether `toc` and the unescape pass leave the subtree as it is: no heading, no id (toc
    keeps ids unique), no escaped character (STX) in any text, tail or attribute."""
    for node in element.iter():
        if type(node.tag) is not str or _HEADING.match(node.tag) or "id" in node.attrib:
            return False
        if any(STX in text for text in (node.text, node.tail, *node.attrib.values()) if text):
            return False
    return True


def written_html(md: markdown.Markdown) -> Callable[..., ET.Element | None] | None:
    """For the figure decoration, which adds the same notes and <source>s to every post: the
    subtrees as one element holding the HTML `to_html_string` writes for them, made once per
    build, or None where a later tree processor could still change them (the writer then writes
    the trees themselves). None for a converter this does not hold for."""
    priority = {entry.name: entry.priority for entry in md.treeprocessors._priority}
    after = sorted((name for name in priority if priority[name] < priority["figure_captions"]),
                   key=priority.get, reverse=True)
    if md.serializer is not to_html_string or after != AFTER_FIGURES:
        return None
    marker = getattr(md.treeprocessors["toc"], "marker", "")

    def written(*elements: ET.Element) -> ET.Element | None:
        if not all(_inert(element) for element in elements):
            return None
        html = "".join(to_html_string(element) for element in elements)
        if marker and marker in html:  # `[TOC]` in a note: toc would look for it in the text
            return None
        element = ET.Element(WRITTEN)
        element.text = html
        return element

    return written


def serializer_applies(md: markdown.Markdown) -> bool:
    """Whether the converter writes HTML with the library's serializer this walk mirrors (one
    that knows boolean attributes, as Python-Markdown does since 3.10)."""
    return md.serializer is serializers.to_html_string and _BOOLEAN is not None


def install(md: markdown.Markdown) -> None:
    """Put the shortcuts into a converter whose extensions are all registered."""
    md.is_block_level = remembering_is_block_level(md)
    if type(md.preprocessors["normalize_whitespace"]) is NormalizeWhitespace:
        md.preprocessors.register(LineWiseWhitespace(md), "normalize_whitespace", 30)
    if type(md.postprocessors["raw_html"]) is RawHtmlPostprocessor:
        md.postprocessors.register(SkippingRawHtml(md), "raw_html", 30)
    if type(md.treeprocessors["unescape"]) is UnescapeTreeprocessor:
        md.treeprocessors.register(SkippingUnescapeWalk(md), "unescape", 0)
    if serializer_applies(md):
        md.serializer = to_html_string
    if SkippingInlineProcessor.applies():
        md.treeprocessors.register(SkippingInlineProcessor(md, NEEDS), "inline", 20)
    patterns_shortcuts(md)
    if md.tab_length == len(INDENT):
        md.parser.parseBlocks = skipping_parse_blocks(md.parser)
    block_shortcuts(md)
