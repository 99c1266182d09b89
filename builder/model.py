"""The small data model passed between stages as values."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from builder.config import Config
from builder.figures import FigureSet
from builder.images import Responsive


@dataclass(frozen=True)
class Document:
    """What posts and pages share: a source file with front matter and a body."""

    source: Path  # absolute path of the file
    rel: str  # path relative to the site source, with forward slashes
    front: dict[str, Any]
    body: str
    body_line: int  # 1-based line of the source file where `body` starts
    url: str  # site path without baseurl, e.g. "/2018/06/28/slug/"
    title: str
    output: str = ""  # the output file when the URL alone does not say it ("/x" -> "x.html")

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

    @property
    def reading_minutes(self) -> int:
        # About 200 words a minute for Vietnamese prose (syllable-words are short).
        return max(1, round(self.words / 200))


@dataclass(frozen=True)
class Category:
    name: str
    slug: str
    posts: tuple[Post, ...]

    @property
    def url(self) -> str:
        return f"/category/{self.slug}/"


@dataclass(frozen=True)
class Site:
    """Everything gathered before anything is written."""

    config: Config
    posts: tuple[Post, ...]  # newest first
    pages: tuple[Page, ...]
    static_files: tuple[str, ...]  # paths relative to the source
    categories: tuple[Category, ...] = ()
    rendered: dict[str, Rendered] = field(default_factory=dict)  # by document rel path
    figures: FigureSet = field(default_factory=FigureSet)
    images: dict[str, Responsive] = field(default_factory=dict)  # generated JPEGs and their variants
    next_publication: datetime | None = None  # a future-dated post becomes due then
