"""A whole fixture site: pages, feeds, permalinks, baseurl, and every link resolving."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.helpers import FIXTURES, copy_fixture, run_blog, soup, write_files

BASIC = FIXTURES / "basic"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("basic")
    source = copy_fixture("basic", project / "site_src")
    out = project / "_site"
    result = run_blog("build", "-s", str(source), "-d", str(out), "--baseurl", "/blog", "--strict")
    assert result.exit_code == 0, result.output + result.stderr
    return out


def test_summary_line_counts_posts_and_pages(tmp_path: Path) -> None:
    source = copy_fixture("basic", tmp_path / "site_src")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    # 3 posts (draft and future post left out); about, home, 2 categories, the archive, 404.
    assert result.stdout.startswith(f"built {tmp_path / 'o'}: 3 posts, 6 pages, ")
    assert result.stdout.rstrip().endswith(" s")


def test_every_link_and_image_resolves_under_baseurl(site: Path) -> None:
    checked = 0
    for page in sorted(site.rglob("*.html")):
        doc = soup(page)
        ids = {tag["id"] for tag in doc.find_all(id=True)}
        for tag, attr in [("a", "href"), ("link", "href"), ("img", "src"), ("script", "src")]:
            for element in doc.find_all(tag, **{attr: True}):
                url = element[attr]
                parts = urlsplit(url)
                if parts.scheme or url.startswith("//"):
                    continue
                if not parts.path:  # same-page anchor
                    assert parts.fragment in ids, f"{page}: {url}"
                    continue
                assert parts.path.startswith("/blog/"), f"{page}: {url} ignores baseurl"
                target = site / unquote(parts.path[len("/blog/"):])
                if parts.path.endswith("/"):
                    target = target / "index.html"
                assert target.is_file(), f"{page}: {url} -> {target}"
                if parts.fragment:
                    assert soup(target).find(id=parts.fragment), f"{page}: {url}"
                checked += 1
    assert checked > 50


def test_permalinks_use_slugged_categories_and_dates(site: Path) -> None:
    assert (site / "thi-giac/hoc-may/2020/01/15/bai-dau-tien/index.html").is_file()
    assert (site / "hoc-may/2021/03/02/toan-hoc/index.html").is_file()  # from _posts/notes/
    assert (site / "about.html").is_file()


def test_drafts_and_future_posts_are_left_out_unless_asked(site: Path, tmp_path: Path) -> None:
    home = soup(site / "index.html")
    titles = [a.get_text() for a in home.select(".post-card-title a")]
    assert titles == ["Toán học: $x$ và bạn bè", "Bài đầu tiên", "Bài cũ nhất"]
    out = tmp_path / "all"
    source = copy_fixture("basic", tmp_path / "site_src")
    result = run_blog("build", "-s", str(source), "-d", str(out), "--drafts", "--future")
    assert result.exit_code == 0
    titles = [a.get_text() for a in soup(out / "index.html").select(".post-card-title a")]
    assert titles[0] == "Bài tương lai" and "Bản nháp" in titles


def test_home_lists_posts_newest_first_with_excerpts(site: Path) -> None:
    cards = soup(site / "index.html").select(".post-card")
    assert cards[0].select_one(".post-excerpt").get_text() == "Bài có công thức."
    assert cards[1].select_one(".post-excerpt").get_text() == \
        "Đoạn mở đầu của bài đầu tiên, có chữ đậm."
    assert cards[1].time["datetime"].startswith("2020-01-15")


def test_category_pages(site: Path) -> None:
    page = soup(site / "category/hoc-may/index.html")
    assert page.h1.get_text() == "Chuyên mục: Học máy"
    assert len(page.select(".post-card")) == 3
    assert len(soup(site / "category/thi-giac/index.html").select(".post-card")) == 1


def test_atom_feed_is_valid_with_absolute_urls(site: Path) -> None:
    feed = ET.parse(site / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries][0] == "Toán học: $x$ và bạn bè"
    for entry in entries:
        link = entry.find(f"{ATOM}link").get("href")
        assert link.startswith("https://example.github.io/blog/")
        content = entry.findtext(f"{ATOM}content")
        assert 'src="/' not in content and 'href="/' not in content
    assert feed.findtext(f"{ATOM}title") == "Blog thử <nghiệm> & bạn"


def test_sitemap_robots_404_nojekyll_cname(site: Path) -> None:
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locs = [e.text for e in ET.parse(site / "sitemap.xml").getroot().iter(f"{ns}loc")]
    assert "https://example.github.io/blog/" in locs
    assert "https://example.github.io/blog/hoc-may/2021/03/02/toan-hoc/" in locs
    assert "https://example.github.io/blog/category/hoc-may/" in locs
    assert "https://example.github.io/blog/archive/" in locs
    assert len(locs) == len(set(locs)) == 8
    assert "Sitemap: https://example.github.io/blog/sitemap.xml" in (site / "robots.txt").read_text()
    assert soup(site / "404.html").h1.get_text().startswith("Không tìm thấy trang")
    assert (site / ".nojekyll").read_text() == ""
    assert (site / "CNAME").read_text() == "blog.example.org\n"


def test_math_reaches_mathjax_intact_and_is_typeset_at_build_time(site: Path) -> None:
    page = soup(site / "hoc-may/2021/03/02/toan-hoc/index.html")
    body = page.select_one(".post-body")
    # What MathJax was given, kept in each formula's MathML as its TeX annotation.
    spans = [s.select_one('annotation[encoding="application/x-tex"]').get_text()
             for s in body.select(".arithmatex")]
    assert spans[:3] == ["a_i * b_j", "a<b", r"\{ x \}"]
    assert spans[3].startswith(r"\begin{aligned} f(x) &= x^2 \\ g(x)")
    assert r"e^{i\pi} + 1 = 0" in spans and any(r"\sum_{k=1}^n" in s for s in spans)
    assert [s.select_one("math").get("display") for s in body.select(".arithmatex")] == \
        [None, None, None, "block", None, "block"]
    assert body.find("em") is None
    assert "còn giá 5$ một tháng thì không phải toán" in body.get_text()
    assert page.find("script", src=lambda src: "mathjax" in src.lower()) is None
    assert page.find("link", href="/blog/assets/theme/mathjax/mathjax.css") is not None
    other = soup(site / "thi-giac/hoc-may/2020/01/15/bai-dau-tien/index.html")
    assert "MathJax" not in str(other) and "mathjax" not in str(other)


def test_math_render_client_leaves_math_to_the_browser(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(BASIC, source)
    with (source / "_config.yml").open("a", encoding="utf-8") as config:
        config.write("math_render: client\n")
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    page = soup(tmp_path / "out/hoc-may/2021/03/02/toan-hoc/index.html")
    body = page.select_one(".post-body")
    spans = [s.get_text() for s in body.select(".arithmatex")]
    assert spans[:3] == [r"\(a_i * b_j\)", r"\(a<b\)", r"\(\{ x \}\)"]
    assert spans[3].startswith(r"\[\begin{aligned} f(x) &= x^2 \\ g(x)")
    assert r"\(e^{i\pi} + 1 = 0\)" in spans and any(r"\sum_{k=1}^n" in s for s in spans)
    scripts = [s.get("src", "") for s in page.find_all("script")]
    assert any("tex-chtml.js" in s for s in scripts)
    assert body.find("mjx-container") is None and not (tmp_path / "out/assets/theme/mathjax").exists()


def test_code_is_not_touched_by_liquid(site: Path) -> None:
    body = soup(site / "hoc-may/2021/03/02/toan-hoc/index.html").select_one(".post-body")
    assert '"{{ không phải liquid }}"' in body.find("pre").get_text()
    assert body.find("code", string="{% raw_tag %}") is not None


def test_includes_from_site_and_theme(site: Path) -> None:
    page = soup(site / "hoc-may/2019/12/31/cu-nhat/index.html")
    assert page.select_one(".video")["data-youtube"] == "abcDEF12345"
    assert page.select_one("aside.note").get_text() == "Ghi chú riêng — Bài cũ nhất"


def test_previous_and_next_links(site: Path) -> None:
    page = soup(site / "thi-giac/hoc-may/2020/01/15/bai-dau-tien/index.html")
    assert page.select_one("a[rel=next]")["href"] == "/blog/hoc-may/2021/03/02/toan-hoc/"
    assert page.select_one("a[rel=prev]")["href"] == "/blog/hoc-may/2019/12/31/cu-nhat/"


def test_titles_and_descriptions_are_escaped(site: Path) -> None:
    raw = (site / "index.html").read_text(encoding="utf-8")
    assert "<title>Blog thử &lt;nghiệm&gt; &amp; bạn</title>" in raw
    assert "<nghiệm>" not in raw


def test_site_template_overrides_the_theme_and_layouts_warn(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(BASIC, source)
    write_files(source, {
        "_templates/404.html": "<!DOCTYPE html><title>x</title><p>Lạc đường rồi</p>",
        "_layouts/post.html": "{{ content }}",
    })
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert "Lạc đường rồi" in (tmp_path / "o/404.html").read_text(encoding="utf-8")
    assert result.stderr.count("_layouts") == 1
    assert "Liquid layouts are not used" in result.stderr
    strict = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"), "--strict")
    assert strict.exit_code == 1
