"""Jekyll as the oracle: build one small site with Jekyll and with `blog build`, then compare
what a reader gets, document by document.

A case is a folder under `tests/oracle/` holding a Jekyll site source (`_config.yml`,
`_posts/`, pages, static files) and optionally `_oracle.yml` with settings for this harness
(`env: {TZ: America/New_York}`: the build machine's environment for both builders; default TZ=UTC).

Jekyll runs with plugins off (`--safe`) and a minimal layout that prints `{{ content }}` inside
`<main id="oracle-body" data-path="{{ page.path }}">`, so only the reading of Markdown and Liquid
is compared; its output is cached under `.cache/oracle/` by the hash of everything it reads.
Our build goes to a temporary folder; the theme's additions inside a post body (provenance notes,
`<picture>`, image sizes, heading anchors, rendered math) are normalised away.

Fields compared per document (keyed by its source path, e.g. `_posts/2020-01-02-x.md`):
url, structure, text, math, code, links, attributes; per site (document `site`): build, documents,
files, conflicts (how many outputs two files write); per other file both write (keyed by its
output path): content.
`python -m tests.oracle tests/oracle/<case> [more]` prints the differences.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import Comment

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "oracle"
ALLOWLIST = CASES / "ALLOWLIST.yml"
SETTINGS_FILE = "_oracle.yml"
JEKYLL = "jekyll"
MARK = "oracle-body"
LAYOUT = (f'<!DOCTYPE html>\n<html><body><main id="{MARK}" data-path="{{{{ page.path }}}}">\n'
          "{{ content }}\n</main></body></html>\n")
LAYOUT_NAMES = ("default", "post", "page", "home")
# Every Markdown or HTML document gets the layout, also those whose front matter names none;
# other documents (`feed.json`, a dated notebook in `_posts/`) stay as Jekyll writes them.
LAYOUT_SCOPE = "**/*.{md,markdown,mkd,mkdn,mkdown,html,htm}"
DEFAULTS = f'\ndefaults:\n  - scope: {{path: "{LAYOUT_SCOPE}"}}\n    values: {{layout: default}}\n'
DEFAULT_ENV = {"TZ": "UTC"}
HARNESS_VERSION = "2"  # bump when what is stored in the Jekyll cache changes

DOCUMENT_FIELDS = ("url", "structure", "text", "math", "code", "links", "attributes")
SITE_FIELDS = ("build", "documents", "files", "conflicts")  # conflicts: outputs written twice
FILE_FIELDS = ("content",)  # per file that both write, by its output path
SITE = "site"
# What our builder writes besides the site's own documents and files.
THEME_OUTPUTS = re.compile(r"^(index\.html|404\.html|feed\.xml|sitemap\.xml|robots\.txt|\.nojekyll|CNAME"
                           r"|favicon\.ico|figures\.json|assets/theme/.*|category/.*|archive/index\.html|page\d+/index\.html"
                           r"|figures/[^/]+\.py)$")

INLINE_MATH, DISPLAY_MATH = "\ue000", "\ue001"
MATH_TEXT = "⟦math⟧"
CODE_TEXT = "⟦code⟧"


# --- the two builds --------------------------------------------------------------------------


@dataclass
class Built:
    """One builder's result for one case."""

    ok: bool
    message: str = ""
    documents: dict[str, str] = field(default_factory=dict)  # source path -> output path
    bodies: dict[str, str] = field(default_factory=dict)  # source path -> body HTML
    files: list[str] = field(default_factory=list)  # other outputs (static files), sorted
    log: str = ""  # what the builder printed
    root: Path | None = None  # the output folder

    def content(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes() if self.root else b""


def jekyll_available() -> bool:
    return shutil.which(JEKYLL) is not None


@functools.cache
def jekyll_version() -> str:
    done = subprocess.run([JEKYLL, "--version"], capture_output=True, text=True, timeout=120)
    return done.stdout.strip()


def case_settings(case: Path) -> dict[str, Any]:
    path = case / SETTINGS_FILE
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    return data or {}


def case_env(case: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TZ", "JEKYLL_ENV")}
    env.update(DEFAULT_ENV)
    env.update({str(k): str(v) for k, v in (case_settings(case).get("env") or {}).items()})
    return env


def _case_files(case: Path) -> list[Path]:
    return sorted(p for p in case.rglob("*")
                  if p.is_file() and p.relative_to(case).as_posix() != SETTINGS_FILE)


def copy_case(case: Path, target: Path) -> Path:
    """The site source of `case` in `target` (the harness's own settings left out)."""
    for path in _case_files(case):
        dest = target / path.relative_to(case)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)
    return target


def cache_root() -> Path:
    return Path(os.environ.get("ORACLE_CACHE") or ROOT / ".cache" / "oracle")


def jekyll_key(case: Path) -> str:
    digest = hashlib.sha256()
    env = case_env(case)
    digest.update(json.dumps([HARNESS_VERSION, LAYOUT, DEFAULTS, jekyll_version(),
                              {k: env[k] for k in sorted(env) if k == "TZ"}]).encode())
    for path in _case_files(case):
        digest.update(path.relative_to(case).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_jekyll(case: Path) -> Built:
    """Jekyll's output for `case`, from the cache when its input was built before."""
    folder = cache_root() / "jekyll" / jekyll_key(case)
    if not (folder / "result.json").exists():
        _run_jekyll(case, folder)
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    built = Built(ok=result["ok"], message=result["message"], log=result["log"])
    if built.ok:
        built.root = folder / "site"
        _collect_jekyll(built.root, built)
    return built


def _run_jekyll(case: Path, folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="oracle-jekyll-") as tmp:
        source = copy_case(case, Path(tmp) / "src")
        shutil.rmtree(source / "_layouts", ignore_errors=True)
        (source / "_layouts").mkdir()
        for name in LAYOUT_NAMES + tuple(_layouts_named(source)):
            (source / "_layouts" / f"{name}.html").write_text(LAYOUT, encoding="utf-8")
        _add_layout_defaults(source / "_config.yml")
        staging = Path(tempfile.mkdtemp(prefix=folder.name[:12] + ".", dir=folder.parent))
        command = [JEKYLL, "build", "--safe", "--disable-disk-cache", "-s", str(source),
                   "-d", str(staging / "site")]
        done = subprocess.run(command, capture_output=True, text=True, env=case_env(case), cwd=tmp,
                              timeout=300)
        log = re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).replace(str(source), "<source>")
        message = "\n".join(line.strip() for line in log.splitlines()
                            if re.search(r"Exception:|Error:|Conflict:", line))
        (staging / "result.json").write_text(json.dumps(
            {"ok": done.returncode == 0, "message": message or log[-2000:], "log": log}), encoding="utf-8")
        try:
            os.replace(staging, folder)  # atomic: a half-written cache entry is never read
        except OSError:  # another run stored the same entry first
            shutil.rmtree(staging, ignore_errors=True)


def _layouts_named(source: Path) -> set[str]:
    """Layout names that documents ask for, so that each one prints the marked body."""
    names = set()
    for path in source.rglob("*"):
        if path.is_file() and path.suffix.lower() in (".md", ".markdown", ".html", ".htm", ".txt", ".xml"):
            head = path.read_bytes()[:4000].decode("utf-8", "replace")
            names.update(re.findall(r"^layout:\s*['\"]?([\w.-]+)['\"]?\s*$", head, re.M))
    return {n for n in names if n not in ("null", "none", "nil", "false")}


def _add_layout_defaults(config: Path) -> None:
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    if re.search(r"^defaults\s*:", text, re.M):
        data = yaml.safe_load(text) or {}
        data["defaults"] = [{"scope": {"path": LAYOUT_SCOPE}, "values": {"layout": "default"}},
                            *data["defaults"]]
        text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    else:
        text = text.rstrip("\n") + "\n" + DEFAULTS
    config.write_text(text, encoding="utf-8")


_MARKED = re.compile(rf'<main id="{MARK}" data-path="([^"]*)">')


def _collect_jekyll(site: Path, built: Built) -> None:
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        rel = path.relative_to(site).as_posix()
        data = path.read_bytes()
        match = _MARKED.search(data[:2000].decode("utf-8", "replace"))
        if match is None:
            built.files.append(rel)
            continue
        html = data.decode("utf-8")
        body = BeautifulSoup(html, "html.parser").find("main", id=MARK)
        built.documents[match.group(1)] = rel
        built.bodies[match.group(1)] = body.decode_contents() if body else ""


def build_ours(case: Path, tmp: Path) -> Built:
    """`blog build` of `case` into `tmp` (source, output and caches all there)."""
    source = copy_case(case, tmp / "src")
    dest = tmp / "out"
    done = subprocess.run([sys.executable, "-m", "tests.oracle", "--ours", str(source), str(dest),
                           str(tmp / "ours.json")], capture_output=True, text=True, env=case_env(case),
                          cwd=ROOT, timeout=600)
    if done.returncode != 0:
        return Built(ok=False, message=(done.stdout + done.stderr).strip()[-2000:])
    result = json.loads((tmp / "ours.json").read_text(encoding="utf-8"))
    built = Built(ok=result["ok"], message=result["message"], log=result["log"])
    if not built.ok:
        return built
    built.root = dest
    outputs = set()
    for rel, output in result["documents"].items():
        if not _in_layout_scope(rel):
            continue  # Jekyll writes it without the layout: compared as a file
        html = (dest / output).read_text(encoding="utf-8")
        built.documents[rel] = output
        built.bodies[rel] = our_body(html)
        outputs.add(output)
    written = (p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    built.files = sorted(rel for rel in written if rel not in outputs and not THEME_OUTPUTS.match(rel))
    return built


def _in_layout_scope(rel: str) -> bool:
    return rel.rsplit(".", 1)[-1].lower() in LAYOUT_SCOPE.split("{")[1].rstrip("}").split(",")


def _ours_main(source: str, dest: str, out: str) -> None:
    """In a child process (so TZ applies as on a build machine): build, write what was made."""
    import logging

    from builder.build import build
    from builder.config import load_config
    from builder.errors import BuildError

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(f"{record.levelname.lower()}: {record.getMessage()}")

    logging.getLogger("builder").addHandler(Keep(logging.INFO))
    logging.getLogger("builder").setLevel(logging.INFO)
    project = Path(source).parent
    try:
        config = load_config(Path(source), destination=str(dest), cache_dir=str(project / "cache"))
        site = build(config, incremental=False).site
        documents = {doc.rel: doc.output_path for doc in [*site.posts, *site.pages]}
        result = {"ok": True, "message": "", "documents": documents}
    except BuildError as err:
        result = {"ok": False, "message": str(err), "documents": {}}
    result["log"] = "\n".join(lines)
    Path(out).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


def our_body(html: str) -> str:
    soup = BeautifulSoup(html, "html.parser")
    body = soup.select_one(".post-body")
    if body is None:  # a hand-written HTML page, written as it is
        return html
    return body.decode_contents()


# --- reading a body the way a reader (and MathJax) gets it -----------------------------------

BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead",
          "tbody", "tfoot", "tr", "th", "td", "caption", "blockquote", "hr", "figure", "figcaption", "div",
          "details", "summary", "section", "article", "aside", "nav", "header", "footer", "img", "iframe",
          "video", "audio", "form", "address", "center"}
# Blocks whose content is a line of text: display math inside them is not a block of its own.
PHRASING_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "th", "td", "caption", "figcaption",
                   "summary"}
