"""The figures page (`/hinh/`): every figure of the manifest with its picture as the post shows
it, its highlighted script, where and how fast it was made, its numbers against their bars, the
posts that show it and the command that makes it again; linked from every figure note and the
footer, listed in the sitemap, in the site's language."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.helpers import TOY_BARRED, TOY_GOOD, run_blog, soup, toy_figure, toy_project, write_files

POST = "_site/2018/06/28/cnn-co-gi-do-sai-sai/index.html"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def _manifest(project: Path) -> dict[str, dict]:
    return {f["name"]: f for f in json.loads((project / "_site/figures.json").read_text())["figures"]}


def _sources(picture) -> list[dict]:
    return [dict(source.attrs) for source in picture.find_all("source")]


def test_every_figure_has_an_entry_made_from_the_manifest(seed_project: Path) -> None:
    page = soup(seed_project / "_site/hinh/index.html")
    manifest = _manifest(seed_project)
    sections = page.select("section.figure-entry")
    assert [s["id"] for s in sections] == sorted(manifest)
    assert page.title.get_text() == "Các hình và mã vẽ chúng · Học máy có gì đó sai sai"
    assert page.html["lang"] == "vi"
    for section in sections:
        record = manifest[section["id"]]
        facts = dict(zip([dt.get_text() for dt in section.select("dt")],
                         [dd.get_text(" ", strip=True) for dd in section.select("dd")], strict=True))
        assert facts["Thiết bị"] == record["device"]
        assert facts["Thời gian"].startswith(f"{record['seconds']:.1f}".replace(".", ",") + " giây")
        assert facts["Bộ nhớ tối đa"] == f"{record['peak_memory_mb']:.0f} MB"
        assert facts["Seed"].startswith(str(record["seed"]))
        assert f"torch {record['versions']['torch']}" in facts["Thư viện"].replace("\xa0", " ")
        assert section.select_one(".figure-source .highlight pre") is not None  # Pygments' colours
        assert "def make(ctx)" in section.select_one(".figure-source").get_text()
        assert section.select_one("a.script-link")["href"] == "/" + record["script"]
        assert section.select_one("pre.command").get_text() == f"blog figures {record['name']} --force"


def test_a_figure_is_shown_with_the_same_picture_as_in_the_post(seed_project: Path) -> None:
    page = soup(seed_project / "_site/hinh/index.html")
    post = soup(seed_project / POST)
    for name, src in (("max_pooling", "/images/post2/4.jpg"), ("inception_v3", "/images/post2/1.jpg")):
        on_page = page.select_one(f"#{name} img[src='{src}']")
        in_post = post.find("img", src=src)
        assert on_page["alt"] == in_post["alt"] and on_page["width"] == in_post["width"]
        assert on_page.parent.name == "picture" and on_page.parent.get("class") == in_post.parent.get("class")
        assert _sources(on_page.parent) == _sources(in_post.parent)
        schemes = {s.get("media", "") for s in _sources(on_page.parent)}
        assert any("prefers-color-scheme: dark" in m for m in schemes)  # light and dark, as in the post


def test_metrics_are_held_against_the_scripts_bars(seed_project: Path) -> None:
    page = soup(seed_project / "_site/hinh/index.html")
    manifest = _manifest(seed_project)
    rows = {tr.th.get_text(): [td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.select("#banner table.figure-metrics tbody tr")}
    contrast = manifest["banner"]["metrics"]["white_text_contrast"]
    assert rows["white_text_contrast"] == [f"{contrast:.6g}".replace(".", ","), "≥\xa04,5 ✓ đạt"]
    assert rows["filters"] == ["8", "chỉ ghi lại"]
    # A list of numbers held against a bar shows its lowest element; tables stay in figures.json.
    inception = page.select_one("#inception_v3")
    assert inception.select_one(".more-metrics a")["href"] == "/figures.json"
    assert "total_params" in inception.select_one("table.figure-metrics").get_text()


def test_the_posts_that_show_a_figure_are_listed(seed_project: Path) -> None:
    page = soup(seed_project / "_site/hinh/index.html")
    for name in ("max_pooling", "banner"):  # a body image, and the post's background
        used = page.select(f"#{name} dd a[href='/2018/06/28/cnn-co-gi-do-sai-sai/']")
        assert [a.get_text() for a in used] == ["Convolutional neural networks có gì đó sai sai :3"]


def test_figure_notes_and_the_footer_link_to_the_page_and_show_readers_no_command(seed_project: Path) -> None:
    post = soup(seed_project / POST)
    notes = post.select("details.provenance")
    assert len(notes) == 9
    for note in notes:
        name = note.select_one("a.script-link")["href"].rsplit("/", 1)[-1].removesuffix(".py")
        assert note.find("a", href=f"/hinh/#{name}").get_text() == "Mã, số đo và cách vẽ lại"
        assert "blog figures" not in note.get_text() and "--force" not in note.get_text()
    for path in ("_site/index.html", POST, "_site/404.html", "_site/category/computer-vision/index.html",
                 "_site/hinh/index.html"):
        assert soup(seed_project / path).select_one(".site-footer a[href='/hinh/']").get_text() == "Các hình"
    sitemap = ET.parse(seed_project / "_site/sitemap.xml").getroot()
    assert "https://vietml.github.io/hinh/" in [loc.text for loc in sitemap.iter(f"{SITEMAP}loc")]


def test_an_english_site_gets_an_english_figures_page_and_a_missed_bar_is_shown(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_BARRED},
                          {"2020-01-01-a.md": "---\ntitle: A\n---\n![x]({{ site.baseurl }}/img/good.png)\n"})
    write_files(project / "site_src", {"_config.yml": "title: Toy\nlang: en\nbaseurl: /blog\n"})
    result = run_blog("build", "-s", str(project / "site_src"))
    assert result.exit_code == 0, result.output
    page = soup(project / "_site/figures/index.html")
    assert page.title.get_text() == "Figures and the code that draws them · Toy"
    (row,) = page.select("#good table.figure-metrics tbody tr")
    assert [td.get_text(" ", strip=True) for td in row.find_all("td")] == ["42", "≥\xa0100 ✗ missed"]
    assert page.select_one("#good img")["src"] == "/blog/img/good.png"
    assert page.select_one("#good a.script-link")["href"] == "/blog/figures/good.py"
    assert "Shown in" in page.get_text() and page.select("#good dd")[-1].a["href"] == "/blog/2020/01/01/a/"
    note = soup(project / "_site/2020/01/01/a/index.html").select_one("details.provenance")
    assert note.find("a", href="/blog/figures/#good").get_text() == "Code, numbers and how to make it again"
    assert (project / "_site/figures/good.py").is_file()  # the scripts are still published beside it


def test_a_site_without_figures_has_no_figures_page(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": "---\ntitle: A\n---\nChữ.\n"})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    assert not (tmp_path / "out/hinh").exists()
    assert "/hinh/" not in (tmp_path / "out/index.html").read_text(encoding="utf-8")
    assert "/hinh/" not in (tmp_path / "out/sitemap.xml").read_text(encoding="utf-8")


def test_a_page_of_the_sites_own_at_that_url_wins(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    own = "---\ntitle: Ảnh của tôi\npermalink: /hinh/\n---\nCủa tôi.\n"
    write_files(project / "site_src", {"hinh.md": own})
    assert run_blog("build", "-s", str(project / "site_src")).exit_code == 0
    assert soup(project / "_site/hinh/index.html").select_one("h1").get_text() == "Ảnh của tôi"


def test_an_unused_figure_says_so(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD, "spare.py": toy_figure("/img/spare.png", "spare")})
    assert run_blog("build", "-s", str(project / "site_src")).exit_code == 0
    page = soup(project / "_site/hinh/index.html")
    assert page.select("#spare dd")[-1].get_text() == "chưa bài nào"
    assert [a.get_text() for a in page.select(".figure-index a")] == ["good", "spare"]


def test_highlighted_sources_are_made_once_per_script_text(tmp_path: Path, monkeypatch) -> None:
    """Pygments runs for a script only when its text (or Pygments) changed; a second build reads
    the kept HTML, and an edit replaces it."""
    import pygments

    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    assert run_blog("build", "-s", str(project / "site_src")).exit_code == 0
    kept = sorted((project / ".cache/figures/sources").glob("*.html"))
    first = soup(project / "_site/hinh/index.html").select_one("#good .highlight")
    assert len(kept) == 1 and first is not None and "make" in first.get_text()

    def refuse(*args, **kwargs):
        raise AssertionError("highlighted again")

    monkeypatch.setattr(pygments, "highlight", refuse)
    (project / "site_src/about.md").write_text("---\ntitle: Giới thiệu\n---\nMới.\n", encoding="utf-8")
    assert run_blog("build", "-s", str(project / "site_src")).exit_code == 0  # pages made again
    again = soup(project / "_site/hinh/index.html").select_one("#good .highlight")
    assert str(again) == str(first)
    monkeypatch.undo()
    script = project / "figures/good.py"
    script.write_text(script.read_text(encoding="utf-8") + "\n# một dòng mới\n", encoding="utf-8")
    assert run_blog("build", "-s", str(project / "site_src")).exit_code == 0
    now = sorted((project / ".cache/figures/sources").glob("*.html"))
    assert len(now) == 1 and now != kept
    assert "một dòng mới" in soup(project / "_site/hinh/index.html").select_one("#good .highlight").get_text()
