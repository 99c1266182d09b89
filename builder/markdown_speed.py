"""Shortcuts through Python-Markdown that leave its output unchanged, byte for byte.

Python-Markdown tries each of its ~20 inline patterns on every piece of text, in order, each
search with its own Python overhead, about 800 tries for a 5 KB post of which a few dozen match.
Every match of an inline pattern holds a character such as `*`, `[`, `<` or `$`: a piece of text
without any of a pattern's characters cannot match it, so that try is skipped, and a text no
pattern can match is left alone. The inline processor's walk, tries and placeholders are the
library's own steps with less Python per call (the order of the patterns, a pattern tried again
after it matched, where the next search starts, nested text, all as the library does them).

The other shortcuts do what a library function does with less Python per character or per
element: links' text and destination found mark to mark (a plain link or image from one regex
match), a lone pair of emphasis delimiters paired directly, bare links searched from where one
can start, the tree written by one recursive walk (`to_html_string`), the unescape pass,
whitespace normalisation and the whitespace pass touching only what they change, and the figure
decoration's notes and <source>s written once per build.

`tests/test_markdown_speed.py` renders tricky and random documents through these shortcuts and
through Python-Markdown configured the same way without them, and compares the HTML; each
shortcut is also compared with the library function it stands for, on random input.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable
from typing import Any

import markdown
from markdown import serializers
from markdown.blockparser import BlockParser
from markdown.blockprocessors import HashHeaderProcessor
from markdown.extensions import toc
from markdown.extensions.footnotes import FootnotePostprocessor
from markdown.htmlparser import HTMLExtractor, htmlparser
from markdown.inlinepatterns import ImageInlineProcessor, LinkInlineProcessor, Pattern, dequote
from markdown.inlinepatterns import InlineProcessor as LibraryInlinePattern
from markdown.postprocessors import AndSubstitutePostprocessor, RawHtmlPostprocessor
from markdown.preprocessors import HtmlBlockPreprocessor, NormalizeWhitespace
from markdown.treeprocessors import InlineProcessor, PrettifyTreeprocessor, UnescapeTreeprocessor
from markdown.util import (
    ETX,
    HTML_PLACEHOLDER,
    INLINE_PLACEHOLDER,
    INLINE_PLACEHOLDER_PREFIX,
    INLINE_PLACEHOLDER_RE,
    STX,
    AtomicString,
    Registry,
)
from pymdownx.magiclink import RE_LINK as MAGIC_LINK_RE
from pymdownx.magiclink import MagiclinkPattern
from pymdownx.superfences import SuperFencesBlockPreprocessor

try:  # Python-Markdown 3.11's emphasis
    from markdown.inlinepatterns import DelimiterProcessor
except ImportError:  # pragma: no cover
    DelimiterProcessor = None

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


def _magic_link_start(data: str, start: int) -> int:
    """Where a match of magiclink's bare-link regex can start at the earliest, from `start` on:
    every match begins with `http://`, `https://`, `ftp://` or `ftps://` (at most five characters
    before its `://`) or with `www.`, in any case; the length of the text where there is none."""
    earliest = len(data)
    scheme = data.find("://", start)
    if scheme != -1:
        earliest = max(start, scheme - 5)
    for www in ("ww", "wW", "Ww", "WW"):
        found = data.find(www, start, earliest + 1)  # one ending at `earliest + 1` starts before it
        if found != -1:
            earliest = found
    return earliest


def finder_of(pattern: Pattern) -> Callable[[str, int], Any]:
    """How a try finds the pattern's matches from a position on: `finditer` of its regex, started
    where a match can first begin for magiclink's bare links (its regex opens with a look-behind,
    which keeps the regex engine from jumping to a likely start, so it steps through the text).
    The look-behind still sees what comes before where the search starts."""
    compiled = pattern.getCompiledRegExp()
    if type(pattern) is MagiclinkPattern and compiled.pattern == MAGIC_LINK_RE:
        return lambda data, start: compiled.finditer(data, _magic_link_start(data, start))
    return compiled.finditer


def holds_any(candidates: list[tuple[int, Marks]], text: str) -> bool:
    """Whether some candidate pattern's need holds in the text."""
    for _, marks in candidates:
        if marks is None:
            return True
        for mark in marks:
            if mark in text:
                return True
    return False


