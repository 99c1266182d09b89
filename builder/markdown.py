"""Markdown to HTML: Python-Markdown with pymdown-extensions, math kept for MathJax,
image + `_caption_` paragraphs turned into `<figure>`."""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html import unescape
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.extensions.toc import (
    TocExtension,
    TocTreeprocessor,
    escape_cdata,
    nest_toc_tokens,
    remove_fnrefs,
    run_postprocessors,
    strip_tags,
    unique,
)
from markdown.extensions.toc import unescape as toc_unescape
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import STX, AtomicString

from builder import markdown_speed
from builder.model import Heading, Provenance, Rendered
from builder.text import slugify

EXCERPT_WORDS = 45
TOC_DEPTH = 3  # headings down to h3 make the page's table of contents
_INDENTED_HEADING = re.compile(r"^ {1,3}(#{1,6}(?:[ \t]|$))")
_ANY_INDENTED_HEADING = re.compile(r"^ {1,3}#", re.M)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_TAG = re.compile(r"<[^>]+>")
_NOTE_START, _NOTE_END = '<details class="provenance">', "</details>"


def _heading_id(value: str, separator: str) -> str:
    if "<" in value:
        value = _TAG.sub("", value)
    return slugify(unescape(value)) or "muc"


PLACEHOLDER_ALTS = {"", "an image alt text", "image", "alt text"}
PLACEHOLDER_TITLES = {"", "an image title", "image title", "title"}


class _FigureCaptions(Treeprocessor):
    """`<p><img></p>` followed by a paragraph whose first line is only emphasis
    becomes `<figure><img><figcaption>`; the rest of that paragraph stays a paragraph.
    Generated images also get their declared alt text, size and a provenance note."""

    def __init__(self, md: markdown.Markdown | None, provenance: dict[str, Provenance], image_size,
                 as_written: Callable[..., ET.Element | None] | None = None):
        super().__init__(md)
        self.provenance = provenance
        self.image_size = image_size
        # Elements -> one element that writes as they do, or None where it cannot stand for them:
        # the notes and <source>s then go in as HTML, made once per build.
        self.as_written = as_written
        self.notes: dict[str, ET.Element] = {}  # each note's HTML, parsed once per build
        # Each generated image's <picture>, built once, with the provenance it was built from.
        self.pictures: dict[str, tuple[Provenance, ET.Element]] = {}
        self.reset()

    def reset(self) -> None:
        """Before each document: Markdown skips tree processors entirely for an empty one."""
        self.images: list[str] = []
        self.placeholder_alts: list[tuple[str, str]] = []

    def run(self, root: ET.Element) -> None:
        self.reset()
        self._walk(root)
        self._decorate_images(root)
        if self.provenance:
            self._add_provenance(root)

    def _decorate_images(self, root: ET.Element) -> None:
        """Size on every image (no layout shift), lazy loading after the first, and for generated
        images their declared alt text and a <picture> offering what the build chose: SVG or
        AVIF and WebP at several widths, in the light and dark palettes, wide on large screens."""
        parents: dict[ET.Element, ET.Element] = {}  # made when a first image gets a <picture>
        for index, img in enumerate(list(root.iter("img"))):
            if index > 0:
                img.set("loading", "lazy")
                img.set("decoding", "async")
            src = img.get("src", "")
            made = self.provenance.get(src)
            size = (made.width, made.height) if made and made.width else self.image_size(src)
            if size:
                img.set("width", str(size[0]))
                img.set("height", str(size[1]))
            if made is None:
                continue
            if img.get("alt", "").strip().lower() in PLACEHOLDER_ALTS:
                img.set("alt", made.alt)
            if made.alt and img.get("title", "").strip().lower() in PLACEHOLDER_TITLES:
                img.attrib.pop("title", None)  # a template's leftover would show as a tooltip over the figure
            if made.sources:
                parents = parents or {child: parent for parent in root.iter() for child in parent}
                self._wrap_in_picture(parents[img], img, src, made)

    def _wrap_in_picture(self, parent: ET.Element, img: ET.Element, src: str, made: Provenance) -> None:
        """The image, in its place, inside a <picture> with the sources the build made of it: a
        copy of the one built for the first image of that source."""
        made_for, built = self.pictures.get(src, (None, None))
        if made_for is not made:  # the first of this source (or its provenance was replaced)
            built = ET.Element("picture", {"class": "wide"} if made.wide else {})
            for mime, srcset, media, sizes, width, height in made.sources:
                attributes = {"type": mime, "srcset": srcset}
                attributes.update({k: v for k, v in (("media", media), ("sizes", sizes)) if v})
                if width and height:  # the aspect of what this source shows, before it loads
                    attributes.update(width=str(width), height=str(height))
                ET.SubElement(built, "source", attributes)
            sources = self.as_written(*built) if self.as_written else None
            if sources is not None:
                built[:] = [sources]
            self.pictures[src] = made, built
        picture = copy.deepcopy(built)
        picture.tail, img.tail = img.tail, None
        parent[list(parent).index(img)] = picture
        picture.append(img)

    def _add_provenance(self, root: ET.Element) -> None:
        """Each generated image's note after the block that shows it (inside a figure)."""
        inserted = 0  # notes put into the root so far, before the blocks still to come
        for index, block in enumerate(list(root)):
            notes = [self._note(made) for img in block.iter("img")
                     if (made := self.provenance.get(img.get("src", ""))) is not None]
            if not notes:
                continue
            if block.tag == "figure":
                block.extend(notes)
            else:
                for offset, note in enumerate(notes):
                    root.insert(index + inserted + 1 + offset, note)
                inserted += len(notes)

    def _note(self, made: Provenance) -> ET.Element:
        """The note under a generated image (the theme's _provenance.html): a copy of the tree
        parsed the first time, five times cheaper than parsing it again for every image."""
        parsed = self.notes.get(made.note)
        if parsed is None:
            parsed = ET.fromstring(made.note)
            written = self.as_written(parsed) if self.as_written else None
            parsed = self.notes[made.note] = parsed if written is None else written
        return copy.deepcopy(parsed)

    def _walk(self, parent: ET.Element) -> None:
        children = list(parent)
        for index, child in enumerate(children):
            if child.tag == "img":
                self.images.append(child.get("src", ""))
                if child.get("alt", "").strip().lower() in PLACEHOLDER_ALTS:
                    self.placeholder_alts.append((child.get("src", ""), child.get("alt", "")))
            if len(child) and child.tag in ("p", "li", "blockquote", "td", "th", "div", "em", "a", "strong"):
                self._walk(child)
            if child.tag == "p" and _is_lone_image(child) and index + 1 < len(children):
                caption = _leading_caption(children[index + 1])
                if caption is not None:
                    self._make_figure(parent, child, children[index + 1], caption)

    @staticmethod
    def _make_figure(parent: ET.Element, para: ET.Element, after: ET.Element,
                     emphasis: ET.Element) -> None:
        para.tag = "figure"
        figcaption = ET.SubElement(para, "figcaption")
        figcaption.text = emphasis.text
        for inner in list(emphasis):
            figcaption.append(inner)
        rest = (emphasis.tail or "").lstrip("\n")
        after.remove(emphasis)
        after.text = rest
        if not rest.strip() and len(after) == 0:
            parent.remove(after)


