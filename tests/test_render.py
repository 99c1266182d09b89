"""The render stage: Jekyll's `site` and `page` variables, the link tables, Liquid then
Markdown per document, cached by everything a body depends on."""

from __future__ import annotations

import dataclasses
import logging
import marshal
import shutil
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from builder import content, render, store
from builder.config import load_config
from builder.model import FigureSet, Heading, Rendered
from tests.helpers import post, write_files

CONFIG = "title: Blog thử\nurl: https://x.io\nriêng: có\n"


def gathered(source: Path):
    config = load_config(source)
    return config, content.gather(config, datetime(2024, 1, 1, tzinfo=UTC))


def site(tmp_path: Path, files: dict[str, str]) -> Path:
    return write_files(tmp_path / "site_src", {"_config.yml": CONFIG, **files})


def test_site_variables_are_the_config_plus_what_jekyll_adds(tmp_path: Path) -> None:
    config, found = gathered(site(tmp_path, {"_posts/2020-01-01-a.md": post("A", categories="[Học máy]")}))
    variables = render.site_variables(config, found.posts)
    assert variables["title"] == "Blog thử" and variables["riêng"] == "có"
    assert [p["title"] for p in variables["posts"]] == ["A"]
    assert [p["url"] for p in variables["categories"]["Học máy"]] == ["/2020/01/01/a/"]
    assert datetime.strptime(variables["time"], "%Y-%m-%dT%H:%M:%S%z")


def test_page_variables_and_link_tables(tmp_path: Path) -> None:
    config, found = gathered(site(tmp_path, {"_posts/2020-01-01-a.md": post("A", tags="x y"),
                                             "about.md": post("Giới thiệu"), "css/a.css": ""}))
    (a,) = found.posts
    variables = render.page_variables(a)
    assert (variables["title"], variables["url"], variables["tags"], variables["slug"], variables["id"]) == \
        ("A", "/2020/01/01/a/", ["x", "y"], "a", "/2020/01/01/a")
    tables = render.link_tables(config, found)
    assert tables.post_urls == {"2020-01-01-a": "/2020/01/01/a/"}
    assert tables.file_urls["about.md"] == "/about.html" and tables.file_urls["css/a.css"] == "/css/a.css"


def test_documents_come_back_with_their_bodies_attached(tmp_path: Path) -> None:
    config, found = gathered(site(tmp_path, {
        "_posts/2020-01-01-a.md": post("A", "## Tích chập\n\n{{ site.title }}"),
        "about.md": post("Giới thiệu", "[A]({% post_url 2020-01-01-a %})")}))
    posts, pages = render.render_site(config, found, FigureSet(), {})
    assert posts[0].rendered.headings[0].id == "tich-chap" and "<p>Blog thử</p>" in posts[0].content
    assert '<a href="/2020/01/01/a/">A</a>' in pages[0].content
    assert found.posts[0].rendered is None  # the read documents are left as they were


def test_a_cached_body_is_reused_until_something_it_depends_on_changes(tmp_path: Path, caplog,
                                                                     monkeypatch) -> None:
    caplog.set_level(logging.INFO, logger="builder.render")
    source = site(tmp_path, {"_posts/2020-01-01-a.md": post("A", "{{ site.title }}"),
                             "_posts/2020-01-02-b.md": post("B", "Không dùng biến nào.")})

    def rendered_count() -> str:
        caplog.clear()
        config, found = gathered(source)
        render.render_site(config, found, FigureSet(), {})
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("rendered")]
        return lines[0].split(" in ")[0] if lines else "none"

    assert rendered_count() == "rendered 2 of 2 documents"
    assert rendered_count() == "none"
    write_files(source, {"_config.yml": CONFIG.replace("Blog thử", "Nhật ký")})
    assert rendered_count() == "rendered 1 of 2 documents"  # only the post naming site.title
    monkeypatch.setattr(store, "code_version", lambda: "another builder")
    assert rendered_count() == "rendered 2 of 2 documents"