_KEY_PREFERENCE = "`$\\[<@&*_/wW\n"  # the characters of marks, the rarest in prose first


def _key_rank(char: str) -> int:
    return _KEY_PREFERENCE.find(char) if char in _KEY_PREFERENCE else len(_KEY_PREFERENCE)


def stays_absent(mark: str) -> bool:
    """Whether replacing a part of a text by an inline placeholder (STX, `klzzwxh:`, digits,
    ETX) can never make the mark appear where it was not: it would have to lie inside the
    placeholder, between STX and ETX."""
    return (STX not in mark and ETX not in mark and not any(char.isdigit() for char in mark)
            and mark not in INLINE_PLACEHOLDER_PREFIX)


_PLAIN = (str, AtomicString)  # the library's placeholder pass gives these back as they are, without one
MIRRORED_VERSION = (3, 11, 3)  # the Python-Markdown whose inline processor `SkippingInlineProcessor` mirrors


class SkippingInlineProcessor(InlineProcessor):
    """The library's inline processor, skipping the patterns a piece of text cannot match, and
    the whole per-text work for a text no pattern can match.

    Overrides the library's `run` and its private methods (name-mangled, hence the spelled-out
    names): the same walk, the same tries in the same order, the same placeholders and the same
    tree, with less Python per call. Each text's candidate patterns are found once, from the key
    characters it holds; a pattern that cannot match counts as one that did not, and a text that
    holds no candidate's mark and no placeholder is left as it is (the library would take it
    out and put it back unchanged). `applies()` says whether the library is one whose inline
    processor this mirrors."""

    def __init__(self, md: markdown.Markdown, needs: dict[tuple[str, str], Marks]):
        super().__init__(md)
        # Plain lists: the registry checks its order on every lookup. Nothing registers
        # patterns after the converter is made.
        pairs = needs_of(md.inlinePatterns, needs)
        self.inlinePatterns = [pattern for pattern, _ in pairs]
        self.needs = [marks for _, marks in pairs]
        # What `__applyPattern` looks up on every try: the pattern's matches, the ancestors it
        # avoids (lowercased, as the library compares them), whether it is an old-style one.
        self.tries = [(finder_of(pattern), tuple(name.lower() for name in pattern.ANCESTOR_EXCLUDES),
                       isinstance(pattern, LibraryInlinePattern)) for pattern in self.inlinePatterns]
        # A search that says, for a plain pattern (new-style, avoiding no ancestor, matched by
        # its own regex), that a try would find nothing, without the try's own work.
        self.searches = [pattern.getCompiledRegExp().search if new_style and not excludes and
                         finder == pattern.getCompiledRegExp().finditer else None
                         for pattern, (finder, excludes, new_style) in zip(self.inlinePatterns, self.tries,
                                                                           strict=True)]
        self.finditers = [finder for finder, _, _ in self.tries]
        marks = {mark for need in self.needs if need for mark in need}
        # A mark's key character: one of its characters, the rarest in prose. A text without a
        # mark's key character cannot hold the mark.
        self.key_of = {mark: min(mark, key=_key_rank) for mark in marks}
        if not all(map(stays_absent, marks)):
            self.key_of = {}  # every pattern is a candidate for every text
        # The key characters of the patterns from each index on (a pattern's own text goes
        # through the patterns after it): only those are looked for in a text.
        self.key_chars = [self._key_chars_from(first) for first in range(len(self.needs) + 1)]
        # By the first pattern and the key characters a text holds.
        self.candidates: dict[tuple[int, str], list[tuple[int, Marks]]] = {}

    @staticmethod
    def applies() -> bool:
        """Whether the library's walk and tries are the ones written out here (3.11.0 and earlier
        build each element's ancestors, or restart a pattern's search, otherwise)."""
        return markdown.__version_info__[:3] >= MIRRORED_VERSION and all(
            hasattr(InlineProcessor, f"_InlineProcessor__{name}")
            for name in ("handleInline", "applyPattern", "processPlaceholders", "processElementText"))

    def _key_chars_from(self, first: int) -> str:
        key_of = self.key_of
        keys = {key_of[mark] for need in self.needs[first:] if need for mark in need if mark in key_of}
        return "".join(sorted(keys, key=_key_rank))

    def _candidates(self, data: str, first: int = 0) -> list[tuple[int, Marks]]:
        """The patterns (index, need) from `first` on that may match the text, in order: those
        with no need, and those with a mark whose key character the text holds. The others are
        skipped, as the library's tries of them would find nothing; and as a text loses marks but
        never gains any when a match is replaced by a placeholder, they stay skipped for what
        follows."""
        key = first, "".join([char for char in self.key_chars[first] if char in data])
        found = self.candidates.get(key)
        if found is None:
            key_of = self.key_of
            found = self.candidates[key] = [
                (index, marks) for index, marks in enumerate(self.needs) if index >= first
                and (marks is None or not key_of or any(key_of[mark] in key[1] for mark in marks))]
        return found

    def run(self, tree: ET.Element, ancestors: list[str] | None = None) -> ET.Element:
        """`InlineProcessor.run`: every text and tail below `tree`, breadth first, through the
        patterns, and the elements they made put in its place. A plain text that holds no mark of
        a candidate and no placeholder is left as it is (the library takes it out, finds nothing
        and puts it back). The library also keeps a map from each element to its parent, which
        only ever looks up the parent of `tree` (none)."""
        self.stashed_nodes: dict[str, ET.Element | str] = {}
        self.parent_map = {}
        place = self._InlineProcessor__processPlaceholders
        candidates_of = self._candidates
        patterns_on = self._patterns_on
        tree_ancestors = [] if ancestors is None else ancestors[:]
        tree_ancestors.append(tree.tag.lower())
        stack = deque([(tree, tree_ancestors)])
        while stack:
            current, parents = stack.popleft()
            self.ancestors = parents
            if current is not tree:
                parents.append(current.tag.lower())
            made_in_text = []
            for child in current:  # tails' elements go in while this walks, and get walked
                text = child.text
                if text and not isinstance(text, AtomicString) and (
                        holds_any(candidates := candidates_of(text), text) or STX in text
                        or type(text) is not str):
                    parents.append(child.tag.lower())
                    child.text = None
                    found = place(patterns_on(text, candidates), child)
                    stack.extend(found)
                    made_in_text.append((child, found))
                    parents.pop()
                tail = child.tail
                if tail and (holds_any(candidates := candidates_of(tail), tail) or STX in tail
                             or type(tail) is not str):
                    holder = ET.Element("d")
                    child.tail = None
                    tail = tail if isinstance(tail, AtomicString) else patterns_on(tail, candidates)
                    found = place(tail, holder, False)
                    if holder.tail:
                        child.tail = holder.tail
                    position = list(current).index(child) + 1
                    for node, _ in reversed(found):
                        current.insert(position, node)
                if len(child):
                    stack.append((child, parents[:]))
            for element, found in made_in_text:
                for index, (node, _) in enumerate(found):
                    element.insert(index, node)
        return tree

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:  # noqa: N802, N803
        """The patterns from `patternIndex` on, each until it finds nothing more."""
        if isinstance(data, AtomicString):
            return data
        return self._patterns_on(data, self._candidates(data, patternIndex))

    def _patterns_on(self, data: str, candidates: list[tuple[int, Marks]]) -> str:
        """`__handleInline` for a plain text and its candidates: each candidate, tried again from
        after what it replaced while it matches and holds one of its marks."""
        apply = self._InlineProcessor__applyPattern
        patterns, searches = self.inlinePatterns, self.searches
        finditers = self.finditers
        for index, marks in candidates:
            start = 0  # a try that found nothing, or a skipped pattern, starts the next at 0
            search = searches[index]
            pattern = patterns[index]
            while True:
                if marks is not None:
                    for mark in marks:
                        if mark in data:
                            break
                    else:
                        break
                if search is None:  # a pattern that avoids ancestors, or an old-style one
                    data, matched, start = apply(pattern, data, index, start)
                    if not matched:
                        break
                    continue
                if search(data, start) is None:
                    break  # as a try that finds nothing
                # The try itself, as `__applyPattern` makes it for a plain pattern.
                for match in finditers[index](data, start):
                    node, begin, end = pattern.handleMatch(match, data)
                    if begin is not None and end is not None:
                        break
                else:  # only what handleMatch turned down
                    break
                data, start = self._put_in_place(node, data, begin, end, index)
        return data

    def _InlineProcessor__applyPattern(self, pattern: Pattern, data: str, patternIndex: int,  # noqa: N802, N803
                                       startIndex: int = 0) -> tuple[str, bool, int]:  # noqa: N803
        """One try of a pattern from `startIndex`: the text with a placeholder in place of what it
        made, whether it matched, and where the next try starts."""
        finder, excludes, new_style = self.tries[patternIndex]
        if not new_style or pattern is not self.inlinePatterns[patternIndex]:
            library = InlineProcessor._InlineProcessor__applyPattern
            return library(self, pattern, data, patternIndex, startIndex)
        ancestors = self.ancestors
        for name in excludes:
            if name in ancestors:
                return data, False, 0
        for match in finder(data, startIndex):
            node, start, end = pattern.handleMatch(match, data)
            if start is not None and end is not None:
                break
        else:  # nothing, or only what handleMatch turned down
            return data, False, 0
        data, start = self._put_in_place(node, data, start, end, patternIndex)
        return data, True, start

    def _put_in_place(self, node: ET.Element | str | None, data: str, start: int, end: int,
                      index: int) -> tuple[str, int]:
        """What a match made (nothing: the next try starts after the match), its texts through
        the patterns (its own text from the next pattern on), stashed, and a placeholder in the
        text in place of the match: the text, and where the next try starts."""
        if node is None:
            return data, end
        if not isinstance(node, str) and not isinstance(node.text, AtomicString):
            handle = self._InlineProcessor__handleInline
            ancestors = self.ancestors
            for child in [node, *node]:
                if child.text:
                    ancestors.append(child.tag.lower())
                    child.text = handle(child.text, index + 1)
                    ancestors.pop()
                if child.tail:
                    child.tail = handle(child.tail, index)
        stash = self.stashed_nodes
        key = f"{len(stash):04d}"
        stash[key] = node
        placeholder = INLINE_PLACEHOLDER % key
        return f"{data[:start]}{placeholder}{data[end:]}", start + len(placeholder)

    def _InlineProcessor__processPlaceholders(self, data: str | None, parent: ET.Element,  # noqa: N802
                                              isText: bool = True) -> list[tuple[ET.Element, list[str]]]:  # noqa: N803
        """The text with placeholders as the parent's text (or tail) and the stashed elements,
        each with its own text and tails' placeholders put in place; returns the elements."""
        result: list[tuple[ET.Element, list[str]]] = []

        def add_text(text: str) -> None:  # after the last element, or into the parent
            if not text:
                return
            if result:
                last = result[-1][0]
                last.tail = last.tail + text if last.tail else text
            elif not isText:
                parent.tail = parent.tail + text if parent.tail else text
            else:
                parent.text = parent.text + text if parent.text else text

        if not data:
            return result
        stash = self.stashed_nodes
        in_text = self._InlineProcessor__processElementText
        start = 0
        while (index := data.find(INLINE_PLACEHOLDER_PREFIX, start)) != -1:
            found = INLINE_PLACEHOLDER_RE.search(data, index)  # maybe a later one, as the library's
            key, end = (found.group(1), found.end()) if found else (None, index + 1)
            if key not in stash:  # a prefix without a placeholder: kept as text
                end = index + len(INLINE_PLACEHOLDER_PREFIX)
                add_text(data[start:end])
                start = end
                continue
            node = stash[key]
            if index > 0:
                add_text(data[start:index])
            if isinstance(node, str):
                add_text(node)
            else:
                prefix = INLINE_PLACEHOLDER_PREFIX
                for child in [node, *node]:  # (a string without a placeholder stays as it is)
                    tail = child.tail
                    if tail and tail.strip() and (prefix in tail or type(tail) not in _PLAIN):
                        in_text(node, child, False)
                    text = child.text
                    if text and text.strip() and (prefix in text or type(text) not in _PLAIN):
                        in_text(child, child)
                result.append((node, self.ancestors[:]))
            start = end
        text = data[start:]
        add_text(AtomicString(text) if isinstance(data, AtomicString) else text)
        return result

    def _InlineProcessor__processElementText(self, node: ET.Element, subnode: ET.Element,  # noqa: N802
                                             isText: bool = True) -> None:  # noqa: N803
        """The placeholders in an element's text (or tail) replaced by their elements. A string
        (plain or atomic) without one would be taken out and put back as it is: left alone."""
        text = subnode.text if isText else subnode.tail
        if text is None or (type(text) in _PLAIN and INLINE_PLACEHOLDER_PREFIX not in text):
            return
        if isText:
            text, subnode.text = subnode.text, None
        else:
            text, subnode.tail = subnode.tail, None
        found = self._InlineProcessor__processPlaceholders(text, subnode, isText)
        position = list(node).index(subnode) + 1 if not isText and node is not subnode else 0
        for child, _ in reversed(found):
            node.insert(position, child)


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


