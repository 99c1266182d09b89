"""Math typeset at build time by MathJax: what the page, the feed and the build log show."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from builder import mathjax
from builder.mathjax import Formula, formula_keys
from tests.helpers import BASIC_CONFIG, FIXTURES, post, run_blog, soup

MATH = FIXTURES / "math"
SOURCE = MATH / "_posts" / "2024-05-01-toi-uu-va-hoc-may.md"
PAGE = "2024/05/01/toi-uu-va-hoc-may/index.html"
TEX = 'annotation[encoding="application/x-tex"]'


def copy_fixture(target: Path) -> Path:
    shutil.copytree(MATH, target / "site_src")
    return target / "site_src"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The 250-formula fixture built once (its caches in its own temporary project)."""
    source = copy_fixture(tmp_path_factory.mktemp("math"))
    result = run_blog("build", "-s", str(source), "--strict")
    assert result.exit_code == 0, result.output + result.stderr
    return source.parent / "_site"


def spans(site: Path, page: str = PAGE) -> list:
    return soup(site / page).select_one(".post-body").select(".arithmatex")


def tex_of(span) -> str:
    return span.select_one(TEX).get_text()


def no_node(monkeypatch) -> None:
    """Node.js is not there: any build that needs it fails."""
    monkeypatch.setattr(mathjax, "node_binary", lambda: None)


# --- the page ---------------------------------------------------------------------------------


def test_every_formula_of_the_fixture_is_typeset(built: Path) -> None:
    source = SOURCE.read_text(encoding="utf-8")
    found = spans(built)
    assert len(found) == 250
    for span in found:
        assert len(span.select("mjx-container")) == 1 and span.select_one("mjx-merror") is None
        visible = "".join(span.select_one("mjx-container > mjx-math").strings)
        assert "\\" not in visible and "$" not in visible  # no TeX left for the reader
        assert tex_of(span) in source
    display = [s for s in found if s.select_one("math").get("display") == "block"]
    assert len(display) == source.count("\n$$") and all(s.name == "div" for s in display)
    assert all(s.select_one("mjx-container").get("display") == "true" for s in display)


def test_no_page_carries_a_mathjax_script(built: Path) -> None:
    pages = sorted(built.rglob("*.html"))
    assert len(pages) >= 4
    for page in pages:
        for script in soup(page).find_all("script"):
            assert "mathjax" not in (script.get("src", "") + script.get_text()).lower(), page
    links = [link["href"] for link in soup(built / PAGE).find_all("link", rel="stylesheet")]
    assert "/assets/theme/mathjax/mathjax.css" in links
    assert not any("mathjax" in link["href"] for link in soup(built / "index.html").find_all("link"))


def test_the_stylesheet_covers_every_character_and_names_fonts_the_site_serves(built: Path) -> None:
    css = (built / mathjax.STYLESHEET).read_text(encoding="utf-8")
    html = (built / PAGE).read_text(encoding="utf-8")
    used = set(re.findall(r'<mjx-c class="(mjx-c[0-9A-F]+)( TEX-[A-Z0-9]+)?"', html))
    assert len(used) > 60
    for char, font in used:
        assert f"mjx-c.{char}{font.strip().replace('TEX-', '.TEX-')}::before" in css, (char, font)
    for rule in css.splitlines()[1:]:  # one whole rule a line, however odd the character ("}", "\\")
        outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', rule)
        assert outside_strings.count("{") == outside_strings.count("}") == 1, rule
    assert 'mjx-c.mjx-c7D::before {padding: 0.75em 0.5em 0.25em 0;content: "}";}' in css
    fonts = re.findall(r'url\("([^"]+)"\)', css)
    assert len(fonts) >= 20
    for font in fonts:
        assert (built / mathjax.ASSETS / font).is_file(), font


