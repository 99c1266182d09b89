"""Find posts, pages and static files; split front matter; dates and URLs from file names."""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import yaml

from builder.config import PERMALINK_STYLES, Config
from builder.errors import BuildError, line_of
from builder.model import Category, Page, Post

log = logging.getLogger(__name__)

POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)\.(md|markdown|html)$")
RENDERED_SUFFIXES = (".md", ".markdown", ".html")
# Jekyll leaves these out of every site unless told otherwise.
DEFAULT_EXCLUDES = ("Gemfile", "Gemfile.lock", "node_modules", "vendor", "package.json",
                    "package-lock.json")
GENERATED = ("feed.xml", "sitemap.xml", "robots.txt")  # made by the builder, never copied
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10× faster on big sites
FRONT_MATTER_FENCE = re.compile(r"^---[ \t]*\r?$", re.M)
FRONT_MATTER_END = re.compile(r"^(---|\.\.\.)[ \t]*\r?$", re.M)


def slugify(text: str) -> str:
    """ASCII slug: "Tích chập" -> "tich-chap", "Đức" -> "duc"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text.lower())
    return text.strip("-")


MONTHS = ["tháng 1", "tháng 2", "tháng 3", "tháng 4", "tháng 5", "tháng 6", "tháng 7", "tháng 8",
          "tháng 9", "tháng 10", "tháng 11", "tháng 12"]


def vi_date(value: date) -> str:
    """"28 tháng 6, 2018": how Vietnamese writes a date."""
    return f"{value.day} {MONTHS[value.month - 1]}, {value.year}"


def category_slug(name: str) -> str:
    """The slug of a category page; a name with no Latin letters gets a stable fallback."""
    return slugify(name) or "khac"


def read_text(path: Path) -> str:
    """The file as NFC text; a non-UTF-8 file is an error naming the line of the bad byte."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise BuildError(f"not valid UTF-8 (byte 0x{data[err.start]:02x})", path, line) from None
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n"))


def has_front_matter(path: Path) -> bool:
    with path.open("rb") as f:
        first = f.readline()
    return first.lstrip(b"\xef\xbb\xbf").rstrip() == b"---"