# Text without brackets, `](`, a destination without space, quote, parenthesis or `<`, and maybe
# a title in either quote without quotes or parentheses, then `)` after spaces only: what most
# links and images are. The groups mark the slices the library's loops would cut.
_PLAIN_LINK = re.compile(r"""([^\[\]]*)\]\(\s*([^\s()'"<]*)\s*(?:"([^"()']*)"|'([^"()']*)')? *\)""")


def direct_link_match(pattern: LinkInlineProcessor, image: bool) -> Callable[[re.Match, str], tuple]:
    """`LinkInlineProcessor.handleMatch` (or the image's, `image`) for a link of the plain form
    above: the same element, attributes and span, from one regex match instead of the text's and
    the destination's loops; any other link goes to the library's method."""
    library = pattern.handleMatch

    def handle_match(match: re.Match, data: str) -> tuple:
        plain = _PLAIN_LINK.match(data, match.end())
        if plain is None:
            return library(match, data)
        if plain.start(3) != -1:  # a title: the destination ends at its opening quote
            href, title = data[plain.start(2):plain.start(3) - 1], data[plain.start(3):plain.end(3)]
        elif plain.start(4) != -1:
            href, title = data[plain.start(2):plain.start(4) - 1], data[plain.start(4):plain.end(4)]
        else:  # the destination ends at the parenthesis
            href, title = data[plain.start(2):plain.end() - 1], None
        href = pattern.unescape(href).strip()
        if title is not None:
            title = pattern.RE_TITLE_CLEAN.sub(" ", dequote(pattern.unescape(title.strip())))
        text = plain.group(1)
        if image:
            element = ET.Element("img")
            element.set("src", href)
            if title is not None:
                element.set("title", title)
            element.set("alt", pattern.unescape(text))
        else:
            element = ET.Element("a")
            element.text = text
            element.set("href", href)
            if title is not None:
                element.set("title", title)
        return element, match.start(0), plain.end()

    return handle_match


