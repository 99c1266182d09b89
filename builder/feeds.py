"""Atom feed, sitemap and robots.txt: `Site` -> XML and text, with absolute URLs."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

from builder import mathjax
from builder.model import Site

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
FEED_SIZE = 20
_LOCAL_LINK = re.compile(r'(\s(?:href|src)=")(/[^"]*)"')
_SRCSET = re.compile(r'(\ssrcset=")([^"]*)"')


def atom_feed(site: Site) -> str:
    config = site.config
    home = config.absolute("/")
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": config.lang})
    _text(feed, "title", config.title)
    if config.description:
        _text(feed, "subtitle", config.description)
    _text(feed, "id", home)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=home)
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", type="application/atom+xml",
                  href=config.absolute("/feed.xml"))
    newest = site.posts[0].date if site.posts else (site.now or datetime.now(config.tz))
    _text(feed, "updated", newest.isoformat())
    if config.author:
        _text(ET.SubElement(feed, f"{{{ATOM}}}author"), "name", config.author)
    _text(feed, "generator", "builder")
    for post in site.posts[:FEED_SIZE]:
        rendered = post.rendered
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        _text(entry, "title", post.title)
        url = config.absolute(post.url)
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=url)
        _text(entry, "id", url)
        _text(entry, "published", post.date.isoformat())
        _text(entry, "updated", post.date.isoformat())
        for category in post.categories:
            ET.SubElement(entry, f"{{{ATOM}}}category", term=category)
        _text(entry, "summary", post.description or rendered.excerpt)
        # Typeset math goes out as its MathML (with the TeX as annotation): feed readers have
        # neither MathJax's stylesheet nor its fonts, and show MathML themselves.
        html = mathjax.feed_html(rendered.html) if rendered.has_math else rendered.html
        content = _text(entry, "content", absolute_links(html, config.url))
        content.set("type", "html")
    return _xml(feed)


def absolute_links(html: str, url: str) -> str:
    """Feed readers have no base URL: make site-absolute links absolute, in `href`, `src` and
    each candidate of a `srcset`."""
    if not url:
        return html
    html = _LOCAL_LINK.sub(lambda m: f'{m.group(1)}{url}{m.group(2)}"', html)
    return _SRCSET.sub(lambda m: f'{m.group(1)}{_absolute_candidates(m.group(2), url)}"', html)


def _absolute_candidates(srcset: str, url: str) -> str:
    candidates = (c.strip() for c in srcset.split(","))
    return ", ".join(url + c if c.startswith("/") and not c.startswith("//") else c for c in candidates if c)


def sitemap(site: Site, extra_paths: list[str]) -> str:
    config = site.config
    ET.register_namespace("", SITEMAP)
    urlset = ET.Element(f"{{{SITEMAP}}}urlset")
    entries: list[tuple[str, datetime | None]] = [("/", site.posts[0].date if site.posts else None)]
    entries += [(post.url, post.date) for post in site.posts]
    entries += [(page.url, None) for page in site.pages if page.url != "/"
                and page.front.get("sitemap", True) is not False
                and page.output_path.endswith((".html", ".htm", ".xhtml"))]  # no JSON or CSS pages
    entries += [(path, None) for path in extra_paths]
    for path, when in entries:
        item = ET.SubElement(urlset, f"{{{SITEMAP}}}url")
        _text(item, "loc", config.absolute(path), SITEMAP)
        if when is not None:
            _text(item, "lastmod", when.date().isoformat(), SITEMAP)
    return _xml(urlset)


def robots(site: Site) -> str:
    lines = ["User-agent: *", "Allow: /"]
    if site.config.url:
        lines.append(f"Sitemap: {site.config.absolute('/sitemap.xml')}")
    return "\n".join(lines) + "\n"


def _text(parent: ET.Element, tag: str, text: str, ns: str = ATOM) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}")
    element.text = text
    return element


def _xml(root: ET.Element) -> str:
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