CODE_WRAPPERS = ("highlighter-rouge", "highlight")
SKIP_MATH = {"code", "pre", "script", "noscript", "style", "textarea", "annotation", "annotation-xml"}
# Attributes and classes that the Markdown renderer (kramdown or ours) puts in on its own.
RENDERER_CLASSES = re.compile(r"^(highlight.*|language-.*|arithmatex|footnote.*|reversefootnote|rouge-.*"
                              r"|lineno.*|linenos|kdmath|MathJax.*|task-list.*|toc)$")
RENDERER_ATTRIBUTES = {"href", "src", "alt", "role", "rel", "width", "height", "loading", "decoding",
                       "align", "start", "aria-hidden"}
RENDERER_IDS = re.compile(r"^(fn:|fnref:|markdown-toc)")
THEME_SELECTORS = ("details.provenance", "a.headerlink", "a.heading-anchor", "a.anchor", "picture > source")


def normalise_ours(soup: BeautifulSoup) -> None:
    """Take out what our theme adds inside a body, never what the Markdown produced."""
    for selector in THEME_SELECTORS:
        for element in soup.select(selector):
            element.decompose()
    for picture in soup.find_all("picture"):
        picture.unwrap()
    _math_from_mathml(soup)
    for element in soup.select(".arithmatex"):
        text = element.get_text()
        display = text.startswith("\\[")
        inner = text[2:-2] if text[:2] in ("\\(", "\\[") and text[-2:] in ("\\)", "\\]") else text
        element.replace_with(_math_marker(soup, inner, display))


