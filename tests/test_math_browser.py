"""Build-time math in Chromium: the boxes the browser's own MathJax would draw, and a page that is
complete without JavaScript. Skipped without Chromium, as tests/test_browser.py (never under CI)."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import pytest

from builder import mathjax
from tests import test_browser
from tests.helpers import FIXTURES, ROOT, run_blog
from tests.test_browser import SCREENSHOTS, VIEWPORTS, _serve, open_page

pytestmark = pytest.mark.browser  # every test here drives Chromium

PAGE = "/2024/05/01/toi-uu-va-hoc-may/"
SOURCE_NAME = "2024-05-01-toi-uu-va-hoc-may.md"
TOLERANCE = 0.02
REPORT = ROOT / ".cache" / "math-parity.json"
# Rendering is skipped for off-screen blocks (content-visibility): measure with everything laid out.
LAY_OUT_ALL = "* { content-visibility: visible !important; }"
BOXES = """() => Array.from(document.querySelectorAll('.post-body .arithmatex')).map(span => {
  const math = span.querySelector('mjx-container > mjx-math');
  const box = math ? math.getBoundingClientRect() : {width: 0, height: 0};
  return [box.width, box.height];
})"""


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, str]:
    """The 250-formula fixture built twice: typeset at build time, and left to the browser's
    MathJax of the same version (served from the site, with the same packages and options)."""
    root = tmp_path_factory.mktemp("parity")
    served = {}
    for mode in ("build", "client"):
        source = root / mode / "site_src"
        shutil.copytree(FIXTURES / "math", source)
        if mode == "client":
            es5 = mathjax.MATHJAX_PACKAGE / "es5"
            shutil.copy(es5 / "tex-chtml-full.js", source / "tex-chtml-full.js")
            shutil.copytree(es5 / "output/chtml/fonts/woff-v2", source / "output/chtml/fonts/woff-v2")
            with (source / "_config.yml").open("a", encoding="utf-8") as config:
                config.write("math_render: client\nmathjax_src: /tex-chtml-full.js\n")
        result = run_blog("build", "-s", str(source))
        assert result.exit_code == 0, result.stderr
        if mode == "client":  # every package the build loads, none that it leaves out (noundefined)
            page = source.parent / "_site" / PAGE.strip("/") / "index.html"
            html = page.read_text(encoding="utf-8")
            packages = json.dumps(list(mathjax.PACKAGES))
            html = html.replace('"tex": {', f'"tex": {{"packages": {packages}, ', 1)
            page.write_text(html, encoding="utf-8")
        served[mode] = _serve(str(source.parent / "_site"))
    return served


def tex_sources(page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('.post-body .arithmatex'))
      .map(s => { const a = s.querySelector('annotation'); return a ? a.textContent : s.textContent; })""")


def test_each_formula_has_the_box_the_browsers_mathjax_gives_it(browser, built) -> None:
    boxes, texts = {}, None
    for mode, site in built.items():
        page, watch = open_page(browser, site + PAGE, VIEWPORTS["desktop"])
        if mode == "client":
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise")
            assert page.locator("mjx-merror").count() == 0
        else:
            texts = tex_sources(page)
        page.add_style_tag(content=LAY_OUT_ALL)
        page.evaluate("document.fonts.ready")
        boxes[mode] = page.evaluate(BOXES)
        assert watch.console_errors == [] and watch.failed == []
        page.context.close()
    assert len(boxes["build"]) == len(boxes["client"]) == len(texts) == 250
    compared, text_runs = [], []
    for tex, built_box, browser_box in zip(texts, boxes["build"], boxes["client"], strict=True):
        assert built_box[1] > 0 and browser_box[1] > 0, tex  # every formula has a box on both sides
        off = [abs(a - b) / b if b else abs(a) for a, b in zip(built_box, browser_box, strict=True)]
        (text_runs if "\\text" in tex else compared).append((tex, built_box, browser_box, max(off)))
    assert len(compared) >= 30
    worst = max(compared, key=lambda item: item[3])
    assert worst[3] <= TOLERANCE, worst
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(json.dumps({
        "compared": len(compared), "worst_off": worst[3], "text_runs": len(text_runs),
        "text_runs_median_off": statistics.median(item[3] for item in text_runs),
        "text_runs_worst": max(text_runs, key=lambda item: item[3]),
        "text_runs_width_off": sorted(round((b[0] - c[0]) / c[0], 4) for _, b, c, _ in text_runs),
    }, ensure_ascii=False, indent=1), encoding="utf-8")


