"""URLs and output files of posts and pages, resolved as Jekyll resolves them.

Jekyll fills a permalink template's `:placeholders`, percent-escapes each value, cleans the
result, and writes `/x/` as `x/index.html` and an extensionless `/x` as `x.html`; a template
that ends in an extension (`/feed.json`) keeps that extension. Pages follow the site's
permalink style (`pretty` gives `/about/`, `date`/`ordinal`/`none` give `/about.html`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from posixpath import splitext
from urllib.parse import quote, unquote

from builder.errors import BuildError

HTML_EXTENSIONS = (".html", ".xhtml", ".htm")
_PLACEHOLDER = re.compile(r":([a-z_]+)")
_PLAIN_PATH = re.compile(r"^[a-zA-Z0-9./-]+$")
_PRETTY_KEEP = set("._~!$&'()+,;=@")


def jekyll_slugify(text: str, mode: str = "default", cased: bool = False) -> str:
    """Jekyll's `Utils.slugify`: every run of characters other than letters, marks and digits
    (and, in `pretty` mode, `._~!$&'()+,;=@`) becomes one `-`; no `-` at either end."""
    keep = _PRETTY_KEEP if mode == "pretty" else set()

    def kept(char: str) -> bool:
        category = unicodedata.category(char)
        return category[0] in "LM" or category == "Nd" or char in keep

    # Only runs of replaced characters collapse; a literal "--" in the text stays as it is.
    slug = _collapse_replaced(text, kept)
    slug = slug[1:] if slug.startswith("-") else slug
    slug = slug[:-1] if slug.endswith("-") else slug
    return slug if cased else slug.lower()


def _collapse_replaced(text: str, kept) -> str:
    out, in_run = [], False
    for char in text:
        if kept(char):
            out.append(char)
            in_run = False
        elif not in_run:
            out.append("-")
            in_run = True
    return "".join(out)


def escape_path(value: str) -> str:
    """A placeholder's value as Jekyll puts it in a URL (`Học máy` -> `H%E1%BB%8Dc%20m%C3%A1y`)."""
    if not value or _PLAIN_PATH.match(value):
        return value
    return quote(value, safe="/!$&'()*+,;=:@-._~")


def sanitize_url(url: str) -> str:
    """Jekyll's clean-up: a leading `/`, no `..`, no `./`, no doubled slashes."""
    url = ("/" + url).replace("..", "/").replace("./", "")
    return re.sub(r"/{2,}", "/", url)


def output_ext(permalink: str | None, converted: str) -> str:
    """The output file's extension: the permalink's own, else the converter's (`.html`)."""
    if permalink and not permalink.endswith("/"):
        ext = splitext(permalink.rsplit("/", 1)[-1])[1]
        if ext:
            return ext
    return converted


def fill(template: str, values: Mapping[str, str], path: object, strict: bool = True) -> str:
    """`template` with every `:name` replaced by its escaped value. An unknown name is an
    error, as in Jekyll (a `_` at its end may be a separator: `:year_:month`)."""

    def replace(match: re.Match) -> str:
        name = match.group(1)
        for key in (name, name[:-1]) if name.endswith("_") else (name,):
            if key in values:
                return escape_path(values[key]) + name[len(key):]
        if not strict:
            return match.group(0)
        raise BuildError(f"permalink {template!r} has no placeholder :{name} (known: "
                         f"{', '.join(sorted(values))})", path)

    return _PLACEHOLDER.sub(replace, template)