@pytest.mark.parametrize("tag", ["post_url 2020-01-01-a", "link _posts/2020-01-01-a.md"])
def test_a_link_made_inside_a_liquid_tag_follows_the_post_it_names(tmp_path: Path, tag: str) -> None:
    """`{% liquid %}` holds tags one per line, without their `{%`: a post_url or link there
    makes the link tables part of the key, as anywhere else (the cached body kept the old
    URL after the linked post moved)."""
    source = site(tmp_path, {"_posts/2020-01-01-a.md": post("A", "Một."),
                             "_posts/2020-01-02-b.md": post("B", f"{{% liquid\necho 'Xem: '\n{tag}\n%}}"),
                             "_posts/2020-01-03-c.md": post("C", f"{{% liquid {tag} %}}")})

    def bodies() -> list[str]:
        config, found = gathered(source)
        posts, _ = render.render_site(config, found, FigureSet(), {})
        return [p.content for p in posts if p.slug != "a"]

    assert bodies() == ["<p>/2020/01/01/a/</p>", "<p>Xem: /2020/01/01/a/</p>"]
    write_files(source, {"_posts/2020-01-01-a.md": post("A", "Một.", permalink="/mot/")})
    assert bodies() == ["<p>/mot/</p>", "<p>Xem: /mot/</p>"]


def test_a_post_linking_inside_a_liquid_tag_waits_for_the_whole_site(tmp_path: Path, monkeypatch,
                                                                      handed: list) -> None:
    """Its link needs the whole site: it is not rendered while the site is read (where it
    failed, and was then rendered again in this process, alone)."""
    from builder import build

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 7)}
    linking = "{% liquid\necho 'Xem '\npost_url 2020-01-01-bai-1\n%}"
    posts["_posts/2020-01-07-lien-ket.md"] = post("Liên kết", linking)
    config = load_config(site(tmp_path, posts))
    build.build(config)
    assert [rel for rel, reading in handed if not reading] == ["_posts/2020-01-07-lien-ket.md"]
    page = (config.destination / "2020/01/07/lien-ket/index.html").read_text(encoding="utf-8")
    assert "<p>Xem /2020/01/01/bai-1/</p>" in page


def test_cache_entries_are_versioned_records(tmp_path: Path) -> None:
    config, found = gathered(site(tmp_path, {"_posts/2020-01-01-a.md": post("A")}))
    render.render_site(config, found, FigureSet(), {})
    with store.KeyedCache(config.cache_dir / "render" / "documents.sqlite") as cache:
        ((key, entry),) = cache.connection.execute("SELECT key, value FROM entry").fetchall()
        version, fields, _, _ = marshal.loads(entry)
        assert version == render.CACHE_FORMAT and fields[0] == "<p>Nội dung.</p>"
        for damaged in ("{hỏng", "hỏng".encode(), marshal.dumps((render.CACHE_FORMAT, (), [], {})),
                        marshal.dumps((render.CACHE_FORMAT, fields, [], "not sizes")), entry[:-5]):
            cache.put_many([(key, damaged)])  # a damaged entry is a miss, not a failure
            posts, _ = render.render_site(config, found, FigureSet(), {})
            assert posts[0].content == "<p>Nội dung.</p>"


def test_a_cache_entry_gives_back_every_field_of_what_was_rendered() -> None:
    values = {"html": "<h2 id=\"a\">Á</h2>", "headings": (Heading(2, "a", "Á"),), "has_math": True,
              "excerpt": "Ý", "words": 7, "images": ("/images/a.png",),
              "placeholder_alts": (("/images/a.png", "image"),), "math_css": ("mjx-c{}",)}
    assert set(values) == {f.name for f in dataclasses.fields(Rendered)}  # a new field is stored too
    rendered = Rendered(**values)
    job = SimpleNamespace(config=SimpleNamespace(baseurl="", source=Path("/nowhere")))
    key, entry = render._encode("k", rendered, ["a warning"], {})
    assert render._entry(entry, job) == (rendered, ["a warning"], {})


def test_an_image_no_file_provides_is_a_warning(tmp_path: Path, caplog) -> None:
    config, found = gathered(site(tmp_path, {"_posts/2020-01-01-a.md": post("A", "![x](/images/khong.png)",
                                                                            background="/images/nen.jpg"),
                                             "images/nen.jpg": "x"}))
    render.render_site(config, found, FigureSet(), {})
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"{found.posts[0].source}:5: image /images/khong.png: no file provides it"]


