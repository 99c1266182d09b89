"""The theme stage: every string a reader sees comes from the templates and the language's
strings table, so `_templates/` and `lang:` change it without touching Python."""

from __future__ import annotations

import sys
from pathlib import Path

import jinja2
import pytest

from builder import store, templates
from builder.config import load_config
from builder.errors import BuildError
from builder.model import Provenance
from tests.helpers import post, run_blog, soup, write_files

MADE = Provenance(script="figures/max_pooling.py", href="/blog/figures/max_pooling.py", device="CPU X & Y",
                  seconds=12.34, alt="Max pooling")


def test_the_figure_note_comes_from_the_theme_in_the_sites_language(tmp_site) -> None:
    source = tmp_site({})
    note = templates.provenance_notes(load_config(source), {"/blog/x.jpg": MADE})["/blog/x.jpg"].note
    assert note == ('<details class="provenance"><summary>Hình này được tạo thế nào?</summary><p>Vẽ bằng mã '
                    '<a class="script-link" href="/blog/figures/max_pooling.py">'
                    '<code>figures/max_pooling.py</code></a> trên CPU X &amp; Y, trong 12,3 giây. '
                    '<a href="/hinh/#max_pooling">Mã, số đo và cách vẽ lại</a></p></details>')
    write_files(source, {"_config.yml": "lang: en\n"})
    english = templates.provenance_notes(load_config(source), {"/x.jpg": MADE})["/x.jpg"].note
    assert "How was this figure made?" in english and "in 12.3 s" in english


def test_a_site_can_reword_the_figure_note(tmp_site) -> None:
    source = tmp_site({"_templates/_provenance.html":
                       '<details class="provenance"><summary>Nguồn: {{ made.name }}</summary></details>\n'})
    note = templates.provenance_notes(load_config(source), {"/x.jpg": MADE})["/x.jpg"].note
    assert note == '<details class="provenance"><summary>Nguồn: max_pooling</summary></details>'


def test_a_figure_note_that_is_not_one_element_is_a_clear_error(tmp_site) -> None:
    source = tmp_site({"_templates/_provenance.html": "<p>một</p><p>hai</p>"})
    with pytest.raises(BuildError) as caught:
        templates.provenance_notes(load_config(source), {"/x.jpg": MADE})
    assert caught.value.path == source / "_templates/_provenance.html"
    assert "well-formed" in str(caught.value)


def test_titles_and_descriptions_are_set_by_the_layouts(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("Bài A", "Mở đầu của bài.", categories="[Học máy]")})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "vi")).exit_code == 0
    category = soup(tmp_path / "vi/category/hoc-may/index.html")
    assert category.title.get_text() == "Chuyên mục Học máy · Blog thử"
    description = category.find("meta", attrs={"name": "description"})["content"]
    assert description == "Các bài viết trong chuyên mục Học máy"
    assert soup(tmp_path / "vi/404.html").title.get_text() == "Không tìm thấy trang · Blog thử"
    page = soup(tmp_path / "vi/2020/01/01/a/index.html")
    assert page.title.get_text() == "Bài A · Blog thử"
    assert page.find("meta", attrs={"name": "description"})["content"] == "Mở đầu của bài."
    write_files(source, {"_config.yml": (source / "_config.yml").read_text() + "lang: en\n"})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "en")).exit_code == 0
    assert soup(tmp_path / "en/category/hoc-may/index.html").title.get_text() == "Category Học máy · Blog thử"
    assert soup(tmp_path / "en/404.html").title.get_text() == "Page not found · Blog thử"


