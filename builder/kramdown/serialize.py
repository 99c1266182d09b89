"""Writing the tree as HTML, and code as Pygments colours it.

The tree is an ElementTree (what the figure decoration in `builder.markdown` works on) with two
additions: `VERBATIM` elements, whose text is HTML written as it is, and the `SELF_CLOSING`
attribute, for a non-void element that the source closed as `<div/>` (kramdown writes it back so).
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from html import escape

VERBATIM = "kramdown-verbatim"  # an element whose text is written as it is: HTML kramdown passes through
SELF_CLOSING = "kramdown-self-closing"  # an attribute: `<div/>` written back as kramdown writes it
VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())


def highlight(code: str, language: str, line_numbers: bool) -> str:
    """Code coloured by Pygments as the default reading mode colours it; plain text is escaped."""
    from pygments import highlight as pygmentize

    lexer = _lexer(language.lower())
    if lexer is None and not line_numbers:
        return f"<pre><span></span><code>{escape(code, quote=False)}</code></pre>"
    html = pygmentize(code, lexer or _lexer("text"), _formatter(line_numbers))
    if html.startswith('<div class="highlight">') and html.rstrip().endswith("</div>"):
        html = html.rstrip()[len('<div class="highlight">'):-len("</div>")]
    return html


@functools.cache
def _lexer(language: str):
    """Pygments' lexer for a language name (looked up once per build), None when it has none."""
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        return get_lexer_by_name(language) if language else None
    except ClassNotFound:
        return None


@functools.cache
def _formatter(line_numbers: bool):
    from pygments.formatters import HtmlFormatter

    return HtmlFormatter(cssclass="highlight", wrapcode=True, linenos="table" if line_numbers else False)


def serialize(root: ET.Element) -> str:
    """The root's content as HTML; kramdown's raw HTML written back as it came."""
    out: list[str] = []
    _write_content(root, out)
    return "".join(out).strip("\n") + "\n"


def verbatim(*elements: ET.Element) -> ET.Element:
    """A `VERBATIM` element that writes as the elements (and their tails) write, one after another."""
    out: list[str] = []
    for element in elements:
        _write(element, out)
        if element.tail:
            out.append(_escape_text(element.tail))
    written = ET.Element(VERBATIM)
    written.text = "".join(out)
    return written


def _write_content(element: ET.Element, out: list[str]) -> None:
    if element.text:
        out.append(_escape_text(element.text))
    for child in element:
        _write(child, out)
        if child.tail:
            out.append(_escape_text(child.tail))


def _write(element: ET.Element, out: list[str]) -> None:
    tag = element.tag
    if tag is ET.Comment:
        out.append(f"<!--{element.text or ''}-->")
        return
    if tag == VERBATIM:
        out.append(element.text or "")
        return
    attrib = element.attrib
    attrs = _attributes(attrib) if attrib else ""
    if tag in VOID or SELF_CLOSING in attrib:
        out.append(f"<{tag}{attrs} />")
        return
    out.append(f"<{tag}{attrs}>")
    # The content inline (not _write_content): most elements hold text only, or nothing.
    text = element.text
    if text:
        out.append(_escape_text(text))
    for child in element:
        _write(child, out)
        tail = child.tail
        if tail:
            out.append(_escape_text(tail))
    out.append(f"</{tag}>")


def _attributes(attrib: dict[str, str]) -> str:
    written = ""
    for key, value in attrib.items():
        if key != SELF_CLOSING:
            value = str(value)
            if "&" in value or '"' in value or "<" in value:  # seldom: checking is cheaper
                value = _escape_attribute(value)
            written += f' {key}="{value}"'
    return written


def _escape_text(text: str) -> str:
    # Checking first is cheaper than three replacements on the plain text most nodes hold.
    if "&" in text or "<" in text or ">" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text


def _escape_attribute(value: str) -> str:
    value = str(value)
    if "&" in value or '"' in value or "<" in value:
        return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return value