def patterns_shortcuts(md: markdown.Markdown) -> None:
    """Links' and images' patterns find the end of their text with `bracketed_text` and of
    their destination with `_scan_destination`, and take a plain link in one regex match
    (`direct_link_match`); emphasis pairs a lone pair of delimiters directly
    (`pairing_emphasis`) and searches delimiter to delimiter; every pattern unescapes with
    `skipping_unescape` (each where its class does these as the library does)."""
    for pattern in md.inlinePatterns:
        if type(pattern).unescape is Pattern.unescape:
            pattern.unescape = skipping_unescape(pattern)
        if DelimiterProcessor is not None and isinstance(pattern, DelimiterProcessor) and (
                tokens := _single_char_tokens(pattern)) is not None:
            if type(pattern).search is DelimiterProcessor.search:
                pattern.search = jumping_delimiter_search(pattern, tokens)
            if type(pattern).handleMatch is DelimiterProcessor.handleMatch:
                pattern.handleMatch = pairing_emphasis(pattern, tokens)
        if not isinstance(pattern, LinkInlineProcessor):
            continue
        kind = type(pattern)
        is_image = kind.handleMatch is ImageInlineProcessor.handleMatch
        if (kind.getText is LinkInlineProcessor.getText and kind.getLink is LinkInlineProcessor.getLink
                and kind.RE_LINK is LinkInlineProcessor.RE_LINK
                and (is_image or kind.handleMatch is LinkInlineProcessor.handleMatch)):
            pattern.handleMatch = direct_link_match(pattern, is_image)
        if kind.getText is LinkInlineProcessor.getText:
            pattern.getText = bracketed_text
        if kind.getLink is LinkInlineProcessor.getLink:
            pattern.getLink = jumping_get_link(pattern)