def test_entries_are_stored_as_the_workers_render(tmp_path: Path, monkeypatch, caplog) -> None:
    from builder import workers

    if workers.available(2, 2) < 2:
        pytest.skip("needs two cores and fork")
    caplog.set_level(logging.INFO, logger="builder.render")
    monkeypatch.setattr(render, "PARALLEL_MIN", 2)
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Bài số {n} của {{{{ site.title }}}}.")
             for n in range(1, 11)}
    config, found = gathered(site(tmp_path, posts))
    first, _ = render.render_site(config, found, FigureSet(), {})
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["rendered 10 of 10 documents"]
    assert caplog.records[0].getMessage().endswith("(2 processes)")
    with store.KeyedCache(config.cache_dir / "render" / "documents.sqlite") as cache:
        assert cache.connection.execute("SELECT count(*) FROM entry").fetchone() == (10,)
    caplog.clear()
    again, _ = render.render_site(config, found, FigureSet(), {})  # every one from the cache
    assert not caplog.records
    assert [p.content for p in again] == [p.content for p in first]
    assert "<p>Bài số 7 của Blog thử.</p>" in [p.content for p in again]


def test_with_no_cache_the_workers_start_before_the_keys_are_computed(tmp_path: Path, monkeypatch) -> None:
    """A first build (no cache, nothing remembered) renders every document whatever its key,
    so the keys are hashed while the workers render; with a cache they decide what is rendered.
    Either way the entries stored are found by the next build."""
    from builder import workers

    if workers.available(2, 2) < 2:
        pytest.skip("needs two cores and fork")
    monkeypatch.setattr(render, "PARALLEL_MIN", 2)
    events: list[str] = []
    keys, forked = render._keys, workers.forked
    monkeypatch.setattr(render, "_keys", lambda *args: events.append("keys") or keys(*args))

    def forking(*args):
        events.append("workers")
        return forked(*args)

    monkeypatch.setattr(workers, "forked", forking)
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 5)}
    config, found = gathered(site(tmp_path, posts))
    render.render_site(config, found, FigureSet(), {})
    assert events == ["workers", "keys"]
    events.clear()
    write_files(config.source, {"_posts/2020-01-05-bai-5.md": post("Bài 5", "Số 5.")})
    config, found = gathered(config.source)
    (fifth, *_) = render.render_site(config, found, FigureSet(), {})[0]
    assert events == ["keys", "workers"] or events == ["keys"]  # one document left: rendered here
    assert "<p>Số 5.</p>" in fifth.content
    with store.KeyedCache(config.cache_dir / "render" / "documents.sqlite") as cache:
        assert cache.connection.execute("SELECT count(*) FROM entry").fetchone() == (5,)


def test_one_transaction_stores_what_is_left_after_the_last_document(tmp_path: Path, monkeypatch) -> None:
    """Entries are stored in batches while the workers render; what the last document leaves
    (its batch, and the bodies MathJax typesets after it) is stored in one transaction."""
    monkeypatch.setattr(render, "STORE_BATCH", 2)
    after_the_last: list[int] = []
    last_seen: list[bool] = []
    rendering, put_many = render._rendering, store.KeyedCache.put_many

    @contextmanager
    def watched(job, documents, *args):
        def counted(results):
            for number, item in enumerate(results, 1):
                if number == len(documents):
                    last_seen.append(True)
                yield item

        with rendering(job, documents, *args) as results:
            yield counted(results)

    def put(self, rows):
        rows = list(rows)
        if last_seen:
            after_the_last.append(len(rows))
        return put_many(self, rows)

    monkeypatch.setattr(render, "_rendering", watched)
    monkeypatch.setattr(store.KeyedCache, "put_many", put)
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 5)}
    config, found = gathered(site(tmp_path, posts))
    assert config.math_render == "build"
    render.render_site(config, found, FigureSet(), {})
    assert after_the_last == [2]
    with store.KeyedCache(config.cache_dir / "render" / "documents.sqlite") as cache:
        assert cache.connection.execute("SELECT count(*) FROM entry").fetchone() == (4,)


@pytest.fixture
def starts(monkeypatch) -> list:
    """What each call of `workers.start` returned (None: no workers), with 4 documents enough
    for workers; skipped where there are not two cores and fork."""
    from builder import workers

    if workers.available(2, 2) < 2:
        pytest.skip("needs two cores and fork")
    monkeypatch.setattr(render, "PARALLEL_MIN", 4)
    made: list = []
    start = workers.start
    monkeypatch.setattr(workers, "start", lambda *args: made.append(start(*args)) or made[-1])
    return made


