"""HTML inside kramdown text: tags are read (so elements nest, close and re-serialise as kramdown
writes them), text between them is kept as written unless a `markdown` attribute asks otherwise."""

from __future__ import annotations

import re
from html import unescape

ATTRIBUTE = r"""[^\s=/>"'<]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
START_TAG = re.compile(r"<([A-Za-z][\w:.-]*)((?:\s+" + ATTRIBUTE + r")*)\s*(/?)>")
END_TAG = re.compile(r"</([A-Za-z][\w:.-]*)\s*>")
COMMENT = re.compile(r"<!--.*?-->", re.S)
_ATTRIBUTE = re.compile(r"""([^\s=/>"'<]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_NEXT_TAG = re.compile(r"<(/?)([A-Za-z][\w:.-]*)|<!--")

# Elements that live inside a paragraph: at the start of a line they begin a paragraph, not a block.
SPAN_ELEMENTS = frozenset(
    "a abbr acronym b big bdo br button cite code del dfn em i img input ins kbd label mark option q "
    "rb rbc rp rt rtc ruby s samp select small span strike strong sub sup textarea tt u var".split())
VOID_ELEMENTS = frozenset("area base br col embed hr img input link meta param source track wbr".split())
# Whose content is never read as Markdown (HTML tags in it still are).
RAW_ELEMENTS = frozenset("script style math option textarea pre code kbd samp var".split())
# Whose content is not even HTML: kept exactly as written up to the end tag.
TEXT_ELEMENTS = frozenset(("script", "style"))
_LOOSE_AMPERSAND = re.compile(r"&(?!#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
# Whose content, when read as Markdown (markdown="1"), is span-level text.
SPAN_CONTENT = frozenset(
    "a abbr acronym address b bdo big cite caption code del dfn dt em h1 h2 h3 h4 h5 h6 i ins label "
    "legend optgroup p q rb rbc rp rt rtc ruby select small span strong sub sup th td tt var".split())
BLOCK_ELEMENTS = frozenset(
    "address applet article aside blockquote body dd details dialog div dl fieldset figcaption figure "
    "footer form h1 h2 h3 h4 h5 h6 header hgroup hr html iframe legend li main map menu nav noscript "
    "object ol p pre section summary table tbody td tfoot th thead tr ul video".split())


def escape_text(text: str) -> str:
    """Text between tags as kramdown writes it back: `<`, `>` and a lone `&` escaped, entities kept."""
    return _LOOSE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def attributes(text: str) -> dict[str, str]:
    """`a="1" b='2' c=3 d` -> {a: 1, b: 2, c: 3, d: ""}, entities decoded."""
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        name, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), "")
        found[name] = unescape(value)
    return found


def find_end(text: str, start: int, name: str) -> tuple[int, int] | None:
    """(start, end) of the end tag that closes an element `name` whose content begins at `start`,
    counting nested elements of the same name; None when it is never closed."""
    depth = 0
    lowered = name.lower()
    for match in _NEXT_TAG.finditer(text, start):
        if match.group(0) == "<!--":
            continue
        if match.group(2).lower() != lowered:
            continue
        if match.group(1):
            end = END_TAG.match(text, match.start())
            if end is None:
                continue
            if depth == 0:
                return match.start(), end.end()
            depth -= 1
        else:
            tag = START_TAG.match(text, match.start())
            if tag is not None and not tag.group(3):
                depth += 1
    return None


def find_raw_end(text: str, start: int, name: str) -> tuple[int, int] | None:
    """The end tag of a raw element: for script and style the first one (their text is no HTML),
    for the others (pre, code...) the one that matches, nested ones counted."""
    if name not in TEXT_ELEMENTS:
        return find_end(text, start, name)
    pattern = re.compile(r"</" + re.escape(name) + r"\s*>", re.I)
    match = pattern.search(text, start)
    return (match.start(), match.end()) if match else None


def markdown_mode(attrs: dict[str, str], tag: str, parse_block_html: bool = False) -> str:
    """How an element's content is read: "raw" (kramdown's default), "block" or "span"."""
    value = attrs.pop("markdown", None)
    if value is None and parse_block_html:
        value = "1"
    if value is None or value == "0":
        return "raw"
    if value == "block":
        return "block"
    if value == "span":
        return "span"
    return "span" if tag in SPAN_CONTENT else "block"
