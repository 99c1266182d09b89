"""Find posts, pages and static files; split front matter; dates and URLs from file names."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

import yaml

from builder import permalinks, strings
from builder.config import JEKYLL_PERMALINK, PERMALINK_STYLES, Config
from builder.entries import EntryFilter, is_file, tree
from builder.errors import NOTICE, BuildError, line_of, yaml_problem, yaml_value_problem
from builder.model import RENDERED_SUFFIXES, Category, Gathered, Page, Post
from builder.text import category_slug, file_slug, nfc

log = logging.getLogger(__name__)

# Jekyll's post file name: a date, a title, any extension (Markdown and HTML are rendered).
POST_NAME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})-(.*)(\.[^.]+)$")
GENERATED = ("feed.xml", "sitemap.xml", "robots.txt")  # made by the builder, never copied
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10× faster on big sites
FRONT_MATTER_FENCE = re.compile(r"^---[ \t]*\r?$", re.M)
FRONT_MATTER_END = re.compile(r"^(---|\.\.\.)[ \t]*\r?$", re.M)


def read_text(path: Path, read: Callable[[Path], bytes] | None = None) -> str:
    """The file as NFC text; a non-UTF-8 file is an error naming the line of the bad byte.
    `read`: how to get its bytes (default: from the disk)."""
    data = (read or _read_bytes)(path)
    try:
        return _decoded(data)
    except UnicodeDecodeError as err:
        line, byte = _bad_byte(data, err)
        raise BuildError(f"not valid UTF-8 (byte 0x{byte:02x})", path, line) from None


def _reader(documents: dict[Path, bytes] | None) -> Callable[[Path], bytes]:
    """The bytes of a file: taken out of `documents` when it holds them (so they are not kept
    while the site is rendered), else from the disk."""
    if not documents:
        return _read_bytes
    return lambda path: documents.pop(path) if path in documents else _read_bytes(path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise BuildError(f"cannot read the file: {err.strerror or err}", path) from err


def _decoded(data: bytes) -> str:
    return nfc(data.decode("utf-8-sig").replace("\r\n", "\n"))


def _bad_byte(data: bytes, err: UnicodeDecodeError) -> tuple[int, int]:
    """(line, byte) of the first byte that is not UTF-8."""
    return data.count(b"\n", 0, err.start) + 1, data[err.start]


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
    except (yaml.YAMLError, ValueError, TypeError) as err:
        problem, line = (yaml_problem if isinstance(err, yaml.YAMLError) else yaml_value_problem)(err, raw)
        # The front matter's first line is the file's second: the opening --- comes before it.
        raise BuildError(f"invalid front matter: {problem}", path, 1 if line is None else line + 2) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise BuildError("front matter must be a mapping of keys to values", path, 2)
    body_start = text.find("\n", end.start())
    body_start = len(text) if body_start < 0 else body_start + 1
    return data, text[body_start:], line_of(text, body_start)


class Reader(Protocol):
    """Told about the site as it is read (see `render.EarlyRendering`)."""

    def static_files(self, static: list[str]) -> None: ...  # before any document

    def read(self, doc: Post | Page) -> None: ...  # each post due and page, once read


def gather(config: Config, now: datetime | None = None,
           documents: dict[Path, bytes] | None = None, reader: Reader | None = None) -> Gathered:
    """All posts, pages and static files of the site, read and ignored as Jekyll does, as of
    `now` (default: the clock's time): later posts are left out unless --future. `documents`:
    files already read this build (see `state.fingerprint`), by path, emptied as they are used;
    the rest is read here. `reader` is told of the static files, then of each document as it
    is read (what conflicts leave out is still told)."""
    read = _reader(documents)
    now = now or datetime.now(config.tz)
    source = config.source
    if (source / "_layouts").is_dir():
        log.warning("%s: Jekyll's Liquid layouts are not used; the built-in theme renders "
                    "every page (override its files from _templates/)", source / "_layouts")
    entries = EntryFilter.of(source, config.include, config.exclude)
    files, post_roots = _walk(config, entries)
    files += _included_directly(config, files)
    kinds = []  # known before the posts are read: the reader needs the static files first
    for path in files:
        rel = path.relative_to(source).as_posix()
        kinds.append((path, rel, _kind(path, rel)))
    static = [rel for _, rel, kind in kinds if kind == "static"]
    if reader is not None:
        reader.static_files(list(static))
    posts, published_as_is, future = _read_posts(config, entries, post_roots, now, read, reader)
    pages: list[Page] = list(published_as_is)
    for path, rel, kind in kinds:
        if kind == "replaced":
            # A Jekyll site's feed/sitemap templates and Sass entry points: the theme's own replace them.
            replacement = rel if rel in GENERATED else "theme"
            log.info("%s: not used; the built-in %s replaces it", path, replacement)
        elif kind == "page":
            pages.append(_read_page(path, rel, config, read))
            if reader is not None:
                reader.read(pages[-1])
    posts, pages, static = _resolve_conflicts(posts, pages, static)
    if documents:
        documents.clear()  # the rest (drafts left out, includes) is not read as documents
    return Gathered(posts, pages, static, min(future, default=None), len(future))


def _kind(path: Path, rel: str) -> str:
    """What a file that is not a post is: "replaced" (by the theme's own), "page" or "static"."""
    if rel in GENERATED or path.suffix.lower() in (".scss", ".sass") and has_front_matter(path):
        return "replaced"
    return "page" if has_front_matter(path) else "static"


def _walk(config: Config, entries: EntryFilter) -> tuple[list[Path], list[str]]:
    """Files that Jekyll reads as pages or static files, in sorted order, and the folders
    (relative to the source) that hold a `_posts/` folder: Jekyll reads one in every folder."""
    source, found, post_roots = config.source, [], []
    destination = config.destination.resolve()

    def visit(folder: Path, rel_folder: str) -> None:
        if (folder / "_posts").is_dir() or (folder / "_drafts").is_dir():
            post_roots.append(rel_folder)
        for entry in sorted(folder.iterdir()):
            rel = f"{rel_folder}/{entry.name}" if rel_folder else entry.name
            if not entries.keeps(entry.name, rel):
                continue
            if entry.resolve() == destination or _leaves_source(entry, source):
                continue
            if entry.is_dir():
                visit(entry, rel)
            elif entry.is_file():
                found.append(entry)

    visit(source, "")
    return found, post_roots


def _included_directly(config: Config, found: list[Path]) -> list[Path]:
    """`include:` entries that name a file inside an ignored folder (`_well-known/x`)."""
    seen, extra = set(found), []
    for name in config.include:
        path = config.source / name.strip("/")
        if path.is_file() and path not in seen and not _leaves_source(path, config.source):
            extra.append(path)
    return sorted(extra)


def _read_posts(config: Config, entries: EntryFilter, post_roots: list[str], now: datetime,
                read: Callable[[Path], bytes],
                reader: Reader | None = None) -> tuple[list[Post], list[Page], list[datetime]]:
    """Posts kept, dated files published as they are, and the dates of future posts left out.
    `reader`: see `gather`."""
    posts: list[Post] = []
    as_is: list[Page] = []
    left_out: list[str] = []
    for root in post_roots:
        for magic in ("_posts", "_drafts") if config.drafts else ("_posts",):
            folder = config.source / root / magic
            if not folder.is_dir():
                continue
            for rel, path in _post_entries(folder, entries, config):
                found = _read_post(path, rel, folder, root, config, now, read)
                if isinstance(found, Post):
                    posts.append(found)
                    if reader is not None and _due(found, config, now):
                        reader.read(found)
                elif isinstance(found, Page):
                    as_is.append(found)
                else:
                    left_out.append(rel)
    if left_out:
        shown = ", ".join(left_out[:3]) + (", ..." if len(left_out) > 3 else "")
        log.log(NOTICE, "%d file%s in _posts/ not named YYYY-MM-DD-title.EXT (or not text) left out, "
                "as Jekyll leaves them out: %s", len(left_out), "" if len(left_out) == 1 else "s", shown)
        for rel in left_out:
            log.info("%s: not a post; left out", rel)
    kept, future = _published(config, posts, now)
    return kept, as_is, future


def _published(config: Config, posts: list[Post], now: datetime) -> tuple[list[Post], list[datetime]]:
    """The posts that are published and due, newest first; and the dates of those not due yet."""
    kept, future = [], []
    for post in posts:
        if _unpublished(post, config):
            continue
        if _in_future(post, config, now):
            log.info("%s: dated in the future, left out (use --future)", post.rel)
            future.append(post.date)
            continue
        kept.append(post)
    return sorted(kept, key=lambda p: (p.date, p.rel), reverse=True), future


def _unpublished(post: Post, config: Config) -> bool:
    return post.front.get("published", True) is False and not config.drafts


def _in_future(post: Post, config: Config, now: datetime) -> bool:
    return post.date > now and not config.future


def _due(post: Post, config: Config, now: datetime) -> bool:
    """Whether the post is published now (`_published` keeps it)."""
    return not _unpublished(post, config) and not _in_future(post, config, now)


def _post_entries(folder: Path, entries: EntryFilter, config: Config) -> list[tuple[str, Path]]:
    """Files below `_posts/` as Jekyll lists them (`**/*`: no hidden files or folders), filtered."""
    base = folder.relative_to(config.source).as_posix()
    found = []
    for parts, entry in tree(folder):
        if any(part.startswith(".") for part in parts) or not is_file(entry):
            continue
        inner = "/".join(parts)
        if not entries.keeps(inner, f"{base}/{inner}"):
            continue
        path = folder.joinpath(*parts)
        if not (entry.is_symlink() and _leaves_source(path, config.source)):
            found.append((f"{base}/{inner}", path))
    return found


def _leaves_source(path: Path, source: Path) -> bool:
    """A symbolic link to somewhere outside the site is never followed into the output."""
    if not path.is_symlink():  # folders are checked as entries, before anything inside them
        return False
    if path.resolve().is_relative_to(source.resolve()):
        return False
    log.warning("%s: a symbolic link to %s, outside the site; not followed", path, path.resolve())
    return True


def _read_post(path: Path, rel: str, folder: Path, parent: str, config: Config, now: datetime,
               read: Callable[[Path], bytes] | None = None) -> Post | Page | None:
    """A post; a Page for a dated file that is not Markdown or HTML (Jekyll publishes it as it
    is, at its post URL); None for what Jekyll leaves out."""
    is_draft = folder.name == "_drafts"
    match = POST_NAME.match(path.name)
    if is_draft and match is None:
        if not path.suffix:
            return None
        day, slug, ext = now.date(), path.stem, path.suffix
    elif match is None:
        return None
    else:
        year, month, dd, slug, ext = match.groups()
        try:
            day = date(int(year), int(month), int(dd))
        except ValueError:
            raise BuildError(f"impossible date {year}-{month}-{dd} in the file name", path) from None
    slug = slug.rstrip(".")
    data = (read or _read_bytes)(path)  # read and decoded once: a large blog has thousands of posts
    try:
        text = _decoded(data)
    except UnicodeDecodeError as err:  # Jekyll skips a file that is not UTF-8 (an image named like a post)
        if ext.lower() in RENDERED_SUFFIXES:
            line, byte = _bad_byte(data, err)
            log.warning("%s:%d: not valid UTF-8 (byte 0x%02x); left out, as Jekyll leaves it out",
                        path, line, byte)
        return None
    front, body, body_line = split_front_matter(text, path)
    when = _post_date(front.get("date"), day, config, path)
    converted = ".html" if ext.lower() in RENDERED_SUFFIXES else ext
    categories = _categories(front, parent, path)
    url, output = _post_url(front, config, when, slug, path.stem, categories, converted, path)
    title = _text_field(front, "title", path) or _title_from_slug(slug, config)
    if ext.lower() not in RENDERED_SUFFIXES:
        return Page(source=path, rel=rel, front=front, body=body, body_line=body_line, url=url,
                    title=title, output=output)
    inner = path.parent.relative_to(folder).as_posix()
    name = path.stem if inner == "." else f"{inner}/{path.stem}"
    return Post(
        source=path, rel=rel, front=front, body=body, body_line=body_line, url=url, title=title,
        output=output, name=name, slug=slug, date=when, categories=categories,
        tags=_words(front.get("tags"), "tags", path),
        description=_text_field(front, "description", path),
        background=_text_field(front, "background", path),
    )


def _title_from_slug(slug: str, config: Config) -> str:
    if config.jekyll:  # Jekyll's titleize: "cnn-co-gi" -> "Cnn Co Gi"
        return " ".join(word[:1].upper() + word[1:].lower() for word in slug.split("-"))
    return slug.replace("-", " ")


def _categories(front: dict[str, Any], parent: str, path: Path) -> tuple[str, ...]:
    """Jekyll's categories: the folders above `_posts/`, then `categories:`, then `category:`."""
    from_path = tuple(part for part in parent.split("/") if part)
    listed = _words(front.get("categories"), "categories", path)
    single = front.get("category")
    if isinstance(single, list):
        singles = _words(single, "category", path)
    else:  # one category, spaces and all
        singles = (nfc(str(single).strip()),) if single not in (None, "") else ()
    return tuple(dict.fromkeys((*from_path, *listed, *singles)))


def _page_style(config: Config) -> str:
    """The permalink style pages follow: Jekyll's rule (a custom template ending in `/` makes
    pages `/about/` too) in a Jekyll site; named styles only in this project's own mode."""
    style = config.permalink_style or JEKYLL_PERMALINK
    if config.jekyll or style in PERMALINK_STYLES:
        return style
    return JEKYLL_PERMALINK


def _read_page(path: Path, rel: str, config: Config, read: Callable[[Path], bytes] | None = None) -> Page:
    front, body, body_line = split_front_matter(read_text(path, read), path)
    permalink = _text_field(front, "permalink", path)
    suffix = path.suffix
    converted = ".html" if suffix.lower() in (".md", ".markdown") or not suffix else suffix
    url, ext = permalinks.page_url(rel, permalink, _page_style(config), converted)
    title = _text_field(front, "title", path) or Path(rel).stem.replace("-", " ")
    return Page(source=path, rel=rel, front=front, body=body, body_line=body_line, url=url,
                title=title, output=permalinks.output_path(url, ext, page=True))


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
    return tuple(dict.fromkeys(nfc(i) for i in items))


def _post_date(value: Any, day: date, config: Config, path: Path) -> datetime:
    """A post's date in the site's time zone, as Jekyll places it: a YAML time without an
    offset is UTC, a quoted one is local time, a date alone is local midnight."""
    tz = config.tz
    if value is None:
        return _local_midnight(day, tz)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)
    if isinstance(value, date):
        return _local_midnight(value, tz)
    text = str(value).strip()
    # Jekyll writes "2018-06-28 10:00:00 +0700"; fromisoformat wants "+07:00".
    text = re.sub(r"\s*([+-]\d{2}):?(\d{2})$", r"\1:\2", text)
    text = re.sub(r"\s*(Z|UTC)$", "+00:00", text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise BuildError(f"front matter date {value!r} is not a date (write it as 2018-06-28 or "
                         f"2018-06-28 10:00:00 +0700)", path, _key_line(path, "date")) from None
    return parsed.astimezone(tz) if parsed.tzinfo else parsed.replace(tzinfo=tz).astimezone(tz)


def _key_line(path: Path, key: str) -> int | None:
    """The 1-based line of the front matter where `key:` is set, for an error about its value."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(rf"^{re.escape(key)}\s*:")
    return next((number for number, line in enumerate(lines, 1) if pattern.match(line)), None)


def _local_midnight(day: date, tz) -> datetime:
    return datetime.combine(day, time(), tz).astimezone(tz)


def _post_url(front: dict[str, Any], config: Config, when: datetime, slug: str, name: str,
              categories: tuple[str, ...], converted: str, path: Path) -> tuple[str, str]:
    """(URL, output file) of a post. A Jekyll site takes a post's own `permalink:` literally
    (`pretty` there is a path); this project's mode also accepts a style name there."""
    template = _text_field(front, "permalink", path)
    if template and not config.jekyll:
        template = PERMALINK_STYLES.get(template, template)
    template = template or config.permalink
    ext = permalinks.output_ext(template, converted)
    url_slug = _text_field(front, "slug", path) or slug
    values = permalinks.post_values(when, url_slug, name, categories, ext, config.jekyll, category_slug)
    url = permalinks.post_url(template, values, path)
    return url, permalinks.output_path(url, ext, page=False)


def _resolve_conflicts(posts: list[Post], pages: list[Page],
                       static: list[str]) -> tuple[list[Post], list[Page], list[str]]:
    """Two files writing one output: Jekyll warns and writes pages (by file name), then static
    files, then posts (oldest first), so the last of them is what the site serves."""
    order: list[tuple[str, str, Any]] = []
    order += [(p.output_path, p.rel, p) for p in sorted(pages, key=lambda p: (p.source.name, p.rel))]
    order += [(unquote(rel), rel, rel) for rel in static]
    order += [(p.output_path, p.rel, p) for p in sorted(posts, key=lambda p: (p.date, p.rel))]
    writers: dict[str, list[tuple[str, Any]]] = {}
    for output, rel, item in order:
        writers.setdefault(output, []).append((rel, item))
    losers: set[str] = set()
    for output, items in writers.items():
        if len(items) > 1:
            names = [rel for rel, _ in items]
            log.warning("Conflict: %s is written by %s; %s is kept, as in Jekyll", output,
                        " and ".join(names), names[-1])
            losers.update(names[:-1])
    return ([p for p in posts if p.rel not in losers], [p for p in pages if p.rel not in losers],
            [rel for rel in static if rel not in losers])


def update_posts(config: Config, gathered: Gathered, changed: list[Path],
                 now: datetime | None = None) -> Gathered | None:
    """`gathered` after the files `changed` were edited, added or removed, when every one of
    them is a Markdown or HTML post beside other posts of a `_posts/` folder (what `blog
    serve` sees on most saves): only those files are read again. None when the change is more
    than that (a page, a static file, a new posts folder, a post that conflicts with another
    file) or a future post has come due: then the site must be gathered again."""
    now = now or datetime.now(config.tz)
    due = gathered.next_publication
    if due is not None and now >= due:
        return None  # which future post came due is known only to a whole gathering
    entries = EntryFilter.of(config.source, config.include, config.exclude)
    by_rel = {post.rel: post for post in gathered.posts}
    folders = {_posts_folder(post.rel) for post in gathered.posts}
    reread: list[Post] = []
    source = config.source.absolute()
    for changed_path in changed:
        try:
            rel = changed_path.absolute().relative_to(source).as_posix()
        except ValueError:
            return None
        path = config.source / rel  # as a whole gathering names it
        folder = _posts_folder(rel)
        if folder is None or folder not in folders or path.suffix.lower() not in RENDERED_SUFFIXES:
            return None
        by_rel.pop(rel, None)
        inner = rel[len(folder) + 1:]
        if not path.is_file() or any(part.startswith(".") for part in inner.split("/")):
            continue  # removed (or renamed away), or never a post
        if not entries.keeps(inner, rel) or _leaves_source(path, config.source):
            continue
        root = folder.rpartition("/")[0]
        read = _read_post(path, rel, config.source / folder, root, config, now)
        if isinstance(read, Page):
            return None
        if isinstance(read, Post):
            reread.append(read)
    posts, future = _published(config, [*by_rel.values(), *reread], now)
    if future:
        return None  # how many future posts are skipped is counted by a whole gathering
    # (A future post edited or removed may leave the next date early: then a whole gathering
    # happens at that time, which is only slower.)
    writers = [p.output_path for p in gathered.pages] + [unquote(rel) for rel in gathered.static]
    taken = set(writers)
    outputs = [post.output_path for post in posts]
    if len(set(outputs)) != len(outputs) or taken.intersection(outputs):
        return None  # two files writing one URL: the whole site decides which one wins
    return Gathered(posts, list(gathered.pages), list(gathered.static), due, gathered.future_skipped)


def _posts_folder(rel: str) -> str | None:
    """The `_posts` (or `_drafts`) folder, relative to the source, that holds the file `rel`
    (at any depth below it): "a/_posts/x/b.md" -> "a/_posts"."""
    parts = rel.split("/")[:-1]
    for index in range(len(parts) - 1, -1, -1):
        if parts[index] in ("_posts", "_drafts"):
            return "/".join(parts[:index + 1])
    return None


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


def new_post(source: Path, title: str, day: date, lang: str = "vi", *, draft: bool = True,
             slug: str | None = None) -> Path:
    """Create a draft `_drafts/<slug>.md` (as Jekyll and jekyll-compose keep drafts: built
    only with --drafts, dated when moved to `_posts/`), or with `draft=False` the post
    `_posts/<date>-<slug>.md`, with front matter and the theme's example body (in `lang`);
    never overwrites."""
    made = file_slug(slug if slug is not None else title)
    if not made:
        what = f"--slug {slug!r}" if slug is not None else f"the title {title!r}"
        raise BuildError(f"{what} has no letters or digits to make a file name from; give one with --slug")
    _require_site(source)
    if draft:
        path = source / "_drafts" / f"{made}.md"
    else:
        path = source / "_posts" / f"{day.isoformat()}-{made}.md"
    if path.exists():
        kind = "a draft with this title" if draft else "a post with this date and title"
        raise BuildError(f"{kind} already exists; nothing was changed", path)
    front = yaml.safe_dump({"layout": "post", "title": nfc(title), "categories": [],
                            "mathjax": False}, allow_unicode=True, sort_keys=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as f:  # "x": fail rather than overwrite, even in a race
        f.write(f"---\n{front}---\n\n{strings.table(lang)['new_post_body']}")
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