def test_a_first_build_starts_its_workers_before_reading_the_posts(tmp_path: Path, monkeypatch,
                                                                   starts: list) -> None:
    """With no render cache every document will be rendered: the workers are forked first and
    set up Liquid and Markdown while this process reads the site. With a cache, what is
    rendered is decided first (most often one document, rendered here)."""
    from builder import build

    started_when_read: list[int] = []  # how many starts there had been when the posts were read
    gather = content.gather
    monkeypatch.setattr(content, "gather",
                        lambda *args: started_when_read.append(len(starts)) or gather(*args))
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Bài số {n} của {{{{ site.title }}}}.")
             for n in range(1, 7)}
    config = load_config(site(tmp_path, posts))
    build.build(config)
    assert started_when_read == [1] and starts[0] is not None
    page = (config.destination / "2020/01/06/bai-6/index.html").read_text(encoding="utf-8")
    assert "<p>Bài số 6 của Blog thử.</p>" in page
    write_files(config.source, {"_posts/2020-01-06-bai-6.md": post("Bài 6", "Đã sửa.")})
    build.build(config)
    assert started_when_read == [1, 1]  # none started the second time
    page = (config.destination / "2020/01/06/bai-6/index.html").read_text(encoding="utf-8")
    assert "<p>Đã sửa.</p>" in page


def test_a_first_build_in_workers_never_imports_markdown_or_liquid_here(tmp_path: Path) -> None:
    """The started workers import and set up Liquid and Markdown; this process only reads the
    site, stores what they send back and writes the pages (Pygments is the theme's: its CSS)."""
    from builder import workers

    if workers.available(2, 2) < 2:
        pytest.skip("needs two cores and fork")
    posts = {f"_posts/2020-02-{n % 28 + 1:02d}-b-{n}.md": post(f"Bài {n}", f"*Số* {n}: {{{{ site.title }}}}.")
             for n in range(render.PARALLEL_MIN + 2)}
    source = site(tmp_path, posts)
    code = ("import sys; from pathlib import Path; from builder import build; from builder.config import "
            "load_config; result = build.build(load_config(Path(sys.argv[1]))); "
            "print(result.posts, sorted(m for m in ('markdown', 'liquid', 'pymdownx') if m in sys.modules))")
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", code, str(source)], capture_output=True, text=True)
    assert done.stdout.split("\n")[0] == f"{render.PARALLEL_MIN + 2} []", done.stderr
    page = (tmp_path / "_site/2020/02/03/b-2/index.html").read_text(encoding="utf-8")
    assert "<p><em>Số</em> 2: Blog thử.</p>" in page


def test_a_first_build_in_workers_stops_at_the_first_broken_post_and_keeps_the_last_site(
        tmp_path: Path, starts: list) -> None:
    """An error in a post rendered by a started worker names its file and line, as one
    rendered here does; the site built before stays as it was."""
    from builder import build
    from builder.errors import BuildError
    from tests.helpers import tree_digest

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 9)}
    config = load_config(site(tmp_path, posts))
    build.build(config)
    before = tree_digest(config.destination)
    write_files(config.source, {"_posts/2020-01-05-bai-5.md": post("Bài 5", "Dòng một.\n\n{% if %}\n")})
    shutil.rmtree(config.cache_dir / "render")  # a first build again: the workers are started
    starts.clear()
    with pytest.raises(BuildError) as caught:
        build.build(config)
    broken = config.source / "_posts/2020-01-05-bai-5.md"
    assert len(starts) == 1 and starts[0] is not None and str(caught.value).startswith(f"{broken}:6: Liquid")
    assert tree_digest(config.destination) == before