def test_a_layout_override_sets_its_own_title_or_gets_the_default(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({
        "_posts/2020-01-01-a.md": post("Bài A", categories="[Học máy]"),
        "_templates/category.html": "{% extends 'base.html' %}"
                                    "{% set page_title = 'Chủ đề ' ~ category.name %}"
                                    "{% block content %}<h1>{{ category.name }}</h1>{% endblock %}",
        "_templates/404.html": "{% extends 'base.html' %}{% block content %}<h1>Lạc</h1>{% endblock %}",
    })
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0
    assert soup(tmp_path / "o/category/hoc-may/index.html").title.get_text() == "Chủ đề Học máy · Blog thử"
    assert soup(tmp_path / "o/404.html").title.get_text() == "Blog thử"  # set nothing: the site's title


def test_the_serve_error_is_the_themes_and_speaks_the_sites_language(tmp_site) -> None:
    vietnamese = templates.make_environment(load_config(tmp_site({})))
    assert "bản dựng tốt gần nhất" in templates.serve_error(vietnamese, "x.md:1: <hỏng>", has_build=True)
    assert "x.md:1: &lt;hỏng&gt;" in templates.serve_error(vietnamese, "x.md:1: <hỏng>", has_build=True)
    assert templates.serve_no_build_page(vietnamese).startswith('<!doctype html><html lang="vi">')
    english = templates.make_environment(load_config(tmp_site({}, config="lang: en\n")))
    assert "no earlier build to show" in templates.serve_error(english, "e", has_build=False)
    assert '<html lang="en">' in templates.serve_no_build_page(english)


def test_no_interface_string_is_left_in_python() -> None:
    """Every Vietnamese word a reader sees lives in the theme (Python keeps none)."""
    package = Path(templates.__file__).parent
    for word in ("Hình này", "giây", "Chuyên mục", "Không tìm thấy", "Lỗi khi dựng", "Quay lại", "Xuất bản",
                 "Viết mở đầu"):
        for module in package.glob("*.py"):
            assert word not in module.read_text(encoding="utf-8"), (word, module.name)
        assert any(word in p.read_text(encoding="utf-8") for p in (package / "theme").rglob("*.*")
                   if p.suffix in (".yml", ".html")), word


def test_the_footer_spans_the_years_from_the_oldest_post_to_the_build(tmp_site, tmp_path: Path) -> None:
    from datetime import datetime

    from builder.build import build

    source = tmp_site({"_posts/2018-06-28-a.md": post("A"), "_posts/2021-01-01-b.md": post("B")})
    build(load_config(source, destination=tmp_path / "o"), clock=lambda tz: datetime(2026, 3, 1, tzinfo=tz))
    for page in ("index.html", "404.html", "2018/06/28/a/index.html"):
        assert soup(tmp_path / "o" / page).select_one(".site-footer p").get_text().startswith("© 2018–2026 ")
    for old in ("2018-06-28-a.md", "2021-01-01-b.md"):
        (source / "_posts" / old).unlink()
    alone = tmp_site({"_posts/2026-01-02-a.md": post("A")})
    build(load_config(alone, destination=tmp_path / "p"), clock=lambda tz: datetime(2026, 3, 1, tzinfo=tz))
    assert soup(tmp_path / "p/index.html").select_one(".site-footer p").get_text().startswith("© 2026 ")


def test_a_videos_name_is_its_title_when_given(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("Bài <A>", '{% include youtube.html id="abcDEF12345" '
                                                      'title="Capsule & Hinton" %}')})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0
    video = soup(tmp_path / "o/2020/01/01/a/index.html").select_one(".video")
    assert video["data-title"] == "Capsule & Hinton"
    assert video.a.get_text() == "Xem trên YouTube: Capsule & Hinton"
    assert video.select_one(".video-label").get_text() == "Xem trên YouTube: Capsule & Hinton"


# --- the theme's compiled templates, kept beside it as Python keeps bytecode ---------------------


def _render(theme: Path, x: int, overrides: Path | None = None) -> tuple[str, int]:
    """page.html rendered as a new process renders it (nothing compiled in memory yet), over
    `theme` (and `overrides`, a site's `_templates/`), and how many templates it compiled."""
    loaders = [jinja2.FileSystemLoader(str(folder)) for folder in (overrides, theme / "templates") if folder]
    env = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders),
                             bytecode_cache=templates._CompiledTemplates(theme))
    compiled = []
    compile_source = env.compile
    env.compile = lambda *args, **kwargs: compiled.append(args) or compile_source(*args, **kwargs)
    return env.get_template("page.html").render(x=x), len(compiled)


def test_the_themes_compiled_templates_are_kept_and_follow_an_edit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    theme = write_files(tmp_path / "theme", {"templates/page.html": "first {{ x }}"})
    assert _render(theme, 1) == ("first 1", 1)
    (kept,) = (theme / "__pycache__").iterdir()
    assert kept.name == f"jinja2-{store.code_version()[:20]}" and len(list(kept.iterdir())) == 1
    assert _render(theme, 2) == ("first 2", 0)  # read back, not compiled
    (theme / "templates/page.html").write_text("second {{ x }}")
    assert _render(theme, 3) == ("second 3", 1)
    assert _render(theme, 4) == ("second 4", 0)