def test_the_page_is_complete_without_javascript(browser, built) -> None:
    site = built["build"]
    context = browser.new_context(viewport=VIEWPORTS["phone"], java_script_enabled=False)
    page = context.new_page()
    fonts: list[str] = []
    page.on("request", lambda r: r.url.endswith(".woff") and fonts.append(r.url.rsplit("/", 1)[1]))
    page.goto(site + PAGE, wait_until="load")
    page.wait_for_load_state("networkidle")
    text = page.locator(".post-body").inner_text()
    assert "Hàm kích hoạt được định nghĩa theo từng khúc" in text
    assert "\\(" not in text and "$$" not in text and "\\frac" not in text
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "math-360.png"))
    maths = page.locator(".post-body mjx-container > mjx-math")
    assert maths.count() == 250
    for index in (1, 2, 60, 125, 249):  # drawn with MathJax's fonts, no script (0 only defines macros)
        maths.nth(index).scroll_into_view_if_needed()
        box = maths.nth(index).bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0
    assert "MathJax_Main-Regular.woff" in fonts and len(set(fonts)) < len(mathjax.font_files())
    context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_math_page_passes_axe(browser, built, viewport: str) -> None:
    """On a phone most display formulas scroll sideways: those can take keyboard focus."""
    axe = (test_browser.npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    page, _ = open_page(browser, built["build"] + PAGE, VIEWPORTS[viewport])
    page.add_script_tag(content=axe)
    result = page.evaluate("axe.run().then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length]))")
    assert [v for v in result if v[1] in ("serious", "critical")] == [], result
    page.add_style_tag(content=LAY_OUT_ALL)
    scrolling = page.evaluate("""() => Array.from(document.querySelectorAll('div.arithmatex'))
      .map(d => [d.scrollWidth > d.clientWidth, d.getAttribute('tabindex')])""")
    assert all(tabindex == "0" for overflows, tabindex in scrolling if overflows)
    if viewport == "phone":
        assert sum(overflows for overflows, _ in scrolling) > 10
    page.context.close()


def test_a_tex_error_shows_mathjax_error_box(browser, tmp_path: Path) -> None:
    source = tmp_path / "site_src"
    shutil.copytree(FIXTURES / "basic", source)
    (source / "_posts" / "2024-01-01-loi.md").write_text(
        "---\ntitle: Lỗi\n---\nHỏng: $\\frac{1}{2$ và đúng: $x$.\n", encoding="utf-8")
    assert run_blog("build", "-s", str(source)).exit_code == 0
    page, _ = open_page(browser, _serve(str(tmp_path / "_site")) + "/2024/01/01/loi/", VIEWPORTS["phone"])
    error = page.locator("mjx-merror")
    assert error.count() == 1 and error.get_attribute("data-mjx-error") == "Missing close brace"
    colours = error.evaluate("e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(255, 0, 0)", "rgb(255, 255, 0)"]
    page.context.close()


COPY = """(selector) => {
  const element = document.querySelector(selector);
  const range = document.createRange();
  range.selectNodeContents(element);
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  const event = new ClipboardEvent('copy', {clipboardData: new DataTransfer(), bubbles: true});
  element.dispatchEvent(event);
  return event.clipboardData.getData('text/plain');
}"""


def test_copying_math_copies_its_tex(browser, built) -> None:
    source = (FIXTURES / "math/_posts" / SOURCE_NAME).read_text(encoding="utf-8").splitlines()
    page, _ = open_page(browser, built["build"] + PAGE, VIEWPORTS["desktop"])
    paragraph = next(line for line in source if "tức là bình phương độ dài" in line)
    assert page.evaluate(COPY, ".post-body h2 + p") == paragraph  # its Markdown: prose, and $TeX$
    display = next(line for line in source if line.startswith("$$\\hat{"))
    page.evaluate("""() => Array.from(document.querySelectorAll('div.arithmatex'))
      .find(d => d.querySelector('annotation').textContent.startsWith('\\\\hat{')).id = 'copy-me'""")
    assert page.evaluate(COPY, "#copy-me") == display
    page.context.close()