@pytest.mark.parametrize("reading", ["", "markdown: kramdown\n"])
def test_started_workers_render_the_site_as_this_process_does(tmp_path: Path, monkeypatch, starts: list,
                                                              reading: str) -> None:
    """Either reading of the posts (Python-Markdown, or kramdown as Jekyll reads them)."""
    from builder import build
    from tests.helpers import tree

    body = ("## Phần {n}\n\n*Số* {n} của {{{{ site.title }}}}, "
            "[bài trước]({{% post_url 2020-01-01-bai-1 %}}).\n\n- một\n- hai\n\n```python\nx = {n}\n```\n\n"
            "| a | b |\n|---|---|\n| {n} | $x_{n}$ |\n")
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", body.format(n=n)) for n in range(1, 9)}
    source = site(tmp_path, {**posts, "_config.yml": CONFIG + reading + "math_render: client\n"})
    config = load_config(source)
    build.build(config)
    assert len(starts) == 1 and starts[0] is not None
    in_workers = tree(config.destination)
    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    shutil.rmtree(config.cache_dir / "render")
    here = load_config(source, destination=tmp_path / "here")
    build.build(here)
    assert tree(here.destination) == in_workers
    (third,) = [rel for rel in in_workers if "bai-3" in rel]  # a folder, or Jekyll's bai-3.html
    page = (here.destination / third).read_text(encoding="utf-8")
    assert "<em>Số</em> 3 của Blog thử" in page and ">bài trước</a>" in page


def test_workers_are_started_only_for_a_first_build_outside_serve(tmp_path: Path, starts: list) -> None:
    """Posts in subfolders of `_posts/` count; `blog serve` (which remembers between builds and
    builds while its server's threads run) starts none; nor does a build with a render cache."""
    posts = {f"_posts/{2018 + n % 2}/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}") for n in range(1, 6)}
    config = load_config(site(tmp_path, {**posts, "_posts/anh.png": "x"}))
    assert render._posts_up_to(config.source / "_posts", 100) == 5
    with render.started_workers(config) as started:
        assert started is not None
    with render.started_workers(config, render.RenderMemory()) as started:
        assert started is None
    (config.cache_dir / "render").mkdir(parents=True)
    (config.cache_dir / "render" / "documents.sqlite").write_bytes(b"")
    with render.started_workers(config) as started:
        assert started is None
    assert len(starts) == 1  # only the first asked for workers


@pytest.fixture
def handed(monkeypatch, starts: list) -> list[tuple[str, bool]]:
    """Each document handed to started workers: (rel path, whether it went as the site was
    read, before the whole site was known), with two documents to a chunk while reading."""
    from builder import workers

    monkeypatch.setattr(render.EarlyRendering, "CHUNK", 2)
    reading: list[bool] = []
    made: list[tuple[str, bool]] = []
    gather, share, hand_out = content.gather, workers.Started.share, workers.Started.hand_out

    def watched_gather(*args):
        reading.append(True)
        return gather(*args)

    def shared(self, function, *args, **kwargs):
        if function is not render._render_early:  # the whole site is known now
            reading.clear()
        return share(self, function, *args, **kwargs)

    def recorded(self, items, size=None):
        made.extend((doc.rel, bool(reading)) for doc in items)
        return hand_out(self, items, size)

    monkeypatch.setattr(content, "gather", watched_gather)
    monkeypatch.setattr(workers.Started, "share", shared)
    monkeypatch.setattr(workers.Started, "hand_out", recorded)
    return made


def _as_built_here(monkeypatch, config, tmp_path: Path) -> dict[str, str]:
    """The site as this process alone builds it from scratch, file by file."""
    from builder import build
    from tests.helpers import tree

    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    here = load_config(config.source, destination=tmp_path / "here")
    shutil.rmtree(config.cache_dir / "render", ignore_errors=True)
    build.build(here)
    return tree(here.destination)


