"""The feeds stage: Atom, sitemap and robots.txt from a `Site` value, with absolute URLs."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

from builder import feeds
from builder.config import load_config
from builder.model import Page, Post, Rendered, Site

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def a_site(tmp_path: Path, url: str = "https://x.io") -> Site:
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src/_config.yml").write_text(f"title: Blog <thử>\nurl: {url}\nbaseurl: /b\nauthor: Tôi\n")
    config = load_config(tmp_path / "src")
    body = Rendered('<p>Xem <a href="/b/x/">x</a> <img src="/b/i.png"></p>', excerpt="Xem x")
    first = Post(source=tmp_path / "a.md", rel="_posts/a.md", front={}, body="", body_line=1, url="/2020/a/",
                 title="Bài <A>", date=datetime(2020, 1, 2, 3, 4, tzinfo=UTC), categories=("Học máy",),
                 rendered=body)
    older = dataclasses.replace(first, rel="_posts/b.md", url="/2019/b/", title="B", description="Mô tả B",
                                date=datetime(2019, 1, 1, tzinfo=UTC))
    pages = (Page(source=tmp_path / "p.md", rel="p.md", front={}, body="", body_line=1, url="/p/", title="P"),
             Page(source=tmp_path / "q.md", rel="q.md", front={"sitemap": False}, body="", body_line=1,
                  url="/q/", title="Q"),
             Page(source=tmp_path / "d.json", rel="d.json", front={}, body="", body_line=1, url="/d.json",
                  title="D"))
    return Site(config=config, posts=(first, older), pages=pages, static_files=())


def test_the_atom_feed_has_absolute_links_and_escaped_text(tmp_path: Path) -> None:
    feed = ET.fromstring(feeds.atom_feed(a_site(tmp_path)))
    assert feed.findtext(f"{ATOM}title") == "Blog <thử>"
    assert feed.findtext(f"{ATOM}updated").startswith("2020-01-02")
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Bài <A>", "B"]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://x.io/b/2020/a/"
    assert entries[0].find(f"{ATOM}category").get("term") == "Học máy"
    assert [e.findtext(f"{ATOM}summary") for e in entries] == ["Xem x", "Mô tả B"]
    content = entries[0].findtext(f"{ATOM}content")
    assert 'href="https://x.io/b/x/"' in content and 'src="https://x.io/b/i.png"' in content


def test_srcset_candidates_in_the_feed_are_absolute_like_src() -> None:
    html = ('<picture><source type="image/avif" srcset="/b/x-480.avif 480w, /b/x-960.avif 960w">'
            '<source srcset="https://cdn.io/y.webp 1x,//cdn.io/z.webp 2x"><img src="/b/x.jpg"></picture>')
    assert feeds.absolute_links(html, "https://x.io") == (
        '<picture><source type="image/avif" srcset="https://x.io/b/x-480.avif 480w, '
        'https://x.io/b/x-960.avif 960w"><source srcset="https://cdn.io/y.webp 1x, //cdn.io/z.webp 2x">'
        '<img src="https://x.io/b/x.jpg"></picture>')


def test_the_sitemap_lists_html_pages_not_left_out(tmp_path: Path) -> None:
    urlset = ET.fromstring(feeds.sitemap(a_site(tmp_path), ["/category/hoc-may/"]))
    locations = [u.findtext(f"{SITEMAP}loc") for u in urlset]
    assert locations == ["https://x.io/b/", "https://x.io/b/2020/a/", "https://x.io/b/2019/b/",
                         "https://x.io/b/p/", "https://x.io/b/category/hoc-may/"]
    assert urlset[0].findtext(f"{SITEMAP}lastmod") == "2020-01-02"


def test_robots_names_the_sitemap_only_with_a_url(tmp_path: Path) -> None:
    assert feeds.robots(a_site(tmp_path)) == "User-agent: *\nAllow: /\nSitemap: https://x.io/b/sitemap.xml\n"
    assert feeds.robots(a_site(tmp_path / "no-url", url="''")) == "User-agent: *\nAllow: /\n"


def test_a_build_makes_its_feed_and_sitemap_when_it_writes_them(tmp_path: Path) -> None:
    """The list of a build's files holds the feed and the sitemap as work for the writer (which
    spreads it over its workers beside the pages), not as text made here; they are the same
    text either way."""
    from builder import build, site_files
    from tests.helpers import post, write_files

    source = write_files(tmp_path / "site_src", {"_config.yml": "title: Blog\nurl: https://x.io\n",
                                                 "_posts/2020-01-02-a.md": post("A", categories="[Học máy]"),
                                                 "about.md": post("Giới thiệu")})
    site = build.gather_and_render(load_config(source))
    texts = site_files.collect(site).texts
    made_here = site_files.made(site)
    for name in ("feed.xml", "sitemap.xml"):
        assert callable(texts[name]) and texts[name]() == made_here[name]
    assert "https://x.io/2020/01/02/a/" in made_here["sitemap.xml"]
    assert isinstance(made_here["robots.txt"], str) and texts["robots.txt"] == made_here["robots.txt"]
