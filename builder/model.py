"""Every value the stages pass to each other, and nothing else.

The model imports only the standard library and `config`; stages import the model, never the
other way round. Values are frozen dataclasses: a stage returns new values instead of changing
the ones it was given (a rendered document is a copy of the read one with its `rendered` set).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from builder.config import Config

# What "now" is for a build: the system clock, or a fixed one in tests (no sleeping).
Clock = Callable[[tzinfo], datetime]


def system_clock(tz: tzinfo) -> datetime:
    return datetime.now(tz)


# --- documents ---------------------------------------------------------------------------------

# The files that are rendered as documents (Markdown and HTML): a post's or page's own extension.
RENDERED_SUFFIXES = (".md", ".markdown", ".html")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


@dataclass(frozen=True)
class Rendered:
    """A document's body after Liquid and Markdown."""

    html: str
    headings: tuple[Heading, ...] = ()
    has_math: bool = False
    excerpt: str = ""  # plain text
    words: int = 0
    images: tuple[str, ...] = ()  # site paths of local images the body shows
    placeholder_alts: tuple[tuple[str, str], ...] = ()  # (src, alt) of images without real alt text
    math_css: tuple[str, ...] = ()  # stylesheet rules of the characters its typeset math uses

    @property
    def reading_minutes(self) -> int:
        # About 200 words a minute for Vietnamese prose (syllable-words are short).
        return max(1, round(self.words / 200))


@dataclass(frozen=True)
class Document:
    """What posts and pages share: a source file with front matter and a body, and, once the
    render stage has run, its rendered body."""

    source: Path  # absolute path of the file
    rel: str  # path relative to the site source, with forward slashes
    front: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the source file where `body` starts
    url: str  # site path without baseurl, e.g. "/2018/06/28/slug/"
    title: str
    output: str = ""  # the output file when the URL alone does not say it ("/x" -> "x.html")
    rendered: Rendered | None = field(default=None, compare=False, repr=False)

    @property
    def is_markdown(self) -> bool:
        return self.source.suffix.lower() in (".md", ".markdown")

    @property
    def output_path(self) -> str:
        """Output file relative to the destination, e.g. "2018/06/28/slug/index.html"."""
        if self.output:
            return self.output
        path = unquote(self.url.lstrip("/"))  # "/computer%20vision/x/" is the folder "computer vision"
        if not path or path.endswith("/"):
            path += "index.html"
        return path

    @property
    def content(self) -> str:
        """The rendered body's HTML (Jekyll's `content`); empty before rendering."""
        return self.rendered.html if self.rendered else ""


@dataclass(frozen=True)
class Post(Document):
    name: str = ""  # "2018-06-28-slug" (with sub-folder, if any): what post_url names
    slug: str = ""
    date: datetime | None = None
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""
    background: str = ""


@dataclass(frozen=True)
class Page(Document):
    pass


@dataclass(frozen=True)
class Gathered:
    """What the content stage found: documents not yet rendered, and the files copied as they are."""

    posts: list[Post]  # newest first
    pages: list[Page]
    static: list[str]  # paths relative to the source
    next_publication: datetime | None  # when the earliest future-dated post becomes due
    future_skipped: int = 0  # future-dated posts left out (no --future)


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    posts: tuple[Post, ...]

    @property
    def url(self) -> str:
        return f"/category/{self.slug}/"


@dataclass(frozen=True)
class LinkTables:
    """What `post_url` and `link` resolve against: every post and file of the site."""

    post_urls: dict[str, str]  # "2018-06-28-slug" -> "/2018/06/28/slug/"
    file_urls: dict[str, str]  # "about.md" / "assets/x.png" -> its URL
    site_includes: Path


# --- figures and images --------------------------------------------------------------------------


@dataclass(frozen=True)
class FigureSettings:
    figures_dir: Path
    cache_dir: Path
    quick: bool = False
    device: str | None = None  # None: cuda, else mps, else cpu