def test_a_new_builder_compiles_again_and_forgets_the_old_templates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    theme = write_files(tmp_path / "theme", {"templates/page.html": "{{ x }}"})
    assert _render(theme, 1) == ("1", 1)
    (theme / "__pycache__/not-ours").mkdir()
    monkeypatch.setattr(store, "code_version", lambda: "f" * 64)  # the options, Jinja2 or the theme changed
    assert _render(theme, 2) == ("2", 1)
    assert sorted(p.name for p in (theme / "__pycache__").iterdir()) == ["jinja2-" + "f" * 20, "not-ours"]


def test_a_sites_own_templates_and_a_no_bytecode_python_write_nothing(tmp_path: Path, monkeypatch) -> None:
    theme = write_files(tmp_path / "theme", {"templates/page.html": "theme {{ x }}"})
    overrides = write_files(tmp_path / "site/_templates", {"page.html": "site {{ x }}"})
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert _render(theme, 1, overrides) == ("site 1", 1)
    assert not (theme / "__pycache__").exists() and not (overrides / "__pycache__").exists()
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # PYTHONDONTWRITEBYTECODE=1, python -B
    assert _render(theme, 2) == ("theme 2", 1)
    assert _render(theme, 3) == ("theme 3", 1)
    assert not (theme / "__pycache__").exists()


def test_every_strings_table_reads_the_same_with_libyaml_as_without() -> None:
    import yaml

    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml: both readings are the same loader")

    from builder import strings

    for lang in strings.available():
        text = (strings.STRINGS / f"{lang}.yml").read_text(encoding="utf-8")
        assert strings.table(lang) == strings._composed(yaml.load(text, Loader=yaml.SafeLoader)), lang


# --- parts rendered once per build ---------------------------------------------------------------

def test_a_sites_own_header_and_footer_show_on_every_page(tmp_site, tmp_path: Path) -> None:
    """The header and footer are the same on every page, so each is rendered once per build,
    from the site's values: a site's own `_header.html` and `_footer.html` show on every page,
    under the theme's layouts and under a layout of the site's own that extends base.html."""
    from datetime import datetime

    from builder.build import build

    source = tmp_site({
        "_posts/2020-01-01-a.md": post("Bài A", categories="[Học máy]"),
        "_posts/2020-02-01-b.md": post("Bài B", categories="[Học máy, Ghi chép]"),
        "gioi-thieu.md": "---\ntitle: Giới thiệu\n---\nXin chào.\n",
        "_templates/_header.html": '<header class="mine">{{ config.title }} · '
                                   '{{ site.categories | length }} chuyên mục</header>\n',
        "_templates/_footer.html": '<footer class="mine">© {{ now.year }} '
                                   '<a href="{{ url(archive) }}">{{ t.archive }}</a></footer>',
        "_templates/page.html": "{% extends 'base.html' %}{% block content %}<h1>{{ page.title }}</h1>"
                                "{% endblock %}",
    })
    build(load_config(source, destination=tmp_path / "o"), clock=lambda tz: datetime(2026, 3, 1, tzinfo=tz))
    pages = sorted((tmp_path / "o").rglob("*.html"))
    assert len(pages) >= 7  # posts, page, home, categories, archive, 404
    for page in pages:
        html = soup(page)
        assert [h.get_text() for h in html.select("header.mine")] == ["Blog thử · 2 chuyên mục"], page
        assert [f.get_text() for f in html.select("footer.mine")] == ["© 2026 Lưu trữ"], page
        assert html.select_one("footer.mine a")["href"] == "/archive/"
        assert not html.select(".site-header, .site-footer"), page
    assert soup(tmp_path / "o/gioi-thieu.html").h1.get_text() == "Giới thiệu"


def test_a_sites_own_base_layout_shows_what_it_chooses(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({
        "_posts/2020-01-01-a.md": post("Bài A"),
        "_templates/base.html": "<title>{{ page_title }}</title>"
                                "<main>{% block content %}{% endblock %}</main>",
    })
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "o")).exit_code == 0
    html = (tmp_path / "o/2020/01/01/a/index.html").read_text(encoding="utf-8")
    assert html.startswith("<title>Bài A</title><main>") and "site-header" not in html
    assert "site-footer" not in html


def test_a_header_that_needs_a_page_is_a_clear_error(tmp_site, tmp_path: Path) -> None:
    """Rendered once for the whole site, the header has no page: one that asks for one is an
    error naming the file and line, not a page silently missing it."""
    source = tmp_site({"_posts/2020-01-01-a.md": post("Bài A"),
                       "_templates/_header.html": "<header>\n{{ page.title }}</header>"})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code != 0 and not (tmp_path / "o").exists()
    message = result.output + result.stderr
    assert "_templates/_header.html:2:" in message and "'page' is undefined" in message
    assert "Traceback" not in message