def split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str, int]:
    """Return (front matter, body, 1-based line where the body starts)."""
    if not FRONT_MATTER_FENCE.match(text):
        return {}, text, 1
    start = text.index("\n") + 1 if "\n" in text else len(text)
    end = FRONT_MATTER_END.search(text, start)
    if end is None:
        raise BuildError("front matter opened with --- is never closed", path, 1)
    raw = text[start:end.start()]
    try:
        data = yaml.load(raw, Loader=_YAML_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise BuildError(f"invalid front matter: {problem}", path, line) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError("front matter must be a mapping of keys to values", path, 2)
    body_start = text.find("\n", end.start())
    body_start = len(text) if body_start < 0 else body_start + 1
    return data, text[body_start:], line_of(text, body_start)


class Gathered(NamedTuple):
    posts: list[Post]  # newest first
    pages: list[Page]
    static: list[str]  # paths relative to the source
    next_publication: datetime | None  # when the earliest future-dated post becomes due


def gather(config: Config) -> Gathered:
    """All posts, pages and static files of the site."""
    source = config.source
    if (source / "_layouts").is_dir():
        log.warning("%s: Jekyll's Liquid layouts are not used; the built-in theme renders "
                    "every page (override its files from _templates/)", source / "_layouts")
    posts, next_publication = _read_posts(config)
    pages: list[Page] = []
    static: list[str] = []
    for path in _walk(config):
        rel = path.relative_to(source).as_posix()
        if path.suffix.lower() in RENDERED_SUFFIXES and has_front_matter(path):
            pages.append(_read_page(path, rel, config))
        elif rel in GENERATED or path.suffix.lower() in (".scss", ".sass") and has_front_matter(path):
            # A Jekyll site's feed/sitemap templates and Sass entry points: the theme's own replace them.
            replacement = rel if rel in GENERATED else "theme"
            log.info("%s: not used; the built-in %s replaces it", path, replacement)
        else:
            static.append(rel)
    _check_unique_urls([*posts, *pages])
    return Gathered(posts, pages, static, next_publication)


def _walk(config: Config) -> list[Path]:
    """Files that are not posts or special folders, in sorted order."""
    source, found = config.source, []
    excluded = set(DEFAULT_EXCLUDES) | set(config.exclude)
    destination = config.destination.resolve()

    def visit(folder: Path) -> None:
        for entry in sorted(folder.iterdir()):
            rel = entry.relative_to(source).as_posix()
            if entry.name.startswith(("_", ".")) or rel in excluded or entry.name in excluded:
                continue
            if entry.resolve() == destination or _leaves_source(entry, source):
                continue
            if entry.is_dir():
                visit(entry)
            elif entry.is_file():
                found.append(entry)

    visit(source)
    return found


def _read_posts(config: Config) -> tuple[list[Post], datetime | None]:
    folders = [config.source / "_posts"]
    if config.drafts:
        folders.append(config.source / "_drafts")
    posts = []
    for folder in folders:
        if not folder.is_dir():
            continue
        files = (p for p in folder.rglob("*") if p.is_file() and not _leaves_source(p, config.source))
        for path in sorted(files):
            if any(part.startswith(".") for part in path.relative_to(folder).parts):
                continue
            post = _read_post(path, folder, config)
            if post is not None:
                posts.append(post)
    now = datetime.now(config.tz)
    kept, future = [], []
    for post in posts:
        if post.front.get("published", True) is False and not config.drafts:
            continue
        if post.date > now and not config.future:
            log.info("%s: dated in the future, left out (use --future)", post.rel)
            future.append(post.date)
            continue
        kept.append(post)
    return sorted(kept, key=lambda p: (p.date, p.rel), reverse=True), min(future, default=None)


def _leaves_source(path: Path, source: Path) -> bool:
    """A symbolic link to somewhere outside the site is never followed into the output."""
    if not path.is_symlink():  # folders are checked as entries, before anything inside them
        return False
    if path.resolve().is_relative_to(source.resolve()):
        return False
    log.warning("%s: a symbolic link to %s, outside the site; not followed", path, path.resolve())
    return True


def _read_post(path: Path, folder: Path, config: Config) -> Post | None:
    rel = path.relative_to(config.source).as_posix()
    is_draft = folder.name == "_drafts"
    match = POST_NAME.match(path.name)
    if is_draft and match is None:
        stem, ext = path.stem, path.suffix
        if ext.lower() not in RENDERED_SUFFIXES:
            return None
        day, slug = datetime.now(config.tz).date(), stem
    elif match is None:
        log.warning("%s: not a post file name (YYYY-MM-DD-slug.md); skipped", rel)
        return None
    else:
        year, month, dd, slug = match.group(1, 2, 3, 4)
        try:
            day = date(int(year), int(month), int(dd))
        except ValueError:
            raise BuildError(f"impossible date {year}-{month}-{dd} in the file name", path) from None
    front, body, body_line = split_front_matter(read_text(path), path)
    when = _post_date(front.get("date"), day, config, path)
    title = _text_field(front, "title", path) or slug.replace("-", " ")
    if "categories" in front or "category" not in front:
        categories = _words(front.get("categories"), "categories", path)
    else:  # Jekyll's singular key names one category, spaces and all
        categories = (unicode_nfc(str(front["category"]).strip()),) if front["category"] else ()
    tags = _words(front.get("tags"), "tags", path)
    sub = path.parent.relative_to(folder).as_posix()
    name = path.stem if sub == "." else f"{sub}/{path.stem}"
    url = _post_url(front, config, when, slug, categories, path)
    return Post(
        source=path, rel=rel, front=front, body=body, body_line=body_line, url=url, title=title,
        name=name, slug=slug, date=when, categories=categories, tags=tags,
        description=_text_field(front, "description", path),
        background=_text_field(front, "background", path),
    )


def _read_page(path: Path, rel: str, config: Config) -> Page:
    front, body, body_line = split_front_matter(read_text(path), path)
    permalink = _text_field(front, "permalink", path)
    if permalink:
        url = "/" + permalink.lstrip("/")
    else:
        stem = rel.rsplit(".", 1)[0]
        url = "/" + (stem[: -len("index")] if stem.split("/")[-1] == "index" else stem + ".html")
    title = _text_field(front, "title", path) or Path(rel).stem.replace("-", " ")
    return Page(source=path, rel=rel, front=front, body=body, body_line=body_line, url=url,
                title=title)


def _text_field(front: dict[str, Any], key: str, path: Path) -> str:
    value = front.get(key)
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        raise BuildError(f"front matter {key} must be text, not {type(value).__name__}", path)
    # Strip stray whitespace: the seed's background is '/images/post2/background.jpg '.
    return str(value).strip()


def _words(value: Any, key: str, path: Path) -> tuple[str, ...]:
    """Categories/tags as Jekyll reads them: a list, or a space-separated string."""
    if value is None:
        return ()
    if isinstance(value, str):
        items = value.split()
    elif isinstance(value, list):
        items = [str(v).strip() for v in value if v is not None and str(v).strip()]
    else:
        raise BuildError(f"front matter {key} must be a list or a string", path)
    return tuple(dict.fromkeys(unicode_nfc(i) for i in items))


def unicode_nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _post_date(value: Any, day: date, config: Config, path: Path) -> datetime:
    if value is None:
        return datetime.combine(day, time(), config.tz)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=config.tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), config.tz)
    text = str(value).strip()
    # Jekyll writes "2018-06-28 10:00:00 +0700"; fromisoformat wants "+07:00".
    text = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BuildError(f"front matter date {value!r} is not a date", path) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=config.tz)