@dataclass(frozen=True)
class Figure:
    """A figure script as declared, before it runs."""

    name: str  # script stem, e.g. "max_pooling"
    script: Path
    outputs: dict[str, str]  # site path -> alt text
    seed: int
    helpers: tuple[Path, ...]  # local modules it imports, directly or not
    key: str = ""
    bars: dict[str, float] = field(default_factory=dict)  # metric -> minimum (a list: each element)
    quick_bars: dict[str, float] = field(default_factory=dict)
    reproducible: bool = True  # False for measurements (timings): outputs differ run to run

    def bars_for(self, quick: bool) -> dict[str, float]:
        return self.quick_bars if quick else self.bars


@dataclass(frozen=True)
class FigureRecord:
    """How one figure was made: an entry of the manifest, published in `figures.json`. The
    fields are in the order the JSON shows them."""

    name: str
    script: str  # "figures/max_pooling.py"
    key: str
    outputs: list[str]
    device: str
    seconds: float
    cpu_seconds: float  # all threads; tells load from work
    peak_memory_mb: float
    seed: int
    quick: bool
    versions: dict[str, str]
    created: str
    metrics: dict[str, Any]
    images: dict[str, dict[str, Any]]  # site path -> width, height, what the checks measured
    notes: list[str]
    sha256: dict[str, str]  # site path -> sha256 of the output

    def to_json(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FigureRecord:
        """A record as stored; a missing or unknown field is a TypeError (an unreadable manifest)."""
        return cls(**data)

    def size_of(self, path: str) -> tuple[int, int]:
        size = self.images.get(path, {})
        return size.get("width", 0), size.get("height", 0)


@dataclass(frozen=True)
class Source:
    """One `<source>` of a `<picture>`; `srcset` holds site paths (no baseurl)."""

    mime: str
    srcset: str
    media: str = ""
    sizes: str = ""
    width: int = 0  # the aspect of what this source shows (art direction: a wide layout differs)
    height: int = 0

    def with_base(self, baseurl: str) -> str:
        return ", ".join(f"{baseurl}{entry}" for entry in self.srcset.split(", "))


@dataclass(frozen=True)
class Rendition:
    """One drawing of a figure, as the figure worker wrote it (paths are site paths)."""

    layout: str  # "body" or "wide"
    scheme: str  # "light" or "dark"
    width: int
    height: int
    raster: str
    raster_file: Path
    raster_sha256: str
    svg: str = ""
    svg_file: Path | None = None


@dataclass(frozen=True)
class Choice:
    """Which format a rendition is published as, and the bytes that decided it."""

    layout: str
    scheme: str
    svg_bytes: int  # as written
    svg_gzip_bytes: int  # as a reader receives it
    avif_bytes: int  # at the compared width
    webp_bytes: int
    jpeg_bytes: int  # the fallback at full size
    chosen: str  # "svg" or "raster"


@dataclass(frozen=True)
class Responsive:
    """One image and its variants: what `<picture>` needs."""

    width: int
    height: int
    sources: tuple[Source, ...] = ()  # in the order `<picture>` tries them (the first match wins)
    files: dict[str, Path] = field(default_factory=dict)  # variant site path -> cached file
    choices: tuple[Choice, ...] = ()
    wide: bool = False  # a wide layout is offered from 40rem up

    def srcset(self, mime: str, baseurl: str) -> str:
        """The srcset of the first source of that type offered without a media condition."""
        return next(s.with_base(baseurl) for s in self.sources if s.mime == mime and not s.media)


@dataclass(frozen=True)
class Provenance:
    """How a generated image was made; the theme turns it into the small note under the image
    (`note`, its HTML, is filled in by the theme)."""

    script: str  # "figures/max_pooling.py"
    href: str  # where the script's source can be read
    device: str
    seconds: float
    alt: str
    width: int = 0
    height: int = 0
    # <picture>'s sources in order: (MIME type, srcset, media, sizes, width, height)
    sources: tuple[tuple[str, str, str, str, int, int], ...] = ()
    wide: bool = False  # a wide layout is offered from 40rem up (theme.css: picture.wide)
    note: str = ""  # the note's HTML, from the theme's _provenance.html

    @property
    def name(self) -> str:
        """The figure's name, as `blog figures NAME` takes it."""
        return self.script.rsplit("/", 1)[-1].removesuffix(".py")


@dataclass(frozen=True)
class FigureSet:
    """Generated files available to the site, and how each was made."""

    files: dict[str, Path] = field(default_factory=dict)  # site path -> cached file
    records: dict[str, FigureRecord] = field(default_factory=dict)  # site path -> its figure's record
    figures: tuple[Figure, ...] = ()
    ran: int = 0
    cached: int = 0
    failed: int = 0
    seconds: float = 0.0
    device: str = ""

    def published(self) -> list[FigureRecord]:
        """The records of the site's figures, one per figure, by name."""
        by_name = {record.name: record for record in self.records.values()}
        return [by_name[name] for name in sorted(by_name)]

    def responsive_inputs(self) -> dict[str, tuple[Path, int, int, str]]:
        """Site path -> (file, width, height, sha256) of every generated JPEG: what gets
        AVIF and WebP variants. The manifest's sha256 (checked by the figure cache) is reused."""
        jpegs = {}
        for path, file in self.files.items():
            width, height = self.records[path].size_of(path)
            if path.lower().endswith((".jpg", ".jpeg")) and width:
                jpegs[path] = (file, width, height, self.records[path].sha256[path])
        return jpegs

    def renditions(self) -> dict[str, list[Rendition]]:
        """Site path -> the drawings of a drawn figure (light and dark, body and wide), as its
        record lists them; the files lie beside the figure's cached output."""
        found = {}
        for path, file in self.files.items():
            folder = file.parents[len(Path(path.lstrip("/")).parts) - 1]
            drawn = []
            for item in self.records[path].images.get(path, {}).get("renditions", []):
                hashes, svg = item.get("sha256", {}), item.get("svg", "")
                drawn.append(Rendition(item["layout"], item["scheme"], item["width"], item["height"],
                                       item["raster"], folder / item["raster"].lstrip("/"),
                                       hashes.get(item["raster"], ""), svg,
                                       folder / svg.lstrip("/") if svg else None))
            if drawn:
                found[path] = drawn
        return found

    def provenance(self, baseurl: str, images: dict[str, Responsive]) -> dict[str, Provenance]:
        """Image URL -> how it was made (and its variants), for every generated image."""
        alts = {path: alt for figure in self.figures for path, alt in figure.outputs.items()}
        notes = {}
        for path, record in self.records.items():
            width, height = record.size_of(path)
            variants = images.get(path)
            sources = tuple((s.mime, s.with_base(baseurl), s.media, s.sizes, s.width, s.height)
                            for s in variants.sources) if variants else ()
            notes[baseurl + path] = Provenance(
                script=record.script, href=baseurl + "/" + record.script, device=record.device,
                seconds=record.seconds, alt=alts.get(path, ""), width=width, height=height, sources=sources,
                wide=bool(variants and variants.wide))
        return notes


@dataclass(frozen=True)
class MetricRow:
    """One number a figure script reported, and the bar it must reach if it declares one."""

    name: str
    value: Any  # a number, a text, a list of numbers, or None
    bar: float | None = None  # the minimum (for a list: of every element); None: only reported
    met: bool | None = None  # None: no bar

    @property
    def lowest(self) -> Any:
        """What is held against the bar: the value, or a list's smallest element."""
        if isinstance(self.value, list):
            return min(self.value, default=None)
        return self.value


@dataclass(frozen=True)
class FigureEntry:
    """One figure on the figures page: how it was made, what it measured, where it is shown."""

    record: FigureRecord
    href: str  # the published script, with baseurl
    source_html: str  # the script highlighted by Pygments
    source_lines: int
    pictures: tuple[tuple[str, Provenance], ...]  # (image URL with baseurl, how it is offered)
    bars: tuple[MetricRow, ...]  # the metrics the script declares bars for, in the bars' order
    reported: tuple[MetricRow, ...]  # the other metrics short enough to show
    more_metrics: bool  # some metrics (tables, network layouts) are only in figures.json
    posts: tuple[Post, ...]  # the posts that show one of its images (body or background)

    @property
    def name(self) -> str:
        return self.record.name


@dataclass(frozen=True)
class Verification:
    name: str
    mean_difference: float | None  # mean |Δ| per pixel and channel, 0-255; None: nothing cached
    max_difference: float | None
    problems: tuple[str, ...]
    reproducible: bool

    @property
    def ok(self) -> bool:
        return not self.problems


# --- math ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MathPage:
    """A document's body after Markdown, and where it came from (for warnings)."""

    source: Path
    body: str  # the source text the body was made from
    body_line: int
    html: str


@dataclass(frozen=True)
class TypesetPage:
    html: str
    css: tuple[str, ...]  # stylesheet rules for the characters its formulas use
    warnings: tuple[str, ...]


# --- the site and the build ----------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """Everything gathered and rendered, before anything is written."""

    config: Config
    posts: tuple[Post, ...]  # newest first, rendered
    pages: tuple[Page, ...]  # rendered
    static_files: tuple[str, ...]  # paths relative to the source
    categories: tuple[Category, ...] = ()
    figures: FigureSet = field(default_factory=FigureSet)
    images: dict[str, Responsive] = field(default_factory=dict)  # generated JPEGs and their variants
    next_publication: datetime | None = None  # a future-dated post becomes due then
    now: datetime | None = None  # when it was built (the footer's year)
    future_skipped: int = 0  # future-dated posts left out (no --future)

    @property
    def documents(self) -> tuple[Document, ...]:
        return (*self.posts, *self.pages)

    @property
    def has_typeset_math(self) -> bool:
        """Some page carries math typeset at build time (it needs MathJax's stylesheet and fonts)."""
        return self.config.math_render == "build" and any(
            doc.rendered is not None and doc.rendered.has_math for doc in self.documents)


@dataclass(frozen=True)
class SiteFiles:
    """Everything the destination will hold that the build made or copies, by output path."""

    # made: pages, feeds, stylesheets, records; a page may be text made when it is written
    texts: dict[str, str | Callable[[], str]]
    copies: dict[str, Path]  # copied as they are: static files, theme assets, figures, variants


@dataclass(frozen=True)
class BuildState:
    """What the last build of a destination made (see builder/state.py)."""

    fingerprint: str
    files: dict[str, list]  # output -> [sha256, size, mtime_ns]: what makes the destination ours
    warnings: tuple[str, ...]
    posts: int
    pages: int
    static: int
    valid_until: datetime | None  # a future-dated post comes due then
    future_skipped: int = 0  # future-dated posts left out


@dataclass
class WriteReport:
    """What writing the site did."""

    written: int = 0
    removed: int = 0  # files we wrote earlier that no output claims any more
    unchanged: int = 0
    moved: list[str] = field(default_factory=list)  # files of someone else's, moved to `trash`
    trash: Path | None = None
    fresh: bool = False  # a new folder was swapped in (the destination was missing or empty)
    state: dict[str, Any] = field(default_factory=dict)  # output -> [sha256, size, mtime_ns]


@dataclass(frozen=True)
class BuildResult:
    posts: int
    pages: int  # HTML pages besides the posts
    static: int  # files copied as they are
    written: int  # files written this time (0: nothing changed)
    warnings: tuple[str, ...]
    seconds: float
    figures: FigureSet
    site: Site | None = None  # None when nothing changed and nothing was rendered
    moved: tuple[str, ...] = ()  # files we did not write (or edited by hand), moved aside to `trash`
    trash: Path | None = None
    future_skipped: int = 0  # future-dated posts left out (no --future)
    files: dict[str, list] | None = None  # what was written: output path -> [sha256, size, mtime_ns]