def test_macros_labels_and_numbers_work_within_the_page(built: Path) -> None:
    found = spans(built)
    real_numbers = [s for s in found if "\\R^{" in tex_of(s)]
    assert real_numbers and all(s.find("mi", mathvariant="double-struck") for s in real_numbers)
    argmin = next(s for s in found if "\\argmin_" in tex_of(s)).select_one("munder > mrow")  # limits below
    assert [mi.get_text() for mi in argmin.find_all("mi")] == ["arg", "min"]
    # Numbered equations count up; \eqref shows the number of its \label, even one given later.
    numbered = [s for s in found if "\\label{" in tex_of(s)]
    numbers = [s.select_one("mlabeledtr mtd mtext").get_text() for s in numbered]
    assert numbers == [f"({i})" for i in range(1, len(numbered) + 1)]
    first_reference = next(s for s in found if "\\eqref{eq:1}" in tex_of(s))
    assert first_reference.select_one("mtext").get_text() == "(1)"
    assert first_reference.find("a")["href"] == "#mjx-eqn%3Aeq%3A1"
    forward = next(s for s in found if tex_of(s) == "\\eqref{eq:cuoi}")
    assert forward.select_one("mtext").get_text() == numbers[-1]
    assert "???" not in (built / PAGE).read_text(encoding="utf-8")
    tagged = next(s for s in found if "\\tag{GD}" in tex_of(s))
    assert tagged.select_one("mlabeledtr mtd mtext").get_text() == "(GD)"


def test_vietnamese_text_in_math(built: Path) -> None:
    formula = next(s for s in spans(built) if "số mẫu đoán đúng" in tex_of(s))
    assert formula.find("mtext", string="số mẫu đoán đúng") is not None
    shown = "".join(u.get_text() for u in formula.select("mjx-utext"))
    assert "ố" in shown and "đ" in shown  # letters MathJax's fonts lack: the reader's serif font draws them


def test_links_inside_math_take_no_focus_where_screen_readers_cannot_go(built: Path) -> None:
    links = [a for s in spans(built) for a in s.select("mjx-math a")]
    assert links and all(a["tabindex"] == "-1" for a in links)
    assert all(s.select_one("mjx-math")["aria-hidden"] == "true" for s in spans(built))


def test_the_feed_carries_mathml_with_its_tex(built: Path) -> None:
    entry = ET.parse(built / "feed.xml").getroot().find("{http://www.w3.org/2005/Atom}entry")
    content = entry.find("{http://www.w3.org/2005/Atom}content").text
    assert "<mjx-" not in content
    assert content.count("<math ") == 250
    assert content.count('<annotation encoding="application/x-tex">') == 250


# --- semantics across pages ------------------------------------------------------------------