def test_a_first_build_renders_posts_while_it_reads_them(tmp_path: Path, monkeypatch, handed: list) -> None:
    """A post whose text names nothing the other documents decide goes to the workers as soon
    as it is read; one that names `site.posts` or uses `post_url` waits for the whole site
    (then in the documents' order: newest first). The site is the one built in one process."""
    from builder import build
    from tests.helpers import tree

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"*Số* {n} của {{{{ site.title }}}}.")
             for n in range(1, 8)}
    posts["_posts/2020-01-08-danh-sach.md"] = post("Danh sách", "Có {{ site.posts | size }} bài.")
    posts["_posts/2020-01-09-lien-ket.md"] = post("Liên kết", "[Bài 1]({% post_url 2020-01-01-bai-1 %})")
    config = load_config(site(tmp_path, {**posts, "about.md": post("Giới thiệu", "Về {{ site.title }}.")}))
    build.build(config)
    assert {rel for rel, reading in handed if reading} == {*list(posts)[:7], "about.md"}
    assert [rel for rel, reading in handed if not reading] == list(posts)[:6:-1]
    def page(rel: str) -> str:
        return (config.destination / rel).read_text(encoding="utf-8")

    assert "<p>Có 9 bài.</p>" in page("2020/01/08/danh-sach/index.html")
    assert 'href="/2020/01/01/bai-1/"' in page("2020/01/09/lien-ket/index.html")
    assert "<p><em>Số</em> 7 của Blog thử.</p>" in page("2020/01/07/bai-7/index.html")
    assert tree(config.destination) == _as_built_here(monkeypatch, config, tmp_path)


def test_what_was_rendered_early_is_rendered_again_when_the_site_turns_out_otherwise(
        tmp_path: Path, monkeypatch, handed: list, caplog) -> None:
    """A post that takes a static file's place changes the static files the early renderings
    sized images against: they are all rendered again, with the whole site."""
    from builder import build
    from tests.helpers import tree

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 6)}
    posts["_posts/2020-01-06-ghi-chu.md"] = post("Ghi chú", "Thay tệp.", permalink="/ghi-chu.html")
    config = load_config(site(tmp_path, {**posts, "ghi-chu.html": "<p>tệp tĩnh</p>"}))
    build.build(config)
    assert "Conflict: ghi-chu.html" in caplog.text
    early = [rel for rel, reading in handed if reading]
    assert len(early) == 6 and sorted(rel for rel, reading in handed if not reading) == sorted(early)
    assert "<p>Thay tệp.</p>" in (config.destination / "ghi-chu.html").read_text(encoding="utf-8")
    assert tree(config.destination) == _as_built_here(monkeypatch, config, tmp_path)


@pytest.mark.parametrize("newest", ["early", "late", "early only"])
def test_the_error_said_is_the_first_documents_whichever_was_rendered_first(
        tmp_path: Path, monkeypatch, handed: list, newest: str) -> None:
    """A post rendered while reading fails: it is rendered again once the site is read, so
    that the error said is the first one in the documents' order (newest post first), as a
    build in one process says it, whether the other failing post waited for the site or not."""
    from builder import build
    from builder.errors import BuildError

    broken = "Dòng một.\n\n{% if %}\n"
    early_day, late_day = ("08", "07") if newest == "early" else ("07", "08")
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 7)}
    posts[f"_posts/2020-01-{early_day}-hong-som.md"] = post("Hỏng sớm", broken)
    if newest != "early only":
        waits = "{% post_url 2020-01-01-bai-1 %}\n"  # for the whole site
        posts[f"_posts/2020-01-{late_day}-hong-muon.md"] = post("Hỏng muộn", waits + broken)
    config = load_config(site(tmp_path, posts))
    with pytest.raises(BuildError) as in_workers:
        build.build(config)
    assert f"_posts/2020-01-{early_day}-hong-som.md" in {rel for rel, reading in handed if reading}
    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    with pytest.raises(BuildError) as here:
        build.build(load_config(config.source, destination=tmp_path / "here"))
    failing = "hong-som" if newest != "late" else "hong-muon"
    assert str(in_workers.value) == str(here.value) and failing in str(here.value)
    assert not config.destination.exists()


def test_posts_left_out_are_never_rendered_early(tmp_path: Path, monkeypatch, handed: list) -> None:
    """A post dated in the future, or not published, is not rendered while reading (its broken
    Liquid fails nothing, as in a build in one process)."""
    from builder import build

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 6)}
    posts["_posts/2999-01-01-tuong-lai.md"] = post("Tương lai", "{% if %}")
    posts["_posts/2020-01-06-nhap.md"] = post("Nháp", "{% if %}", published="false")
    config = load_config(site(tmp_path, posts))
    result = build.build(config)
    assert result.posts == 5
    assert {rel for rel, _ in handed} == set(list(posts)[:5])


