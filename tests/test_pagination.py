"""Lists of posts split into pages as jekyll-paginate splits them, and the archive by year."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

from builder import pagination
from tests.helpers import BASIC_CONFIG, post, run_blog, soup

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def jekyll_paginate(count: int, per_page: int, paginate_path: str) -> list[dict]:
    """What jekyll-paginate's documentation gives for `count` posts: `total_pages` is the
    count over `paginate` rounded up; page 1 is the index page, page N is `paginate_path` with
    `:num` replaced (a leading slash added), written as a folder; `previous_page_path` of page
    2 is the index."""
    total = math.ceil(count / per_page)

    def path(n: int) -> str:
        if n <= 1:
            return "/"
        return "/" + paginate_path.replace(":num", str(n)).strip("/") + "/"

    return [{"page": n, "path": path(n), "posts": list(range((n - 1) * per_page, min(n * per_page, count))),
             "previous_page_path": path(n - 1) if n > 1 else None,
             "next_page_path": path(n + 1) if n < total else None} for n in range(1, total + 1)]


def posts(count: int, **front: str) -> dict[str, str]:
    """`count` posts, one every 40 days from 2019 (so they span several years), in two categories."""
    start = date(2019, 1, 1)
    files = {}
    for i in range(count):
        day = start + timedelta(days=40 * i)
        category = "[Học máy]" if i % 2 == 0 else "[Học máy, Toán]"
        files[f"_posts/{day.isoformat()}-bai-{i:02d}.md"] = post(f"Bài {i:02d}", f"Nội dung {i}.",
                                                                 categories=category, **front)
    return files


def build(source: Path, out: Path, *args: str) -> None:
    result = run_blog("build", "-s", str(source), "-d", str(out), "--strict", *args)
    assert result.exit_code == 0, result.output + result.stderr


def titles(page: Path) -> list[str]:
    return [a.get_text() for a in soup(page).select(".post-card-title a")]


def page_file(out: Path, path: str) -> Path:
    return out / path.lstrip("/") / "index.html"


@pytest.mark.parametrize("count, per_page, paginate_path", [
    (23, 5, None), (20, 10, None), (7, 3, "/page/:num/"), (11, 10, "/trang-:num"), (3, 10, None),
])
def test_pages_are_where_jekyll_paginate_puts_them(tmp_site, tmp_path: Path, count: int, per_page: int,
                                                   paginate_path: str | None) -> None:
    config = BASIC_CONFIG + f"paginate: {per_page}\n"
    if paginate_path:
        config += f"paginate_path: {paginate_path}\n"
    source = tmp_site(posts(count), config=config)
    build(source, tmp_path / "out")
    out = tmp_path / "out"
    newest_first = [f"Bài {i:02d}" for i in reversed(range(count))]
    expected = jekyll_paginate(count, per_page, paginate_path or "/page:num")
    for page in expected:
        html = page_file(out, page["path"])
        assert html.is_file(), page["path"]
        assert titles(html) == [newest_first[i] for i in page["posts"]], page["path"]
        doc = soup(html)
        head_prev = doc.select_one('head link[rel="prev"]')
        head_next = doc.select_one('head link[rel="next"]')
        nav_prev = doc.select_one('.pagination a[rel="prev"]')
        nav_next = doc.select_one('.pagination a[rel="next"]')
        assert (head_prev and head_prev["href"]) == page["previous_page_path"]
        assert (nav_prev and nav_prev["href"]) == page["previous_page_path"]
        assert (head_next and head_next["href"]) == page["next_page_path"]
        assert (nav_next and nav_next["href"]) == page["next_page_path"]
        if len(expected) > 1:
            current = doc.select_one('.pagination a[aria-current="page"]')
            assert current.get_text() == str(page["page"]) and current["href"] == page["path"]
        else:
            assert doc.select_one(".pagination") is None  # one page: no page links at all
    after_last = jekyll_paginate(count + per_page, per_page, paginate_path or "/page:num")[-1]["path"]
    assert not page_file(out, after_last).exists()
    written = sorted(p.parent.relative_to(out).as_posix() for p in out.glob("**/index.html")
                     if not p.parent.relative_to(out).as_posix().startswith(("20", "category", "archive"))
                     and p.parent != out)
    assert written == sorted(page["path"].strip("/") for page in expected[1:])


def test_category_pages_and_the_sitemap(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(posts(23), config=BASIC_CONFIG + "paginate: 5\n")
    build(source, tmp_path / "out", "--baseurl", "/blog")
    out = tmp_path / "out"
    # "Học máy": all 23 posts (5 pages); "Toán": the 11 odd ones (3 pages).
    for slug, members in (("hoc-may", list(range(23))), ("toan", list(range(1, 23, 2)))):
        newest_first = [f"Bài {i:02d}" for i in reversed(members)]
        pages = math.ceil(len(members) / 5)
        for n in range(1, pages + 1):
            html = out / "category" / slug / ("" if n == 1 else f"page{n}") / "index.html"
            assert titles(html) == newest_first[(n - 1) * 5:n * 5]
            nav_next = soup(html).select_one('.pagination a[rel="next"]')
            following = f"/blog/category/{slug}/page{n + 1}/" if n < pages else None
            assert (nav_next and nav_next["href"]) == following
        assert not (out / "category" / slug / f"page{pages + 1}").exists()
    locs = {e.text for e in ET.parse(out / "sitemap.xml").getroot().iter(f"{SITEMAP}loc")}
    base = "https://example.github.io/blog"
    expected = {f"{base}/", f"{base}/archive/"} | {f"{base}/page{n}/" for n in range(2, 6)}
    expected |= {f"{base}/category/hoc-may/"} | {f"{base}/category/hoc-may/page{n}/" for n in range(2, 6)}
    expected |= {f"{base}/category/toan/", f"{base}/category/toan/page2/", f"{base}/category/toan/page3/"}
    assert expected <= locs
    assert len([loc for loc in locs if "/20" not in loc]) == len(expected)  # nothing else but posts


def test_the_archive_lists_every_post_by_year_and_every_page_links_it(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(posts(23), config=BASIC_CONFIG + "paginate: 5\n")
    build(source, tmp_path / "out")
    out = tmp_path / "out"
    archive = soup(out / "archive/index.html")
    years = [section.h2.contents[0].strip() for section in archive.select("section.archive-year")]
    assert years == ["2021", "2020", "2019"]
    listed = [a.get_text() for a in archive.select(".archive-list a")]
    assert listed == [f"Bài {i:02d}" for i in reversed(range(23))]
    first = archive.select_one(".archive-list a")
    assert (out / first["href"].lstrip("/") / "index.html").is_file()
    for page in ("index.html", "page2/index.html", "category/toan/index.html", "404.html",
                 "2019/01/01/bai-00/index.html"):
        assert soup(out / page).select_one('footer a[href="/archive/"]'), page


def test_the_default_is_ten_a_page_and_false_puts_all_on_one(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(posts(12))
    build(source, tmp_path / "ten")
    assert len(titles(tmp_path / "ten/index.html")) == 10
    assert len(titles(tmp_path / "ten/page2/index.html")) == 2
    (source / "_config.yml").write_text(BASIC_CONFIG + "paginate: false\n", encoding="utf-8")
    build(source, tmp_path / "all")
    assert len(titles(tmp_path / "all/index.html")) == 12 and not (tmp_path / "all/page2").exists()


def test_hidden_posts_stay_off_the_home_list_only(tmp_site, tmp_path: Path) -> None:
    files = posts(4)
    files["_posts/2025-01-01-an.md"] = post("Bài ẩn", "Ẩn.", categories="[Toán]", hidden="true")
    source = tmp_site(files, config=BASIC_CONFIG + "paginate: 2\n")
    build(source, tmp_path / "out")
    out = tmp_path / "out"
    home = titles(out / "index.html") + titles(out / "page2/index.html")
    assert home == ["Bài 03", "Bài 02", "Bài 01", "Bài 00"] and not (out / "page3").exists()
    assert "Bài ẩn" in titles(out / "category/toan/index.html")
    assert "Bài ẩn" in soup(out / "archive/index.html").get_text()
    assert (out / "2025/01/01/an/index.html").is_file()


def test_a_page_of_the_site_at_the_archive_path_wins(tmp_site, tmp_path: Path) -> None:
    files = {**posts(2), "archive.md": "---\ntitle: Kho riêng\npermalink: /archive/\n---\nCủa tôi.\n"}
    source = tmp_site(files)
    build(source, tmp_path / "out")
    assert soup(tmp_path / "out/archive/index.html").h1.get_text() == "Kho riêng"
    assert not soup(tmp_path / "out/index.html").select_one('footer a[href="/archive/"]')


@pytest.mark.parametrize("setting, message", [
    ("paginate: many", "paginate must be a number of posts per page (or false), not 'many'"),
    ("paginate: 0", "paginate must be a number of posts per page (or false), not 0"),
    ("paginate_path: /page/", "paginate_path must contain :num (as in /page:num/), not '/page/'"),
    ("paginate_path: /../:num/", "paginate_path must be a path such as /page:num/"),
])
def test_bad_settings_are_clear_errors(tmp_site, tmp_path: Path, setting: str, message: str) -> None:
    source = tmp_site(posts(2), config=BASIC_CONFIG + setting + "\n")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert re.search(re.escape(f"{source / '_config.yml'}:") + r"\d+: " + re.escape(message), result.stderr)
    assert "Traceback" not in result.stderr


def test_numbered_links_show_the_ends_and_the_neighbourhood() -> None:
    pages = pagination.paginate([object()] * 100, 1, "/", "/page:num/")  # type: ignore[list-item]

    def shown(n: int) -> list[int | str]:
        return [link.number or "…" for link in pages[n - 1].links()]

    assert shown(1) == [1, 2, 3, "…", 100]
    assert shown(4) == [1, 2, 3, 4, 5, 6, "…", 100]  # 1 and 2 are next to each other: no gap
    assert shown(50) == [1, "…", 48, 49, 50, 51, 52, "…", 100]
    assert shown(100) == [1, "…", 98, 99, 100]
    assert pagination.paginate([], 10, "/", "/page:num/")[0].total_pages == 1