def _math_from_mathml(soup: BeautifulSoup) -> None:
    """Math typeset at build time: the TeX is kept in <annotation encoding="application/x-tex">."""
    for annotation in soup.find_all("annotation", attrs={"encoding": "application/x-tex"}):
        if annotation.decomposed:
            continue
        math = annotation.find_parent("math")
        display = math is not None and math.get("display") == "block"
        wrapper = (annotation.find_parent(class_="arithmatex") or annotation.find_parent("mjx-container")
                   or math)
        if wrapper is None:
            continue
        wrapper.replace_with(_math_marker(soup, annotation.get_text(), display))


def _math_marker(soup: BeautifulSoup, tex: str, display: bool) -> NavigableString:
    marker = NavigableString(DISPLAY_MATH if display else INLINE_MATH)
    marker.tex = tex  # type: ignore[attr-defined]
    return marker


_TEXT_MATH = re.compile(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", re.S)


def mark_text_math(soup: BeautifulSoup) -> None:
    """`\\(..\\)` and `\\[..\\]` in text, found as MathJax finds them: within one run of text
    (a `<br>` continues it, any other element ends it), never inside code."""
    for run in _text_runs(soup):
        text = "".join("\n" if isinstance(n, Tag) else str(n) for n in run)
        if "\\(" not in text and "\\[" not in text:
            continue
        pieces: list[NavigableString] = []
        last = 0
        for match in _TEXT_MATH.finditer(text):
            if match.start() > last:
                pieces.append(NavigableString(text[last:match.start()]))
            inline, display = match.groups()
            pieces.append(_math_marker(soup, inline if display is None else display, display is not None))
            last = match.end()
        if not pieces:
            continue
        if last < len(text):
            pieces.append(NavigableString(text[last:]))
        first = run[0]
        for piece in pieces:
            first.insert_before(piece)
        for node in run:
            node.extract()


def _text_runs(root: Tag) -> list[list[Any]]:
    runs: list[list[Any]] = []

    def visit(element: Tag) -> None:
        current: list[Any] = []
        for child in list(element.children):
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString) or (isinstance(child, Tag) and child.name in ("br", "wbr")):
                if not getattr(child, "tex", None):
                    current.append(child)
                    continue
            if current:
                runs.append(current)
                current = []
            if isinstance(child, Tag) and child.name not in SKIP_MATH:
                visit(child)
        if current:
            runs.append(current)

    visit(root)
    return runs