def _is_lone_image(para: ET.Element) -> bool:
    return (len(para) == 1 and para[0].tag == "img" and not (para.text or "").strip()
            and not (para[0].tail or "").strip())


def _leading_caption(para: ET.Element) -> ET.Element | None:
    """The paragraph's first element when its first line is only that emphasis."""
    if para.tag != "p" or (para.text or "").strip() or len(para) == 0 or para[0].tag != "em":
        return None
    tail = para[0].tail or ""
    first_line = tail.split("\n", 1)[0]
    return para[0] if not first_line.strip() else None


class _FigureExtension(Extension):
    def __init__(self, provenance: dict[str, Provenance], image_size):
        super().__init__()
        self.provenance = provenance
        self.image_size = image_size

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (the library's name)
        # After inline patterns (20) so <img>/<em> exist, before toc (5).
        captions = _FigureCaptions(md, self.provenance, self.image_size)
        md.treeprocessors.register(captions, "figure_captions", 8)


ImageSize = Callable[[str], "tuple[int, int] | None"]

# Where math delimiters are no math: in an HTML tag, a link's destination or title, an image's alt.
_IN_TAG = re.compile(r"<[A-Za-z/][^<>]*$")
_IN_DESTINATION = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+(?:\"[^\"]*|'[^']*))?$")
_IN_ALT = re.compile(r"!\[[^\]]*$")
_INLINE_DISPLAY = r"(?<!\\)\$\$((?:\\.|[^\\$\x02\x03])+?)\$\$"


def _in_attribute(data: str, start: int) -> bool:
    before = data[:start]
    return bool(_IN_TAG.search(before) or _IN_DESTINATION.search(before) or _IN_ALT.search(before))


class _MathOutsideAttributes(InlineProcessor):
    """Arithmatex's inline math, but never inside an attribute-to-be (a URL, a title, an alt text,
    a raw HTML tag), where its markup would break the attribute; and `$$...$$` inside a line of
    text as one display formula, not two dollars around an inline one."""

    def __init__(self, inner: InlineProcessor, pattern: str | None = None):
        super().__init__(pattern or inner.pattern, inner.md)
        self.inner = inner

    def handleMatch(self, m: re.Match, data: str):  # noqa: N802 (the library's name)
        if _in_attribute(data, m.start(0)):
            return None, None, None
        if self.compiled_re.pattern == _INLINE_DISPLAY:
            span = ET.Element("span", {"class": "arithmatex"})
            span.text = AtomicString(f"\\[{m.group(1)}\\]")
            return span, m.start(0), m.end(0)
        return self.inner.handleMatch(m, data)


class _MathInTextExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (the library's name)
        inner = md.inlinePatterns["arithmatex-inline"]
        md.inlinePatterns.register(_MathOutsideAttributes(inner), "arithmatex-inline", 189.9)
        md.inlinePatterns.register(_MathOutsideAttributes(inner, _INLINE_DISPLAY), "math-inline-display",
                                   189.95)


class KramdownMarkdown:
    """The kramdown reader with the same image decoration as the default mode."""

    def __init__(self, provenance: dict[str, Provenance], image_size: ImageSize, settings: Any):
        from builder.kramdown import KramdownReader, options_from_config
        from builder.kramdown.serialize import verbatim

        # Nothing reads the tree after the decoration but the writer.
        self.figures = _FigureCaptions(None, provenance, image_size, as_written=verbatim)
        self.reader = KramdownReader(options_from_config(settings), decorate=self.figures.run)


def make_markdown(provenance: dict[str, Provenance] | None = None, kramdown: bool = False,
                  image_size: ImageSize = lambda src: None,
                  footnote_backlink: str | None = None,
                  kramdown_settings: Any = None) -> markdown.Markdown | KramdownMarkdown:
    """A Markdown converter; `provenance` maps image URLs to how those images were made, and
    `image_size` gives the size of other local images (for their width/height attributes).

    `kramdown=True` reads as Jekyll's kramdown (GFM input) does, with the `kramdown:` settings of
    `_config.yml`: see `builder.kramdown`.
    """
    if kramdown:
        return KramdownMarkdown(provenance or {}, image_size, kramdown_settings)
    return _python_markdown(provenance or {}, image_size, footnote_backlink)


def _python_markdown(provenance: dict[str, Provenance], image_size: ImageSize, footnote_backlink: str | None,
                     shortcuts: bool = True) -> markdown.Markdown:
    """Python-Markdown with this site's extensions; `shortcuts=False` leaves out the work saved in
    `builder.markdown_speed` and `_Toc` (the same HTML, the library's own way, to compare with)."""
    toc = _TocExtension() if shortcuts else TocExtension(slugify=_heading_id, toc_depth=f"1-{TOC_DEPTH}")
    extensions = ["tables", "footnotes", toc, "pymdownx.magiclink", "pymdownx.superfences",
                  "pymdownx.highlight", _FigureExtension(provenance, image_size), "pymdownx.arithmatex",
                  _MathInTextExtension()]
    md = markdown.Markdown(
        extensions=extensions,
        extension_configs={
            "pymdownx.arithmatex": {"generic": True},
            "pymdownx.magiclink": {"hide_protocol": False},
            "pymdownx.highlight": {"use_pygments": True, "guess_lang": False},
            # The title of a footnote's way back: the theme's strings table says it in the site's language.
            "footnotes": {"BACKLINK_TITLE": footnote_backlink} if footnote_backlink else {},
        },
        output_format="html",
    )
    if shortcuts:
        markdown_speed.install(md)
        md.treeprocessors["figure_captions"].as_written = markdown_speed.written_html(md)
        md.treeprocessors["toc"].text_of = markdown_speed.heading_text(md)
    return md


class _Toc(TocTreeprocessor):
    """Python-Markdown's `toc` (heading ids, `toc_tokens`), without the work for a `[TOC]`
    marker in a document that has none: looking for it in every element, and building and
    serialising the table of contents that would replace it (this site shows its own). The
    document is walked once, and each heading's HTML and name are made without the library's
    steps that would leave them unchanged (`markdown_speed.heading_text`)."""

    text_of: Callable[[ET.Element], tuple[str, str]] | None = None  # set by `markdown_speed.install`

    def run(self, doc: ET.Element) -> None:
        used_ids, headings, self.marked = set(), [], False
        is_heading, marker = self.header_rgx.match, self.marker
        for element in doc.iter():
            given = element.get("id")  # (an id of None, as the library would add it, matches no id)
            if given is not None:
                used_ids.add(given)
            tag = element.tag
            if isinstance(tag, str) and tag[:1] in "hH" and is_heading(tag):
                headings.append(element)
            # Only an element whose text is the marker (stripped) is replaced by the table: a
            # comparison, not a search through every paragraph's text.
            text = element.text
            if marker and text and text.strip() == marker:
                self.marked = True
        plain = not (self.use_anchors or self.use_permalinks not in (False, None))  # no links added
        if self.marked or not plain or self.text_of is None:
            super().run(doc)  # the library's own walk
            return
        self.md.toc_tokens = nest_toc_tokens(self._tokens(headings, used_ids))
        toc = self.md.serializer(self.build_toc_div(self.md.toc_tokens))
        for postprocessor in self.md.postprocessors:
            toc = postprocessor.run(toc)
        self.md.toc = toc

    def _tokens(self, headings: list[ET.Element], used_ids: set[str]) -> list[dict]:
        """Each heading's level, id, name and HTML, as the library's walk makes them (and each
        heading's id, as it sets them)."""
        tokens, counters = [], {}
        for heading in headings:
            self.set_level(heading)
            html, name = self.text_of(remove_fnrefs(heading))
            if "id" not in heading.attrib:
                heading.attrib["id"] = unique(self.slugify(unescape(name), self.sep), used_ids, counters)
            label = ""
            if "data-toc-label" in heading.attrib:
                label = run_postprocessors(toc_unescape(heading.attrib["data-toc-label"]), self.md)
                name = escape_cdata(strip_tags(label))
                del heading.attrib["data-toc-label"]
            level = int(heading.tag[-1])
            if self.toc_top <= level <= self.toc_bottom:
                given = heading.attrib["id"]
                given = given if type(given) is str and STX not in given else toc_unescape(given)
                tokens.append({"level": level, "id": given, "name": name, "html": html,
                               "data-toc-label": label})
        return tokens

    def build_toc_div(self, toc_list: list) -> ET.Element:
        return super().build_toc_div(toc_list) if self.marked else ET.Element("div")

    def replace_marker(self, root: ET.Element, elem: ET.Element) -> None:
        if self.marked:
            super().replace_marker(root, elem)


class _TocExtension(TocExtension):
    TreeProcessorClass = _Toc

    def __init__(self) -> None:
        super().__init__(slugify=_heading_id, toc_depth=f"1-{TOC_DEPTH}")


_BACKSLASH_URL = re.compile(r'(\s(?:src|href)=")(\\[^"]*)"')


def normalise_backslash_urls(html: str) -> tuple[str, list[str]]:
    """`<img src="\\assets\\x.png">` (a Windows path pasted into HTML) -> `/assets/x.png`."""
    found: list[str] = []
    if '="\\' not in html:  # every such URL starts with a backslash right after `="`
        return html, found

    def fix(match: re.Match) -> str:
        found.append(match.group(2))
        return f'{match.group(1)}{match.group(2).replace(chr(92), "/")}"'

    return _BACKSLASH_URL.sub(fix, html), found


def unindent_headings(text: str) -> str:
    """A heading indented by 1-3 spaces is still a heading (as in CommonMark and kramdown)."""
    if " #" not in text or not _ANY_INDENTED_HEADING.search(text):  # (a plain search: the regex is slow)
        return text  # what the walk below would give, without it
    out, fence = [], None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if match and (fence is None or match.group(1).startswith(fence)):
            fence = match.group(1)[:3] if fence is None else None
        elif fence is None:
            line = _INDENTED_HEADING.sub(r"\1", line)
        out.append(line)
    return "\n".join(out)


def render_markdown(md: markdown.Markdown | KramdownMarkdown, text: str) -> Rendered:
    if isinstance(md, KramdownMarkdown):
        return _render_kramdown(md, text)
    md.reset()
    figures: _FigureCaptions = md.treeprocessors["figure_captions"]
    figures.reset()
    html = md.convert(unindent_headings(text))
    headings = tuple(_flatten(md.toc_tokens))
    return Rendered(
        html=html,
        headings=headings,
        has_math='class="arithmatex"' in html,
        excerpt=excerpt_of(html),
        words=word_count(html),
        images=tuple(figures.images),
        placeholder_alts=tuple(figures.placeholder_alts),
    )


def _render_kramdown(md: KramdownMarkdown, text: str) -> Rendered:
    md.figures.reset()
    html, headings = md.reader.convert(text)
    return Rendered(
        html=html,
        headings=tuple(Heading(h.level, h.id, h.text) for h in headings if h.id and h.level <= TOC_DEPTH),
        has_math='class="arithmatex"' in html,
        excerpt=excerpt_of(html),
        words=word_count(html),
        images=tuple(md.figures.images),
        placeholder_alts=tuple(md.figures.placeholder_alts),
    )


def _flatten(tokens: list[dict]) -> list[Heading]:
    out = []
    for token in tokens:
        name = token["name"]
        if "<" in name or "&" in name:  # else what the substitutions would leave
            name = unescape(_TAG.sub("", name))
        out.append(Heading(token["level"], token["id"], name))
        out.extend(_flatten(token["children"]))
    return out


def without_notes(html: str) -> str:
    """The HTML without its provenance notes: from each note's start to the first `</details>`
    after it (a lazy `<details class="provenance">.*?</details>`, without a regex's step per
    character through each note)."""
    pieces, position = [], 0
    while ((start := html.find(_NOTE_START, position)) != -1
           and (end := html.find(_NOTE_END, start + len(_NOTE_START))) != -1):
        pieces.append(html[position:start])
        position = end + len(_NOTE_END)
    pieces.append(html[position:])
    return "".join(pieces)


def word_count(html: str) -> int:
    """Words a reader reads: the text outside tags and provenance notes."""
    return count_words(plain_text(without_notes(html)))


# The characters outside ASCII that `str.split()` splits at (`str.isspace()`).
WIDE_SPACES = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029" \
              "\u202f\u205f\u3000"
# Each byte of UTF-8 as a space (the ASCII characters `str.isspace()` takes) or part of a word.
_SPACE_OR_WORD = bytes(0x20 if byte < 0x80 and chr(byte).isspace() else 0x78 for byte in range(256))


def count_words(text: str) -> int:
    """`len(text.split())`, without making a string of each word: where no space outside ASCII
    is in the text, its UTF-8 bytes marked as space or word, and the starts of words counted
    (a character outside ASCII is only bytes above 0x7f, none of them a space)."""
    for space in WIDE_SPACES:  # (a loop, not any(): a generator costs a third of the count)
        if space in text:
            return len(text.split())
    marks = text.encode("utf-8", "surrogatepass").translate(_SPACE_OR_WORD)
    return marks.count(b" x") + marks.startswith(b"x")


def plain_text(html: str) -> str:
    return unescape(_TAG.sub(" ", html))


_LINKED_URL = re.compile(r"<a\b[^>]*>\s*(?:[a-z][a-z0-9+.-]*://|www\.)[^<]*</a>", re.I)
_BARE_URL = re.compile(r"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.)[^\s<>()]*[^\s<>().,;:!?'\"]", re.I)
# Markdown's marks left as text (an emphasis never closed, `*Bài`): at a word's edge only, so
# `max_pooling` and `C++` keep theirs. Every match starts with a mark: the look-ahead first spares
# the three look-behinds at every other character.
_STRAY_MARKS = re.compile(r"(?=[*_~`#])"
                          r"(?:(?<![\w*_~`])[*_~`]+(?=\w)"  # before a word
                          r"|(?<=\w)[*_~`]+(?![\w*_~`])"  # after one
                          r"|(?<!\S)(?:#{1,6}|[*_~`]+)(?!\S))")  # alone


def _without_empty_parentheses(text: str) -> str:
    r"""`re.sub(r"\(\s*\)", "", re.sub(r"\s+\)", ")", text))`: the space before each `)` left out
    (`rstrip` strips what `\s` matches), then each `()` (no space is left inside one), without
    two regexes stepping through the text a character at a time."""
    if ")" not in text:
        return text
    pieces = text.split(")")
    text = ")".join([piece.rstrip() for piece in pieces[:-1]] + pieces[-1:])
    return text.replace("()", "") if "()" in text else text


def excerpt_of(html: str) -> str:
    """The first paragraph as plain text for lists, descriptions and feeds, cut at a word
    boundary: without raw URLs (a link whose text is its address, or an address as text) and
    without Markdown marks left over as text."""
    match = re.search(r"<p>(.*?)</p>", html, re.S)
    text = unescape(_TAG.sub("", _LINKED_URL.sub("", match.group(1) if match else html)))
    text = _STRAY_MARKS.sub("", _BARE_URL.sub("", text))
    text = _without_empty_parentheses(text)  # what held only a URL, or ended with one
    words = text.split()
    text = " ".join(words[:EXCERPT_WORDS])
    return text + " …" if len(words) > EXCERPT_WORDS else text
