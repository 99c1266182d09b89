"""`blog check`: every internal link, #anchor and image of the built site must resolve.

Problems are reported against the source file that produced the page, at the line where the
link is written when it can be found there (`post file:line: problem`); images whose alt text
is a placeholder or empty are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from builder.errors import line_of
from builder.model import Site

LINK_ATTRIBUTES = {"a": "href", "link": "href", "img": "src", "script": "src", "source": "src",
                   "iframe": "src"}


@dataclass(frozen=True)
class Problem:
    where: str  # the source file, or the generated page
    message: str
    warning: bool = False
    line: int | None = None  # in the source file, where the link is written

    def __str__(self) -> str:
        line = f":{self.line}" if self.line else ""
        return f"{self.where}{line}: {self.message}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        attribute = LINK_ATTRIBUTES.get(tag)
        if attribute and values.get(attribute):
            self.links.append(values[attribute])
        for candidate in (values.get("srcset") or "").split(","):
            if candidate.strip():
                self.links.append(candidate.split()[0])


def check_site(site: Site, root: Path) -> list[Problem]:
    """Links and anchors in every HTML file under `root`, and placeholder alt texts."""
    baseurl = site.config.baseurl
    documents = {doc.output_path: doc for doc in [*site.posts, *site.pages]}
    texts: dict[Path, str] = {}

    def line(doc, *written: str) -> int | None:
        if doc is None:
            return None
        if doc.source not in texts:
            texts[doc.source] = _source_text(doc.source)
        return _line_written(texts[doc.source], written, baseurl)
    parsed: dict[Path, _Links] = {}

    def parse(page: Path) -> _Links:
        if page not in parsed:
            parser = _Links()
            parser.feed(page.read_text(encoding="utf-8", errors="replace"))
            parsed[page] = parser
        return parsed[page]

    problems = []
    for page in sorted(root.rglob("*.html")):
        rel = page.relative_to(root).as_posix()
        doc = documents.get(rel)
        where = str(doc.source) if doc else f"{rel} (built-in page)"
        for url in dict.fromkeys(parse(page).links):
            problem = _check_link(url, page, root, baseurl, parse)
            if problem:
                problems.append(Problem(where, problem, line=line(doc, url)))
    for doc in [*site.posts, *site.pages]:
        for src, alt in doc.rendered.placeholder_alts:
            text = f"placeholder alt text {alt!r}" if alt.strip() else "no alt text"
            problems.append(Problem(str(doc.source), f"image {src} has {text}", warning=True,
                                    line=line(doc, src, f"[{alt}]" if alt.strip() else "![](")))
    return problems


def _source_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace").replace("\r\n", "\n")
    except OSError:
        return ""


def _line_written(text: str, written: tuple[str, ...], baseurl: str) -> int | None:
    """The 1-based line of the source where a link is written: as it is built, without the
    baseurl (`{{ site.baseurl }}/x` in the source), its fragment (`(#x)`), or its last part
    (a `{% post_url %}` followed by `#x`)."""
    candidates: list[str] = []
    for url in written:
        parts = urlsplit(url)
        path = parts.path
        if baseurl and path.startswith(baseurl + "/"):
            path = path[len(baseurl):]
        candidates += [url, unquote(url), path + (f"#{parts.fragment}" if parts.fragment else ""), path]
        if parts.fragment:
            candidates.append(f"#{parts.fragment}")
        last = path.rstrip("/").rsplit("/", 1)[-1]
        if len(last) >= 3:  # a name long enough not to be found by chance
            candidates.append(last)
    for candidate in candidates:
        if candidate:
            index = text.find(candidate)
            if index >= 0:
                return line_of(text, index)
    return None


def _has_id(ids, fragment: str) -> bool:
    """A browser finds `#mjx-eqn%3Aeq%3A1` at id="mjx-eqn:eq:1": the fragment is percent-decoded."""
    return fragment in ids or unquote(fragment) in ids


def _check_link(url: str, page: Path, root: Path, baseurl: str, parse) -> str | None:
    parts = urlsplit(url)
    if parts.scheme or url.startswith("//"):
        return None  # external: not checked (no network at build time)
    if not parts.path:
        if parts.fragment and not _has_id(parse(page).ids, parts.fragment):
            return f"anchor #{parts.fragment} does not exist on this page"
        return None
    path = unquote(parts.path)
    if not path.startswith("/"):
        target = (page.parent / path).resolve()
    elif baseurl and not (path + "/").startswith(baseurl + "/"):
        return f"link {url} does not start with the baseurl {baseurl}"
    else:
        target = root / path[len(baseurl):].lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file() and target.with_name(target.name + ".html").is_file():
        target = target.with_name(target.name + ".html")  # /x is x.html, as on GitHub Pages
    if not target.is_file():
        return f"broken link {url}: nothing is built there"
    if parts.fragment and target.suffix == ".html" and not _has_id(parse(target).ids, parts.fragment):
        return f"broken anchor {url}: no element with id {parts.fragment!r}"
    return None