def apply_figure_rule(soup: BeautifulSoup) -> None:
    """Our theme's caption rule, applied to Jekyll's output too: a paragraph holding only an
    image, followed by a paragraph whose first line is only emphasis, is one figure."""
    for para in list(soup.find_all("p")):
        if para.parent is None or not _lone_image(para):
            continue
        after = _next_element(para)
        if after is None or after.name != "p":
            continue
        first = after.contents[0] if after.contents else None
        if not isinstance(first, Tag) or first.name != "em":
            continue
        tail = first.next_sibling
        if isinstance(tail, NavigableString) and tail.split("\n", 1)[0].strip():
            continue
        para.name = "figure"
        caption = soup.new_tag("figcaption")
        caption.extend(list(first.contents))
        para.append(caption)
        first.decompose()
        if isinstance(tail, NavigableString):
            tail.replace_with(tail.lstrip("\n"))
        if not after.get_text().strip() and not after.find(True):
            after.decompose()


def _lone_image(para: Tag) -> bool:
    meaningful = [c for c in para.children if not (isinstance(c, NavigableString) and not c.strip())]
    return (len(meaningful) == 1 and isinstance(meaningful[0], Tag) and meaningful[0].name == "img"
            and para.contents[0] is meaningful[0] and para.contents[-1] is meaningful[0])


def _next_element(tag: Tag) -> Tag | None:
    node = tag.next_sibling
    while isinstance(node, NavigableString):
        if node.strip():
            return None
        node = node.next_sibling
    return node


@dataclass
class Reading:
    """A body as the fields compare it."""

    structure: list[str] = field(default_factory=list)
    text: str = ""
    math: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    attributes: list[str] = field(default_factory=list)


def read_body(html: str, ours: bool) -> Reading:
    soup = BeautifulSoup(html, "html.parser")
    if ours:
        normalise_ours(soup)
    mark_text_math(soup)
    apply_figure_rule(soup)
    reading = Reading()
    texts: list[str] = []
    _walk(soup, 0, reading, texts, flow=True)
    reading.text = " ".join("".join(texts).split())
    return reading


