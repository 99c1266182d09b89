from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import load_config
from builder.content import gather
from tests.helpers import post


def posts_of(source: Path, **overrides):
    return gather(load_config(source, **overrides)).posts


def test_front_matter_fields(tmp_site) -> None:
    source = tmp_site({"_posts/2018-06-28-a.md": (
        "---\ntitle: A\ncategories: Computer-Vision deep\ntags: [x, y]\n"
        "background: '/images/b.jpg '\n---\nBody\n")})
    (a,) = posts_of(source)
    assert a.categories == ("Computer-Vision", "deep") and a.tags == ("x", "y")
    assert a.background == "/images/b.jpg"
    assert a.body == "Body\n" and a.body_line == 7
    assert a.date.isoformat() == "2018-06-28T00:00:00+07:00"


@pytest.mark.parametrize("permalink, url", [
    ("/:year/:month/:day/:title/", "/2018/06/08/a-b/"),
    ("pretty", "/tich-chap/2018/06/08/a-b/"),
    ("date", "/tich-chap/2018/06/08/a-b.html"),
    ("none", "/tich-chap/a-b.html"),
    ("/:categories/:i_month-:i_day-:short_year/:slug", "/tich-chap/6-8-18/a-b"),
])
def test_permalink_placeholders_and_styles(tmp_site, permalink: str, url: str) -> None:
    source = tmp_site({"_posts/2018-06-08-a-b.md": post(categories="[Tích chập]")},
                      config=f"permalink: {permalink}\n")
    assert posts_of(source)[0].url == url


def test_front_matter_date_and_permalink_override(tmp_site) -> None:
    source = tmp_site({"_posts/2018-06-08-a.md": post(date="2018-06-09 10:30:00 +0000"),
                       "_posts/2018-06-07-b.md": post(permalink="/rieng/")})
    a, b = posts_of(source)
    # The same instant, placed in the site's time zone (Asia/Ho_Chi_Minh) as Jekyll places it.
    assert a.date.isoformat() == "2018-06-09T17:30:00+07:00"
    assert b.url == "/rieng/"


def test_nfc_output_from_nfd_input(tmp_site) -> None:
    import unicodedata

    title = unicodedata.normalize("NFD", "Tiếng Việt")
    source = tmp_site({"_posts/2018-06-08-a.md": post(title)})
    assert posts_of(source)[0].title == unicodedata.normalize("NFC", "Tiếng Việt")


def test_pages_static_files_and_exclusions(tmp_site) -> None:
    source = tmp_site({"about.md": post("Giới thiệu"), "docs/index.md": post("Docs"),
                       "raw.md": "no front matter", "css/x.css": "", ".hidden": "", "_notes/x.md": "",
                       "Gemfile": "", "drop/me.txt": ""}, config="exclude: [drop]\n")
    gathered = gather(load_config(source))
    pages, static = gathered.pages, gathered.static
    assert [(p.rel, p.url) for p in pages] == [("about.md", "/about.html"), ("docs/index.md", "/docs/")]
    assert static == ["css/x.css", "raw.md"]


def test_the_walk_below_posts_lists_what_rglob_lists_in_its_order(tmp_path: Path) -> None:
    """`entries.tree` (one `scandir` a folder) stands in for `Path.rglob("*")` plus `is_file`:
    the same files, in the same order, links to folders listed but not entered."""
    from builder.entries import is_file, tree

    folder = tmp_path / "_posts"
    for rel in ("a-b.md", "a/x.md", "a/b/y.md", "a.b/z.md", ".hidden/h.md", ".h.md", "B/c.md", "b/d.md",
                "2020-01-01-q.markdown", "sub/2020-01-02-r.md"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("x")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "e.md").write_text("x")
    (folder / "linked-folder").symlink_to(tmp_path / "elsewhere")
    (folder / "linked-file.md").symlink_to(tmp_path / "elsewhere" / "e.md")
    (folder / "broken.md").symlink_to(tmp_path / "nowhere.md")
    (folder / "loop.md").symlink_to(folder / "loop.md")
    expected = [p.relative_to(folder).parts for p in sorted(folder.rglob("*")) if p.is_file()]
    listed = [parts for parts, entry in tree(folder) if is_file(entry)]
    assert listed == expected and ("a", "b", "y.md") in listed and ("linked-file.md",) in listed
    every = [p.relative_to(folder).parts for p in sorted(folder.rglob("*"))]
    assert [parts for parts, _ in tree(folder)] == every
    assert tree(tmp_path / "missing") == []


def test_posts_are_listed_without_a_stat_each_and_read_once(tmp_site, monkeypatch) -> None:
    """A build reads each post's and page's file once (the fingerprint's bytes are what is
    gathered) and asks the disk nothing else about a post: a blog has thousands of them. A
    read is a `Path.read_bytes` or an `open` of the file by its name (as the fingerprint reads)."""
    import builtins
    import os

    from builder import build
    from builder.config import load_config

    source = tmp_site({f"_posts/2020-01-{day:02d}-p.md": post(f"P{day}") for day in range(1, 6)}
                      | {"about.md": post("Giới thiệu")})
    asked: list[tuple[str, str]] = []
    for name in ("stat", "lstat", "read_bytes"):
        original = getattr(Path, name)

        def spy(self, *args, _name=name, _original=original, **kwargs):
            if self.suffix == ".md" and ("_posts" in self.parts or _name == "read_bytes"):
                asked.append((_name, self.name))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Path, name, spy)
    real_open = builtins.open

    def opening(file, *args, **kwargs):
        if isinstance(file, str) and file.endswith(".md"):
            asked.append(("read_bytes", os.path.basename(file)))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", opening)
    result = build.build(load_config(source, destination=source.parent / "out"))
    assert result.posts == 5
    assert sorted(asked) == sorted([("read_bytes", f"2020-01-{day:02d}-p.md") for day in range(1, 6)]
                                   + [("read_bytes", "about.md")])
