"""Lists of posts split into pages, as jekyll-paginate splits them, and the archive by year.

`paginate: N` in `_config.yml` puts N posts on each page (default 10; `false`: all on one).
Page 1 is the list's own page (the home page `/`, a category's `/category/<slug>/`); page N
lives at `paginate_path` with `:num` replaced by N (Jekyll's default `/page:num` gives
`/page2/`), and a category's pages follow the same path inside its own folder
(`/category/<slug>/page2/`). Like jekyll-paginate, the home list leaves out posts whose front
matter says `hidden: true` (they are still built, in categories, the archive and the feed).
Templates get Jekyll's `paginator` fields: `page`, `per_page`, `posts`, `total_posts`,
`total_pages`, `previous_page`, `previous_page_path`, `next_page`, `next_page_path`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

from builder.model import Post

WINDOW = 2  # numbered links shown on each side of the current page (plus the first and the last)


@dataclass(frozen=True)
class PageLink:
    """One item of the numbered links: a page, or a gap (`number` 0) between distant ones."""

    number: int
    path: str = ""
    current: bool = False


@dataclass(frozen=True)
class Paginator:
    """One page of a list of posts (site paths, without baseurl)."""

    page: int
    per_page: int
    posts: tuple[Post, ...]
    total_posts: int
    paths: tuple[str, ...]  # every page's path; paths[0] is page 1, the list's own page

    @property
    def total_pages(self) -> int:
        return len(self.paths)

    @property
    def path(self) -> str:
        return self.paths[self.page - 1]

    @property
    def previous_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.total_pages else None

    @property
    def previous_page_path(self) -> str | None:
        return self.paths[self.page - 2] if self.previous_page else None

    @property
    def next_page_path(self) -> str | None:
        return self.paths[self.page] if self.next_page else None

    @property
    def output_path(self) -> str:
        """The file this page is written to, relative to the destination."""
        return self.path.lstrip("/") + "index.html"

    def links(self, window: int = WINDOW) -> list[PageLink]:
        """Numbered links: the first and last pages, those within `window` of this one, and a
        gap wherever numbers are left out (1 … 4 5 [6] 7 8 … 100)."""
        shown = sorted({1, self.total_pages} | set(range(max(1, self.page - window),
                                                         min(self.total_pages, self.page + window) + 1)))
        links: list[PageLink] = []
        for number in shown:
            if links and number - links[-1].number == 2:  # a gap of one page: show the page itself
                links.append(PageLink(number - 1, self.paths[number - 2]))
            elif links and number - links[-1].number > 2:
                links.append(PageLink(0))
            links.append(PageLink(number, self.paths[number - 1], number == self.page))
        return links


def page_path(first: str, paginate_path: str, number: int) -> str:
    """The path of page `number` of the list whose first page is `first` (a folder path)."""
    if number <= 1:
        return first
    return first.rstrip("/") + paginate_path.replace(":num", str(number))


def paginate(posts: Sequence[Post], per_page: int, first: str, paginate_path: str) -> list[Paginator]:
    """The pages of `posts` (newest first): always at least one, empty for no posts."""
    size = per_page if per_page > 0 else max(len(posts), 1)
    count = max(1, math.ceil(len(posts) / size))
    paths = tuple(page_path(first, paginate_path, n) for n in range(1, count + 1))
    return [Paginator(n, size, tuple(posts[(n - 1) * size:n * size]), len(posts), paths)
            for n in range(1, count + 1)]


def home_posts(posts: Sequence[Post]) -> list[Post]:
    """What the home list shows: every post but those marked `hidden: true` (jekyll-paginate)."""
    return [post for post in posts if post.front.get("hidden") is not True]


@dataclass(frozen=True)
class Year:
    year: int
    posts: tuple[Post, ...]


def by_year(posts: Sequence[Post]) -> list[Year]:
    """The archive: posts grouped by the year of their date, newest first."""
    return [Year(year, tuple(group)) for year, group in groupby(posts, key=lambda post: post.date.year)]