def test_definitions_and_numbers_do_not_leak_to_the_next_page(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({
        "_posts/2024-01-01-mot.md": post("Một", "$\\newcommand{\\RR}{\\mathbb{R}} x \\in \\RR$\n\n"
                                         "$$\\begin{equation} a = b \\label{eq:a} \\end{equation}$$\n"),
        "_posts/2024-01-02-hai.md": post("Hai", "Dòng đầu.\n\nDùng $y \\in \\RR$ ở đây.\n\n"
                                         "$$\\begin{equation} c = d \\label{eq:a} \\end{equation}$$\n"),
    })
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 0
    where = source / "_posts/2024-01-02-hai.md"
    assert f"warning: {where}:6: TeX error in y \\in \\RR: Undefined control sequence \\RR" in result.stderr
    assert result.stderr.count("TeX error") == 1  # eq:a once per page is fine
    one, two = (spans(tmp_path / "out", f"2024/01/0{d}/{s}/index.html") for d, s in ((1, "mot"), (2, "hai")))
    assert one[1].select_one("mlabeledtr mtd mtext").get_text() == "(1)"
    assert two[1].select_one("mlabeledtr mtd mtext").get_text() == "(1)"
    assert two[0].select_one("mjx-merror") is not None


def test_a_tex_error_warns_with_file_line_and_formula_and_strict_fails(tmp_site, tmp_path: Path) -> None:
    body = "Dòng một.\n\nDòng hai có $x^2$.\n\nDòng ba hỏng: $\\frac{1}{2$ ở đây.\n"
    source = tmp_site({"_posts/2024-01-01-loi.md": post("Lỗi", body)})
    out = tmp_path / "out"
    result = run_blog("build", "-s", str(source), "-d", str(out))
    assert result.exit_code == 0
    where = source / "_posts/2024-01-01-loi.md"
    assert f"warning: {where}:8: TeX error in \\frac{{1}}{{2: Missing close brace" in result.stderr
    error = spans(out, "2024/01/01/loi/index.html")[1].select_one("mjx-merror")
    assert error["data-mjx-error"] == "Missing close brace"  # MathJax's own error box
    page_before = (out / "2024/01/01/loi/index.html").read_bytes()
    strict = run_blog("build", "-s", str(source), "-d", str(out), "--strict")  # cached: still said
    assert strict.exit_code == 1 and "TeX error" in strict.stderr
    assert (out / "2024/01/01/loi/index.html").read_bytes() == page_before


# --- set-up and caches -----------------------------------------------------------------------


def test_a_warm_rebuild_starts_no_node(tmp_path: Path, monkeypatch) -> None:
    source = copy_fixture(tmp_path)
    assert run_blog("build", "-s", str(source)).exit_code == 0
    first = (tmp_path / "_site" / PAGE).read_text(encoding="utf-8")
    looked_for_node = []
    monkeypatch.setattr(mathjax, "node_binary", lambda: looked_for_node.append(1))  # and finds none
    # A new destination (every page rendered again) and an edit of the prose: formulas from the cache.
    again = run_blog("build", "-s", str(source), "-d", str(tmp_path / "again"))
    assert again.exit_code == 0, again.stderr
    assert (tmp_path / "again" / PAGE).read_text(encoding="utf-8") == first
    post_file = source / "_posts" / SOURCE.name
    edited_text = post_file.read_text(encoding="utf-8").replace("Khai triển", "Viết ra")
    post_file.write_text(edited_text, encoding="utf-8")
    edited = run_blog("build", "-s", str(source), "-v")
    assert edited.exit_code == 0, edited.stderr
    assert "math: 250 formulas on 1 pages, 0 typeset by MathJax" in edited.stderr
    assert "Viết ra" in (tmp_path / "_site" / PAGE).read_text(encoding="utf-8")
    assert looked_for_node == []


def test_editing_one_formula_typesets_that_formula_alone(tmp_path: Path) -> None:
    source = copy_fixture(tmp_path)
    assert run_blog("build", "-s", str(source)).exit_code == 0
    post_file = source / "_posts" / SOURCE.name
    text = post_file.read_text(encoding="utf-8")
    assert text.count("\\beta_2 = 0.999") > 1
    post_file.write_text(text.replace("\\beta_2 = 0.999", "\\beta_2 = 0.99", 1), encoding="utf-8")
    result = run_blog("build", "-s", str(source), "-v")
    assert result.exit_code == 0
    assert "math: 250 formulas on 1 pages, 1 typeset by MathJax" in result.stderr
    assert "\\beta_2 = 0.99<" in (tmp_path / "_site" / PAGE).read_text(encoding="utf-8")


def test_a_site_without_math_never_starts_node(tmp_site, tmp_path: Path, monkeypatch) -> None:
    no_node(monkeypatch)
    source = tmp_site({"_posts/2024-01-01-chu.md": post("Chữ", "Chỉ có chữ, giá 5$.")})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert not (tmp_path / "out" / mathjax.ASSETS).exists()
    assert "mathjax" not in (tmp_path / "out/2024/01/01/chu/index.html").read_text(encoding="utf-8")


def test_missing_node_or_mathjax_stops_with_one_line_saying_how_to_fix_it(tmp_site, tmp_path: Path,
                                                                          monkeypatch) -> None:
    source = tmp_site({"_posts/2024-01-01-toan.md": post("Toán", "Có $x^2$.")})
    no_node(monkeypatch)
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "a"))
    assert result.exit_code == 1 and not (tmp_path / "a").exists()
    assert result.stderr.count("\n") == 1 and "Node.js" in result.stderr and "make site" in result.stderr
    monkeypatch.undo()
    monkeypatch.setattr(mathjax, "MATHJAX_PACKAGE", tmp_path / "nowhere")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "b"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "MathJax is not installed; run `make site`" in result.stderr
    assert f"npm ci --prefix {mathjax.NODE_DIR}" in result.stderr


def test_math_render_must_be_build_or_client(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2024-01-01-toan.md": post("Toán", "Có $x^2$.")},
                      config=BASIC_CONFIG + "math_render: sometimes\n")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 1 and "_config.yml" in result.stderr and "math_render must be" in result.stderr


def test_kramdown_reading_is_typeset_too(tmp_site, tmp_path: Path) -> None:
    text = "Trong dòng $$x_1 + y$$ và\n\n$$\n\\sum_i a_i\n$$\n"
    source = tmp_site({"_posts/2024-01-01-k.md": post("K", text)},
                      config=BASIC_CONFIG + "markdown: kramdown\n")
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    page = next(p for p in (tmp_path / "out").rglob("*.html") if "2024" in p.parts)
    found = soup(page).select(".post-body .arithmatex")
    # Jekyll hands MathJax `\[\sum_i a_i\]`: kramdown trims the newlines around a display body.
    assert [tex_of(s) for s in found] == ["x_1 + y", "\\sum_i a_i"]
    assert [s.select_one("math").get("display") for s in found] == [None, "block"]