# --- Emphasis: the library's delimiter processor (`*`, `_`), its commonest case done directly ---

def _single_char_tokens(pattern: Any) -> re.Pattern | None:
    """A regex for the processor's delimiters, or None where one is longer than a character."""
    tokens = list(pattern.delimiters)
    if not tokens or any(len(token) != 1 for token in tokens):
        return None
    return re.compile("[" + "".join(re.escape(token) for token in tokens) + "]")


def jumping_delimiter_search(pattern: Any, tokens: re.Pattern) -> Callable[[str, int], re.Match | None]:
    """`DelimiterProcessor.search`: the first delimiter from `start` that opens or closes (one
    that only closes while nothing is open does not count). The library steps through the text a
    character at a time; this jumps from delimiter to delimiter."""

    def search(data: str, start: int) -> re.Match | None:
        delimiters = pattern.delimiters
        for token in tokens.finditer(data, start):
            delimiter = delimiters[token.group()]
            found = delimiter.boundary.match(data, token.start())
            if found is not None:
                if not delimiter.stack and found.lastgroup[0] == "e":
                    continue
                return found
        return None

    return search


def pairing_emphasis(pattern: Any, tokens: re.Pattern) -> Callable[[re.Match, str], tuple]:
    """`DelimiterProcessor.handleMatch`, with the commonest case made directly: a single
    delimiter that only opens, whose next delimiter is the same single one and only closes
    (`*a b*`, `_a b_`), with nothing left from an earlier match. The library pairs them into
    one region and builds one element of the delimiter's second tag around the text between,
    leaving its state as it found it. Anything else goes to the library."""
    library = pattern.handleMatch

    def handle_match(match: re.Match, data: str) -> tuple:
        token = match.group()
        delimiter = pattern.delimiters.get(token)
        if (delimiter is None or delimiter.tag_count != 2 or delimiter.double or pattern.regions
                or pattern.stack or pattern.cache_index or pattern.cache_pos):
            return library(match, data)
        for other in pattern.delimiters.values():
            if other.stack:
                return library(match, data)
        start = match.start()
        opening = delimiter.boundary.match(data, start)
        if opening is None or opening.lastgroup != "start" or opening.end() != start + 1:
            return library(match, data)
        following = tokens.search(data, start + 1)
        if following is None or following.group() != token:
            return library(match, data)
        end = following.start()
        closing = delimiter.boundary.match(data, end)
        if closing is None or closing.lastgroup != "end" or closing.end() != end + 1:
            return library(match, data)
        element = ET.Element(delimiter.tags[1])
        element.text = data[start + 1:end]
        return element, start, end + 1

    return handle_match


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