def _walk(element: Tag, depth: int, reading: Reading, texts: list[str], flow: bool) -> None:
    for child in element.children:
        if isinstance(child, Comment):
            continue
        if isinstance(child, NavigableString):
            tex = getattr(child, "tex", None)
            if tex is not None:
                display = str(child) == DISPLAY_MATH
                reading.math.append(f"{'display' if display else 'inline'}: {tex}")
                if display and flow:
                    reading.structure.append("  " * depth + "math-display")
                texts.append(f" {MATH_TEXT} ")
            else:
                texts.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        if _is_code_block(child):
            reading.structure.append("  " * depth + "code")
            reading.code.append(_code_text(child))
            texts.append(f" {CODE_TEXT} ")
            continue
        _collect_links(child, reading)
        _collect_attributes(child, reading)
        if child.name in BLOCKS:
            reading.structure.append("  " * depth + _block_token(child))
            texts.append("\n")
            _walk(child, depth + 1, reading, texts, child.name not in PHRASING_BLOCKS)
            texts.append("\n")
        else:
            _walk(child, depth, reading, texts, False)


def _is_code_block(tag: Tag) -> bool:
    if tag.name == "pre":
        return True
    classes = tag.get("class") or []
    return tag.name == "div" and any(c in CODE_WRAPPERS for c in classes) and tag.find("pre") is not None


def _code_text(tag: Tag) -> str:
    pre = tag if tag.name == "pre" else tag.find("pre")
    for gutter in pre.select(".rouge-gutter, .linenos, .lineno, .gutter"):
        gutter.decompose()
    code = [p for p in tag.find_all("pre") if not p.find_parent(class_=("rouge-gutter", "linenos", "gutter"))]
    text = (code[-1] if code else pre).get_text()
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def _block_token(tag: Tag) -> str:
    token = tag.name
    if re.fullmatch(r"h[1-6]", tag.name):
        token += f"#{tag.get('id', '')}"
    elif tag.name == "ol" and tag.get("start") not in (None, "1"):
        token += f" start={tag.get('start')}"
    elif tag.name in ("td", "th"):
        align = tag.get("align") or re.search(r"text-align:\s*(\w+)", tag.get("style", "") or "")
        if align:
            token += f" {align if isinstance(align, str) else align.group(1)}"
    return token


def _collect_links(tag: Tag, reading: Reading) -> None:
    if tag.name == "a" and tag.has_attr("href"):
        reading.links.append(f"a href={tag['href']}")
    elif tag.name == "img":
        reading.links.append(f"img src={tag.get('src', '')} alt={tag.get('alt', '')}")
    elif tag.name in ("iframe", "video", "audio", "source", "script", "embed") and tag.has_attr("src"):
        reading.links.append(f"{tag.name} src={tag['src']}")


def _collect_attributes(tag: Tag, reading: Reading) -> None:
    for name, value in sorted(tag.attrs.items()):
        if name in RENDERER_ATTRIBUTES or (name == "id" and re.fullmatch(r"h[1-6]", tag.name)):
            continue
        if name == "class":
            value = [c for c in value if not RENDERER_CLASSES.match(c)]
            if not value:
                continue
            value = " ".join(value)
        if name == "id" and RENDERER_IDS.match(str(value)):
            continue
        if name == "style" and tag.name in ("td", "th"):
            value = re.sub(r"text-align:\s*\w+;?", "", str(value)).strip()
            if not value:
                continue
        if name == "style":
            value = "; ".join(p.strip() for p in str(value).split(";") if p.strip())
        reading.attributes.append(f"{tag.name} {name}={value}")


# --- comparing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    case: str
    document: str
    field: str
    jekyll: Any
    ours: Any

    def render(self) -> str:
        head = f"{self.case}: {self.document}: {self.field}"
        if isinstance(self.jekyll, list) and isinstance(self.ours, list):
            diff = list(difflib.unified_diff([str(x) for x in self.jekyll], [str(x) for x in self.ours],
                                             "jekyll", "ours", lineterm="", n=2))
            if len(diff) > 40:
                diff = diff[:40] + [f"... ({len(diff) - 40} more lines)"]
            return head + "\n" + "\n".join("    " + line for line in diff)
        if self.field == "text":
            return head + "\n" + _text_diff(self.jekyll, self.ours)
        return f"{head}\n    jekyll: {self.jekyll}\n    ours:   {self.ours}"


