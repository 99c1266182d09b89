"""The block tree -> an ElementTree (the shape the figure decoration works on) -> HTML.

Heading ids, the `{:toc}` list, footnotes, abbreviations and attribute lists are settled here,
once the whole document has been read.
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from builder.kramdown import attributes, typography
from builder.kramdown.document import Block, Document
from builder.kramdown.serialize import SELF_CLOSING, VERBATIM, VOID, highlight
from builder.kramdown.spans import CODE, COMMENT, FOOTNOTE, MATH, RAW, Inline, SpanParser, Typo


@dataclass
class Options:
    """The `kramdown:` settings of `_config.yml` that change what a post becomes."""

    auto_ids: bool = True
    toc_levels: frozenset[int] = frozenset(range(1, 7))
    line_numbers: bool = False
    footnote_nr: int = 1
    parse_block_html: bool = False
    smart_quotes: tuple[str, str, str, str] = typography.QUOTES


@dataclass
class HeadingInfo:
    level: int
    id: str
    text: str
    element: ET.Element
    nodes: list = field(default_factory=list)


class Converter:
    def __init__(self, document: Document, options: Options):
        self.doc = document
        self.options = options
        self.footnote_order: list[str] = []
        self.footnote_refs: dict[str, int] = {}
        self.spans = SpanParser(document, self.footnote_order, options.smart_quotes)
        self.headings: list[HeadingInfo] = []
        self.used_ids: dict[str, int] = {}
        self.tocs: list[tuple[ET.Element, Block]] = []
        abbreviations = sorted(document.abbreviations, key=len, reverse=True)
        self.abbreviation = re.compile(
            r"(?<![\w])(" + "|".join(re.escape(a) for a in abbreviations) + r")(?![\w])"
        ) if abbreviations else None

    def convert(self, blocks: list[Block]) -> ET.Element:
        root = ET.Element("div")
        self._blocks(root, blocks)
        self._footnotes(root)
        for element, block in self.tocs:
            self._fill_toc(element, block)
            if len(element) == 0:  # no heading to list: kramdown writes nothing
                _remove(root, element)
        return root

    # --- blocks ------------------------------------------------------------------------------

    def _blocks(self, parent: ET.Element, blocks: list[Block]) -> None:
        """Blocks one after the other, a line break around each (kramdown's output has them; without
        them the text of two blocks would run together)."""
        for block in blocks:
            _separate(parent)
            self._block(parent, block)
        if blocks:
            _separate(parent)

    def _block(self, parent: ET.Element, block: Block) -> None:
        kind = block.kind
        attrs = attributes.resolve(block.ials, self.doc.alds) if block.ials else {}
        if kind == "p":
            self._paragraph(parent, block, attrs)
        elif kind == "h":
            self._heading(parent, block, attrs)
        elif kind in ("blockquote", "dl", "dd"):
            element = _sub(parent, kind, attrs)
            if kind == "dd" and not block.wrap:
                self._item_children(element, block)
            else:
                self._blocks(element, block.children)
        elif kind in ("ul", "ol"):
            self._list(parent, block, attrs)
        elif kind == "dt":
            self._inline(_sub(parent, "dt", attrs), block.text)
        elif kind == "hr":
            _sub(parent, "hr", attrs)
        elif kind == "code":
            self._code(parent, block, attrs)
        elif kind == "math":  # with attributes, kramdown wraps it in a <div> that has them
            holder = _sub(parent, "div", attrs) if attrs else parent
            _sub(holder, "div", {"class": "arithmatex"}).text = f"\\[{block.text}\\]"
        elif kind == "table":
            self._table(parent, block, attrs)
        elif kind == "html":
            self._html(parent, block, attrs)
        elif kind == "raw":
            _sub(parent, VERBATIM).text = block.text
        elif kind == "text":
            _append_text(parent, block.text)
        elif kind == "span":
            self._inline(parent, block.text)
        elif kind == "comment":
            parent.append(ET.Comment(f" {block.text.strip()} " if block.text.strip() else ""))

    def _paragraph(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        nodes = self.spans.parse(block.text)
        if len(nodes) == 1 and type(nodes[0]) is str and self.abbreviation is None:
            _sub(parent, "p", attrs).text = nodes[0]  # plain text, as `_append_nodes` would add it
            return
        if len(nodes) == 1 and isinstance(nodes[0], Inline) and nodes[0].tag == "img" \
                and "standalone" in _refs(nodes[0]):
            self._standalone_image(parent, nodes[0], attrs)
            return
        self._append_nodes(_sub(parent, "p", attrs), nodes)

    def _standalone_image(self, parent: ET.Element, image: Inline, attrs: dict[str, str]) -> None:
        own = attributes.resolve(image.ials, self.doc.alds)
        image.ials = []
        figure = _sub(parent, "figure", attrs or {k: own.pop(k) for k in ("id", "class") if k in own})
        image.attrs.update(own)
        self._append_nodes(figure, [image])
        _sub(figure, "figcaption").text = image.attrs.get("alt", "")

    def _heading(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        nodes = self.spans.parse(block.text)
        element = _sub(parent, f"h{block.level}", {})
        if "id" not in attrs and self.options.auto_ids:
            ident = self._unique(gfm_id(_id_text(nodes)))
            if ident:
                element.set("id", ident)
        for key, value in attrs.items():
            if key == "id" and not value:
                continue
            element.set(key, value)
        self._append_nodes(element, nodes)
        text = " ".join(_plain(nodes).split())
        self.headings.append(HeadingInfo(block.level, element.get("id", ""), text, element, nodes))

    def _unique(self, ident: str) -> str:
        if not ident:
            return ""
        count = self.used_ids.get(ident, 0)
        self.used_ids[ident] = count + 1
        return ident if count == 0 else f"{ident}-{count}"

    def _list(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        element = _sub(parent, block.kind, {k: v for k, v in attrs.items()})
        if not self.tocs and any("toc" in attributes.refs(items) for items in block.ials):
            # Only the first list marked `{:toc}` becomes the table of contents.
            element.set("id", attrs.get("id", "markdown-toc"))
            self.tocs.append((element, block))
            return
        tasks = any(item.tag for item in block.children)
        if tasks:
            element.set("class", _join("task-list", element.get("class")))
        for item in block.children:
            item_attrs = attributes.resolve(item.ials, self.doc.alds) if item.ials else {}
            _separate(element)
            li = _sub(element, "li", item_attrs)
            if tasks:
                li.set("class", _join("task-list-item", li.get("class")))
            if item.tag:
                box = {"type": "checkbox", "class": "task-list-item-checkbox", "disabled": "disabled"}
                if item.tag == "checked":
                    box["checked"] = "checked"
                _sub(li, "input", box)
            if item.wrap:
                self._blocks(li, item.children)
            else:
                self._item_children(li, item)
        _separate(element)

    def _item_children(self, element: ET.Element, item: Block) -> None:
        """An item whose first paragraph is not wrapped: its text goes straight into the item."""
        children = item.children
        if children and children[0].kind == "p" and not children[0].ials:
            self._append_nodes(element, self.spans.parse(children[0].text))
            children = children[1:]
        self._blocks(element, children)

    def _code(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        language = attrs.pop("lang", "") or block.tag
        classes = attrs.get("class", "")
        if not language and (found := re.search(r"(?:^|\s)language-(\S+)", classes)):
            language = found.group(1)
        html = highlight(block.text, language, self.options.line_numbers)
        element = _sub(parent, "div", {**attrs, "class": _join("highlight", classes)})
        _sub(element, VERBATIM).text = html

    def _table(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        table = _sub(parent, "table", attrs)
        for section in block.children:
            body = _sub(table, section.kind)
            for row in section.children:
                _separate(body)
                tr = _sub(body, "tr")
                for cell in row.children:
                    _separate(tr)
                    td = _sub(tr, cell.kind, {"style": f"text-align: {cell.tag}"} if cell.tag else {})
                    self._inline(td, cell.text)
                _separate(tr)
            _separate(body)

    def _html(self, parent: ET.Element, block: Block, attrs: dict[str, str]) -> None:
        element = _sub(parent, block.tag, {**block.attrs, **attrs})
        if block.text == "/" and block.tag not in VOID:
            element.set(SELF_CLOSING, "")
        if block.mode == "block":
            self._blocks(element, block.children)
        else:  # HTML as written: its own white space, nothing added
            for child in block.children:
                self._block(element, child)

    # --- spans -------------------------------------------------------------------------------

    def _inline(self, parent: ET.Element, text: str) -> None:
        self._append_nodes(parent, self.spans.parse(text))

    def _append_nodes(self, parent: ET.Element, nodes: list) -> None:
        for index, node in enumerate(nodes):
            if isinstance(node, str):
                if not isinstance(node, Typo) and self.abbreviation is not None:
                    self._abbreviate(parent, node)
                else:
                    text = node
                    if index + 1 < len(nodes) and isinstance(nodes[index + 1], Inline) \
                            and nodes[index + 1].tag == "br":
                        text = text.rstrip(" ")
                    _append_text(parent, text)
            else:
                self._node(parent, node)

    def _abbreviate(self, parent: ET.Element, text: str) -> None:
        position = 0
        for match in self.abbreviation.finditer(text):
            _append_text(parent, text[position:match.start()])
            title = self.doc.abbreviations[match.group(1)]
            _sub(parent, "abbr", {"title": title} if title else {}).text = match.group(1)
            position = match.end()
        _append_text(parent, text[position:])

    def _node(self, parent: ET.Element, node: Inline) -> None:
        attrs = {**node.attrs, **(attributes.resolve(node.ials, self.doc.alds) if node.ials else {})}
        tag = node.tag
        if tag == MATH:
            math = f"\\[{node.text}\\]" if node.display else f"\\({node.text}\\)"
            _sub(parent, "span", {**attrs, "class": _join("arithmatex", attrs.get("class"))}).text = math
        elif tag == CODE:
            _sub(parent, "code", attrs).text = node.text
        elif tag == RAW:
            _sub(parent, VERBATIM).text = node.text
        elif tag == COMMENT:
            parent.append(ET.Comment(f" {node.text.strip()} " if node.text.strip() else ""))
        elif tag == FOOTNOTE:
            self._footnote_marker(parent, node.text)
        else:
            element = _sub(parent, tag, attrs)
            self._append_nodes(element, node.children)

    # --- footnotes, table of contents ----------------------------------------------------------

    def _footnote_marker(self, parent: ET.Element, name: str) -> None:
        number = self.footnote_order.index(name) + self.options.footnote_nr
        count = self.footnote_refs.get(name, 0)
        self.footnote_refs[name] = count + 1
        ref_id = f"fnref:{name}" + (f":{count}" if count else "")
        sup = _sub(parent, "sup", {"id": ref_id, "role": "doc-noteref"})
        _sub(sup, "a", {"href": f"#fn:{name}", "class": "footnote", "rel": "footnote"}).text = str(number)

    def _footnotes(self, root: ET.Element) -> None:
        if not self.footnote_order:
            return
        holder = _sub(root, "div", {"class": "footnotes", "role": "doc-endnotes"})
        ol = _sub(holder, "ol")
        if self.options.footnote_nr != 1:
            ol.set("start", str(self.options.footnote_nr))
        done = 0
        while done < len(self.footnote_order):  # a footnote may mark another one
            name = self.footnote_order[done]
            done += 1
            _separate(ol)
            li = _sub(ol, "li", {"id": f"fn:{name}", "role": "doc-endnote"})
            self._blocks(li, self.doc.footnotes[name].children)
            last = li[-1] if len(li) and li[-1].tag == "p" else _sub(li, "p")
            for count in range(self.footnote_refs.get(name, 1)):
                if len(last) or (last.text or "").strip():
                    _append_text(last, " ")
                back = _sub(last, "a", {"href": f"#fnref:{name}" + (f":{count}" if count else ""),
                                        "class": "reversefootnote", "role": "doc-backlink"})
                back.text = "\u21a9"
                if count:
                    _sub(back, "sup").text = str(count + 1)

    def _fill_toc(self, element: ET.Element, block: Block) -> None:
        """The headings within `toc_levels`, nested by level, each a link to its heading."""
        entries = [h for h in self.headings if h.level in self.options.toc_levels and h.id
                   and "no_toc" not in (h.element.get("class") or "").split()]
        stack: list[tuple[int, ET.Element]] = [(0, element)]
        for heading in entries:
            while len(stack) > 1 and stack[-1][0] >= heading.level:
                stack.pop()
            _separate(stack[-1][1])
            li = _sub(stack[-1][1], "li")
            link = _sub(li, "a", {"href": f"#{heading.id}", "id": f"markdown-toc-{heading.id}"})
            self._append_nodes(link, _without_links(heading.nodes))
            stack.append((heading.level, _sub(li, block.kind)))
        for li in element.iter("li"):
            for child in list(li):
                if child.tag == block.kind and len(child) == 0:
                    li.remove(child)


def gfm_id(text: str) -> str:
    """kramdown's GFM ids: letters, marks, digits, `_`, `-` and spaces kept; spaces to `-`; lower case."""
    return text.lower().translate(_ID_CHARACTERS)