def post_values(when: datetime, slug: str, name: str, categories: tuple[str, ...], ext: str,
                jekyll: bool, category_slug) -> Mapping[str, str]:
    """The placeholders of a post's permalink, from its date in the site's time zone; each
    value is worked out when a template asks for it (a template names three or four of them,
    and slugs are the costly ones).

    `jekyll`: the title keeps its case and Unicode letters, categories are lower-cased
    (Jekyll's own URLs); otherwise titles are as written and categories ASCII slugs."""

    def title() -> str:
        return jekyll_slugify(slug, "pretty", cased=True) if jekyll else slug

    def cats() -> str:
        if jekyll:
            return "/".join(dict.fromkeys(c.lower() for c in categories))
        return "/".join(category_slug(c) for c in categories)

    return _Placeholders({
        "year": lambda: f"{when.year:04d}", "month": lambda: f"{when.month:02d}",
        "day": lambda: f"{when.day:02d}", "hour": lambda: f"{when.hour:02d}",
        "minute": lambda: f"{when.minute:02d}", "second": lambda: f"{when.second:02d}",
        "i_day": lambda: str(when.day), "i_month": lambda: str(when.month),
        "short_year": lambda: f"{when.year % 100:02d}",
        "short_month": lambda: when.strftime("%b"), "long_month": lambda: when.strftime("%B"),
        "w_year": lambda: f"{when.isocalendar()[0]}", "week": lambda: f"{when.isocalendar()[1]:02d}",
        "w_day": lambda: str(when.isoweekday()), "short_day": lambda: when.strftime("%a"),
        "long_day": lambda: when.strftime("%A"), "y_day": lambda: f"{when.timetuple().tm_yday:03d}",
        "title": title, "slug": lambda: jekyll_slugify(slug) if jekyll else title(),
        "name": lambda: jekyll_slugify(name), "categories": cats,
        "slugified_categories": lambda: "/".join(dict.fromkeys(jekyll_slugify(c) for c in categories)),
        "collection": lambda: "posts", "output_ext": lambda: ext,
    })


class _Placeholders(Mapping[str, str]):
    """Every placeholder name, each value made (once) when it is looked up."""

    def __init__(self, makers: dict[str, Callable[[], str]]):
        self._makers = makers
        self._made: dict[str, str] = {}

    def __getitem__(self, name: str) -> str:
        if name not in self._made:
            self._made[name] = self._makers[name]()
        return self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in self._makers

    def __iter__(self) -> Iterator[str]:
        return iter(self._makers)

    def __len__(self) -> int:
        return len(self._makers)


def post_url(template: str, values: Mapping[str, str], path: object) -> str:
    return sanitize_url(fill(template, values, path))


def page_template(rel: str, style: str, ext: str) -> str:
    """Jekyll's template for a page without `permalink:` in its front matter."""
    basename = _basename(rel)
    if ext not in HTML_EXTENSIONS:
        return "/:path/:basename:output_ext"
    if basename == "index":
        return "/:path/"
    template = "/:path/:basename"
    if style == "pretty" or (style not in ("date", "ordinal", "none") and style.endswith("/")):
        return template + "/"
    if style in ("date", "ordinal", "none") or style.endswith(":output_ext"):
        return template + ":output_ext"
    return template


def page_url(rel: str, permalink: str, style: str, converted: str) -> tuple[str, str]:
    """(URL, output extension) of a page such as `about.md` or `docs/index.html`."""
    ext = output_ext(permalink or None, converted)
    template = permalink or page_template(rel, style, ext)
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    values = {"path": f"/{folder}/" if folder else "/", "basename": _basename(rel), "output_ext": ext}
    url = template
    for key, value in values.items():  # Jekyll's plain substitution, in this order
        url = url.replace(f":{key}", escape_path(value))
    return sanitize_url(url), ext


def output_path(url: str, ext: str, page: bool) -> str:
    """The file Jekyll writes for `url`, relative to the destination: `/x/` is `x/index.html`
    (a page keeps its own extension: `x/index.xml`), `/x` is `x.html`."""
    path = unquote(url.lstrip("/"))
    if not path or path.endswith("/"):
        return path + "index" + (ext if page else ".html")
    return path if path.endswith(ext) else path + ext


def _basename(rel: str) -> str:
    name = rel.rsplit("/", 1)[-1]
    stem = name[: -len(splitext(name)[1])] if splitext(name)[1] else name
    return stem.rstrip(".")