def test_a_post_that_cannot_be_read_stops_the_early_workers_and_keeps_the_last_site(
        tmp_path: Path, handed: list, starts: list) -> None:
    """Posts were already rendering when a later one turns out unreadable: the build stops with
    that file's error, the workers are stopped and reaped, and the last site stays."""
    from builder import build
    from builder.errors import BuildError
    from tests.helpers import tree_digest

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 9)}
    config = load_config(site(tmp_path, posts))
    build.build(config)
    before = tree_digest(config.destination)
    write_files(config.source, {"_posts/2020-01-07-bai-7.md": "---\ntitle: [không đóng\n---\nSố 7.\n"})
    shutil.rmtree(config.cache_dir / "render")
    handed.clear()
    with pytest.raises(BuildError) as caught:
        build.build(config)
    assert "2020-01-07-bai-7.md:2: invalid front matter" in str(caught.value)
    assert handed and all(reading for _, reading in handed)
    lead = starts[-1]._lead
    assert lead is None  # closed: its first worker reaped (it reaps the others)
    assert tree_digest(config.destination) == before


def test_warnings_of_documents_rendered_early_are_said_in_the_documents_order(
        tmp_path: Path, monkeypatch, handed: list) -> None:
    """Posts rendered while the site is read come back oldest first (the order they are read
    in), before those that waited for the whole site: their warnings are still said newest
    post first, then the pages, as a build in one process says them."""
    from builder import build

    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n} {{{{ x | khong_co_{n} }}}}.")
             for n in range(1, 8)}
    waits = "{{ site.posts | size }} {{ x | khong_co_8 }}"  # for the whole site
    posts["_posts/2020-01-08-danh-sach.md"] = post("Danh sách", waits)
    files = {**posts, "about.md": post("Giới thiệu", "{{ x | khong_co_trang }}")}
    config = load_config(site(tmp_path, files))
    early = build.build(config).warnings
    assert {rel for rel, reading in handed if reading} == {*list(posts)[:7], "about.md"}
    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    shutil.rmtree(config.cache_dir / "render")
    here = build.build(load_config(config.source, destination=tmp_path / "here")).warnings
    filters = [warning.split("'")[1] for warning in early if "unknown filter" in warning]
    assert filters == [f"khong_co_{n}" for n in range(8, 0, -1)] + ["khong_co_trang"]
    assert early == here


def test_workers_send_back_what_is_stored_and_it_is_what_this_process_would_store(
        tmp_path: Path, monkeypatch, starts: list) -> None:
    """A worker sends each result as the value of its cache entry, stored as it comes: the
    entries are those a build in one process stores, key for key, byte for byte."""
    from builder import build

    body = "## Phần {n}\n\n*Số* {n} của {{{{ site.title }}}}."
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", body.format(n=n)) for n in range(1, 9)}
    posts["_posts/2020-01-09-lien-ket.md"] = post("Liên kết", "[Bài 1]({% post_url 2020-01-01-bai-1 %})")
    config = load_config(site(tmp_path, posts))
    build.build(config)
    assert starts[0] is not None

    def entries() -> dict[str, bytes]:
        with store.KeyedCache(config.cache_dir / "render" / "documents.sqlite") as cache:
            return dict(cache.connection.execute("SELECT key, value FROM entry"))

    in_workers = entries()
    monkeypatch.setattr(render, "PARALLEL_MIN", 10**9)
    shutil.rmtree(config.cache_dir / "render")
    build.build(load_config(config.source, destination=tmp_path / "here"))
    assert entries() == in_workers and len(in_workers) == 9


def test_workers_that_sent_every_result_end_by_themselves(tmp_path: Path, monkeypatch, handed: list) -> None:
    """Once every result of a first build is in, the workers run out of work and end: they are
    waited for, not stopped (stopping is for work no longer wanted: a failure, or none at all)."""
    from builder import build, workers

    stopped: list[int] = []
    stop = workers._stop
    monkeypatch.setattr(workers, "_stop", lambda lead: stopped.append(lead) or stop(lead))
    posts = {f"_posts/2020-01-{n:02d}-bai-{n}.md": post(f"Bài {n}", f"Số {n}.") for n in range(1, 8)}
    posts["_posts/2020-01-08-danh-sach.md"] = post("Danh sách", "Có {{ site.posts | size }} bài.")
    build.build(load_config(site(tmp_path, posts)))
    assert len(handed) == 8 and stopped == []  # 7 early, 1 once the site was known