def _text_diff(a: str, b: str) -> str:
    words_a, words_b = a.split(" "), b.split(" ")
    lines = []
    matcher = difflib.SequenceMatcher(a=words_a, b=words_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        context = " ".join(words_a[max(0, i1 - 5):i1])
        theirs, ours = " ".join(words_a[i1:i2]), " ".join(words_b[j1:j2])
        lines.append(f"    …{context} [jekyll: {theirs!r} | ours: {ours!r}]")
        if len(lines) >= 8:
            lines.append("    …")
            break
    return "\n".join(lines)


def compare(case: Path, tmp: Path) -> list[Difference]:
    """Every difference between Jekyll's and our build of `case`."""
    name = case.name
    jekyll, ours = build_jekyll(case), build_ours(case, tmp)
    if jekyll.ok != ours.ok:
        return [Difference(name, SITE, "build", _outcome(jekyll), _outcome(ours))]
    if not jekyll.ok:
        return []
    found = []
    if sorted(jekyll.documents) != sorted(ours.documents):
        found.append(Difference(name, SITE, "documents", sorted(jekyll.documents), sorted(ours.documents)))
    if jekyll.files != ours.files:
        found.append(Difference(name, SITE, "files", jekyll.files, ours.files))
    conflicts = (jekyll.log.count("Conflict:"), ours.log.count("Conflict:"))
    if conflicts[0] != conflicts[1]:
        found.append(Difference(name, SITE, "conflicts", *conflicts))
    for rel in sorted(set(jekyll.files) & set(ours.files)):
        theirs_bytes, our_bytes = jekyll.content(rel), ours.content(rel)
        if theirs_bytes != our_bytes:
            found.append(Difference(name, rel, "content", _shown(theirs_bytes), _shown(our_bytes)))
    for document in sorted(set(jekyll.documents) & set(ours.documents)):
        theirs_url, our_url = jekyll.documents[document], ours.documents[document]
        if theirs_url != our_url:
            found.append(Difference(name, document, "url", theirs_url, our_url))
        theirs, mine = read_body(jekyll.bodies[document], False), read_body(ours.bodies[document], True)
        for field_name in DOCUMENT_FIELDS[1:]:
            a, b = getattr(theirs, field_name), getattr(mine, field_name)
            if a != b:
                found.append(Difference(name, document, field_name, a, b))
    return found


def _shown(data: bytes) -> Any:
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:16]}"


def _outcome(built: Built) -> str:
    return "built" if built.ok else f"failed: {built.message.splitlines()[0] if built.message else ''}"


@dataclass(frozen=True)
class Allowed:
    case: str
    document: str
    field: str
    reason: str


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    allowed = []
    for entry in entries:
        missing = {"case", "document", "field", "reason"} - set(entry)
        if missing or not str(entry["reason"]).strip():
            raise ValueError(f"{path}: entry {entry} needs case, document, field and a reason")
        allowed.append(Allowed(*(str(entry[k]) for k in ("case", "document", "field", "reason"))))
    return allowed


def split_allowed(differences: list[Difference],
                  allowlist: list[Allowed]) -> tuple[list[Difference], list[Allowed]]:
    """(differences not on the allowlist, allowlist entries of these cases that matched nothing)."""
    keys = {(a.case, a.document, a.field) for a in allowlist}
    unexpected = [d for d in differences if (d.case, d.document, d.field) not in keys]
    seen = {(d.case, d.document, d.field) for d in differences}
    cases = {d.case for d in differences} | {a.case for a in allowlist}
    unused = [a for a in allowlist if a.case in cases and (a.case, a.document, a.field) not in seen]
    return unexpected, unused


def case_folders() -> list[Path]:
    return sorted(p for p in CASES.iterdir() if p.is_dir() and (p / "_config.yml").exists())


def main(argv: list[str]) -> int:
    if argv[:1] == ["--ours"]:
        _ours_main(*argv[1:4])
        return 0
    if not jekyll_available():
        print("jekyll is not installed (Debian: apt-get install jekyll)", file=sys.stderr)
        return 2
    cases = [Path(a) for a in argv] or case_folders()
    allowlist = load_allowlist()
    failed = 0
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="oracle-ours-") as tmp:
            differences = compare(case.resolve(), Path(tmp))
        case_allowlist = [a for a in allowlist if a.case == case.name]
        unexpected, unused = split_allowed(differences, case_allowlist)
        allowed = len(differences) - len(unexpected)
        status = "equal" if not unexpected and not unused else "DIFFERENT"
        print(f"{case.name}: {status}" + (f" ({allowed} allowlisted)" if allowed else ""))
        for difference in unexpected:
            print(difference.render())
        for entry in unused:
            print(f"{case.name}: allowlist entry {entry.document} {entry.field} matches no difference")
        failed += bool(unexpected or unused)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