# --- cache keys ------------------------------------------------------------------------------


def keys(*formulas: str) -> list[str]:
    return formula_keys([Formula(tex, tex.startswith("\\begin")) for tex in formulas], "v")


def test_a_key_depends_on_definitions_before_it_and_on_labels_anywhere_when_it_refers() -> None:
    labelled = "\\begin{equation} z \\label{e} \\end{equation}"
    base = keys("x", "\\def\\a{1} \\a", "y", "\\eqref{e}", labelled)
    # the same formula elsewhere, or after other plain formulas: the same key
    assert keys("x")[0] == base[0] and keys("w", "x")[1] == base[0]
    # a changed definition changes the keys after it, not before
    changed = keys("x", "\\def\\a{2} \\a", "y", "\\eqref{e}", labelled)
    assert changed[0] == base[0] and changed[2] != base[2]
    # a reference depends on a label that comes later; a plain formula before it does not
    later = keys("x", "\\def\\a{1} \\a", "y", "\\eqref{e}", labelled.replace("z", "z \\tag{9}"))
    assert later[3] != base[3] and later[2] == base[2]
    assert formula_keys([Formula("x", False)], "v") != formula_keys([Formula("x", True)], "v")
    assert formula_keys([Formula("x", False)], "v2") != formula_keys([Formula("x", False)], "v")


def test_pages_typeset_on_several_threads_come_back_in_order(tmp_site, tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from builder.config import load_config

    source = tmp_site({})
    span = '<span class="arithmatex">\\({}\\)</span>'
    # The first page takes longest, so later pages finish first on the other threads.
    pages = [mathjax.MathPage(tmp_path / f"{i}.md", "", 1, " ".join(
        span.format(f"\\sum_{{k={j}}}^{{{i}}} \\frac{{x_k}}{{{j + 1}}}") for j in range(80 if i == 0 else 1)))
        for i in range(6)]
    typeset = {}
    for threads in (1, 4):
        monkeypatch.setattr(mathjax.os, "cpu_count", lambda threads=threads: threads)
        config = dataclasses.replace(load_config(source), cache_dir=tmp_path / f"cache{threads}")
        typeset[threads] = mathjax.typeset(config, pages)
    assert typeset[1] == typeset[4]
    assert [page.html.count("<mjx-container") for page in typeset[4]] == [80, 1, 1, 1, 1, 1]
    assert all(f"\\sum_{{k=0}}^{{{i}}} " in page.html for i, page in enumerate(typeset[4]))


def test_a_damaged_formula_cache_is_rebuilt(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({"_posts/2024-01-01-toan.md": post("Toán", "Có $x^2$ và $$\\sum_i i$$")})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    before = [str(s) for s in spans(tmp_path / "out", "2024/01/01/toan/index.html")]
    database = source / ".cache" / "math" / "formulas.sqlite"  # a Jekyll site keeps its cache inside
    assert database.stat().st_size > 0
    database.write_bytes(b"not a database at all" * 100)
    (source / "_posts/2024-01-01-toan.md").write_text(post("Toán", "Vẫn có $x^2$ và $$\\sum_i i$$"))
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 0, result.stderr
    assert [str(s) for s in spans(tmp_path / "out", "2024/01/01/toan/index.html")] == before


def test_blog_check_finds_the_equations_eqref_links_to(tmp_path: Path) -> None:
    source = copy_fixture(tmp_path)
    result = run_blog("check", "-s", str(source))
    assert result.exit_code == 0, result.output + result.stderr


def test_node_failing_is_one_line_not_a_traceback(tmp_site, tmp_path: Path, monkeypatch) -> None:
    script = tmp_path / "broken.js"
    script.write_text("throw new Error('MathJax could not load: boom');\n", encoding="utf-8")
    monkeypatch.setattr(mathjax, "SCRIPT", script)
    source = tmp_site({"_posts/2024-01-01-toan.md": post("Toán", "Có $x^2$.")})
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"))
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    assert result.stderr.count("\n") == 1
    assert "MathJax (Node.js) stopped: Error: MathJax could not load: boom; run `make site`" in result.stderr