def _post_url(front: dict[str, Any], config: Config, when: datetime, slug: str,
              categories: tuple[str, ...], path: Path) -> str:
    permalink = _text_field(front, "permalink", path) or config.permalink
    permalink = PERMALINK_STYLES.get(permalink, permalink)
    title = _text_field(front, "slug", path) or slug
    values = {
        "year": f"{when.year:04d}", "month": f"{when.month:02d}", "day": f"{when.day:02d}",
        "i_month": str(when.month), "i_day": str(when.day), "short_year": f"{when.year % 100:02d}",
        "y_day": f"{when.timetuple().tm_yday:03d}", "title": title, "slug": title,
        "categories": _url_categories(categories, jekyll=config.markdown == "kramdown"),
        "output_ext": ".html",
    }
    # Longest names first so :i_month is not read as :i followed by _month.
    pattern = re.compile(":(" + "|".join(sorted(values, key=len, reverse=True)) + ")")
    url = pattern.sub(lambda m: values[m.group(1)], permalink)
    url = re.sub(r"/{2,}", "/", url)
    return url if url.startswith("/") else "/" + url


def _url_categories(categories: tuple[str, ...], jekyll: bool) -> str:
    """`:categories` in a permalink. A Jekyll site keeps Jekyll's own URLs (lower-cased,
    percent-escaped: "Computer Vision" -> "computer%20vision"); ours are ASCII slugs."""
    if jekyll:
        return "/".join(dict.fromkeys(quote(c.lower(), safe="!$&'()*+,;=:@-._~") for c in categories))
    return "/".join(category_slug(c) for c in categories)


def _check_unique_urls(documents: list) -> None:
    seen: dict[str, str] = {}
    for doc in sorted(documents, key=lambda d: d.rel):
        other = seen.setdefault(doc.output_path, doc.rel)
        if other != doc.rel:
            raise BuildError(f"has the same URL {doc.url} as {other}", doc.source)


def group_categories(posts: list[Post]) -> list[Category]:
    """Categories sorted by name; two names with the same slug share one page."""
    by_slug: dict[str, list[Post]] = {}
    names: dict[str, str] = {}
    for post in posts:
        for name in post.categories:
            slug = category_slug(name)
            names.setdefault(slug, name)
            by_slug.setdefault(slug, []).append(post)
    return [Category(names[s], s, tuple(by_slug[s])) for s in sorted(by_slug)]


def new_post(source: Path, title: str, day: date) -> Path:
    """Create `_posts/<date>-<slug>.md` with front matter; never overwrites."""
    slug = slugify(title)
    if not slug:
        raise BuildError(f"the title {title!r} has no letters or digits to make a file name from")
    _require_site(source)
    path = source / "_posts" / f"{day.isoformat()}-{slug}.md"
    if path.exists():
        raise BuildError("a post with this date and title already exists; nothing was changed", path)
    front = yaml.safe_dump({"layout": "post", "title": unicode_nfc(title), "categories": [],
                            "mathjax": False, "published": True}, allow_unicode=True, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as f:  # "x": fail rather than overwrite, even in a race
        f.write(f"---\n{front}---\n\nViết mở đầu ở đây. Ảnh có chú thích:\n\n"
                "![Mô tả ảnh]({{ site.baseurl }}/images/ten-anh.jpg)\n\n_Chú thích_\n")
    return path


def _require_site(source: Path) -> None:
    """A post goes into an existing site: never make a site folder (or one inside any folder)."""
    where = source.resolve()
    looked = "" if source.is_absolute() else f" (looking for {source} in the current folder, {Path.cwd()})"
    if not where.is_dir():
        raise BuildError(f"there is no site folder at {where}{looked}; nothing was created. Run `blog new` "
                         "in the folder that holds it, or name the site folder with -s")
    if not (where / "_config.yml").is_file() and not (where / "_posts").is_dir():
        raise BuildError(f"{where} has neither _config.yml nor _posts/, so it is not a site folder{looked}; "
                         "nothing was created. Name the site folder with -s")