class QuickPrettify(PrettifyTreeprocessor):
    """The library's whitespace pass (a line break as the text of a block that opens with a block
    and as the tail of each block with a blank one), asking whether a tag is block-level once
    per tag and document rather than twice per element; the rest of its run (line breaks after
    `<br>`, code blocks ending in one) is the library's."""

    def _prettifyETree(self, elem: ET.Element) -> None:  # noqa: N802 (the library's name)
        is_block_level = self.md.is_block_level
        known: dict[Any, bool] = {}  # tag -> whether it is block-level, asked once per tag

        def walk(element: ET.Element) -> None:
            tag = element.tag
            block = known.get(tag)
            if block is None:
                block = known[tag] = is_block_level(tag)
            if block and tag != "code" and tag != "pre":
                if len(element):
                    first = element[0].tag
                    first_block = known.get(first)
                    if first_block is None:
                        first_block = known[first] = is_block_level(first)
                    text = element.text
                    if first_block and (not text or not text.strip()):
                        element.text = "\n"
                    for child in element:
                        kind = child.tag
                        child_block = known.get(kind)
                        if child_block is None:
                            child_block = known[kind] = is_block_level(kind)
                        if child_block:
                            walk(child)
            tail = element.tail
            if not tail or not tail.strip():
                element.tail = "\n"

        walk(elem)

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
    if type(md.treeprocessors["prettify"]) is PrettifyTreeprocessor:
        md.treeprocessors.register(QuickPrettify(md), "prettify", 10)
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