class _IdCharacters(dict):
    """`str.translate`'s table for `gfm_id`: each character's fate is worked out the first time it
    is seen (Unicode category lookups are the slow part), then only looked up."""

    def __missing__(self, code: int) -> int | str | None:
        char = chr(code)
        category = unicodedata.category(char)
        kept = char in "-_ " or category[0] in "LM" or category == "Nd"
        self[code] = ("-" if char == " " else code) if kept else None
        return self[code]


_ID_CHARACTERS = _IdCharacters()


def _id_text(nodes: list) -> str:
    out = []
    for node in nodes:
        if isinstance(node, Typo):
            continue
        if isinstance(node, str):
            out.append(node)
        elif node.tag in (CODE, MATH):
            out.append(node.text)
        elif node.tag not in (FOOTNOTE, "img", RAW, COMMENT, "br"):
            out.append(_id_text(node.children))
    return "".join(out)


def _plain(nodes: list) -> str:
    out = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node.tag == CODE:
            out.append(node.text)
        elif node.tag == MATH:
            out.append(f"\\({node.text}\\)")
        elif node.tag not in (FOOTNOTE, RAW, COMMENT):
            out.append(_plain(node.children))
    return "".join(out)


def _without_links(nodes: list) -> list:
    out: list = []
    for node in nodes:
        if isinstance(node, Inline) and node.tag == "a":
            out.extend(_without_links(node.children))
        elif isinstance(node, Inline) and node.tag == FOOTNOTE:
            continue
        else:
            out.append(node)
    return out


def _refs(node: Inline) -> list[str]:
    return [name for items in node.ials for name in attributes.refs(items)]


def _join(first: str, second: str | None) -> str:
    return f"{first} {second}" if second else first


def _sub(parent: ET.Element, tag: str, attrs: dict[str, str] | None = None) -> ET.Element:
    return ET.SubElement(parent, tag, attrs or {})


def _remove(root: ET.Element, element: ET.Element) -> None:
    """Take `element` out of the tree, keeping the text that followed it."""
    for parent in root.iter():
        children = list(parent)
        if element in children:
            index = children.index(element)
            parent.remove(element)
            if element.tail and index == 0:
                parent.text = (parent.text or "") + element.tail
            elif element.tail:
                children[index - 1].tail = (children[index - 1].tail or "") + element.tail
            return


def _separate(parent: ET.Element) -> None:
    """A line break at the current end of `parent` unless white space is already there."""
    last = (parent[-1].tail if len(parent) else parent.text) or ""
    if last and last[-1] in " \t\n":
        return
    _append_text(parent, "\n")


def _append_text(parent: ET.Element, text: str) -> None:
    if not text:
        return
    if len(parent):
        parent[-1].tail = (parent[-1].tail or "") + text
    else:
        parent.text = (parent.text or "") + text


