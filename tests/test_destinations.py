"""A build never deletes what it did not make: dangerous destinations are refused before
anything is written, and files of someone else's are kept or moved to the trash, byte for byte."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builder import outputs, state
from tests.helpers import entries, post, run_blog, write_files

CONFIG = "title: Thử\nurl: https://e.github.io\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp/proj/site_src with one post; figures/ and .cache/ would live beside it."""
    root = tmp_path / "proj"
    write_files(root / "site_src", {"_config.yml": CONFIG, "_posts/2020-01-01-a.md": post("A")})
    return root


def trash_of(project: Path) -> dict[str, tuple]:
    """What the trash holds, by path inside the destination (across its dated folders)."""
    found = {}
    for folder in sorted((project / ".cache/trash").glob("*")):
        found.update({rel: entry for rel, entry in entries(folder).items() if entry[0] != "dir"})
    return found


def refused(result, *phrases: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    for phrase in phrases:
        assert phrase in lines[0], lines[0]
    return lines[0]


def build(project: Path, *args: str):
    return run_blog("build", "-s", str(project / "site_src"), *args)


# The cases that started it all: each left the user's files gone.

def test_the_source_folder_as_destination_is_refused(project: Path, tmp_path: Path) -> None:
    before = entries(tmp_path)
    refused(build(project, "-d", str(project / "site_src")), "is the source folder",
            "choose a folder of its own")
    assert entries(tmp_path) == before  # _posts/ and _config.yml are there; not even .cache/ was made


def test_a_folder_with_a_note_is_refused_then_forced_into_the_trash(project: Path, tmp_path: Path) -> None:
    note = "Ghi chú quan trọng: đừng xoá.\n".encode()
    write_files(project / "docs", {"ghi-chu-quan-trong.txt": note})
    before = entries(tmp_path)
    line = refused(build(project, "-d", str(project / "docs")),
                   "holds files this tool did not write (ghi-chu-quan-trong.txt)", "nothing was written",
                   "--force")
    assert ".cache/trash/" in line
    assert entries(tmp_path) == before
    forced = build(project, "-d", str(project / "docs"), "--force")
    assert forced.exit_code == 0, forced.stderr
    moved = [line for line in forced.stdout.splitlines() if line.startswith("moved ")]
    assert len(moved) == 1 and "1 file" in moved[0] and "ghi-chu-quan-trong.txt" in moved[0]
    assert ".cache/trash/" in moved[0]
    assert trash_of(project) == {"ghi-chu-quan-trong.txt": ("file", note)}
    assert (project / "docs/index.html").is_file()
    again = build(project, "-d", str(project / "docs"))  # ours now: no --force needed
    assert again.exit_code == 0 and "nothing changed" in again.stdout


def gh_pages_clone(tmp_path: Path) -> Path:
    def git(cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)

    origin = tmp_path / "origin"
    write_files(origin, {"index.html": "<p>trang cũ</p>", "CNAME": "blog.example.org\n", "cu/a.html": "cũ"})
    git(origin, "init", "-q", "-b", "gh-pages")
    git(origin, "-c", "user.name=x", "-c", "user.email=x@e.org", "add", "-A")
    git(origin, "-c", "user.name=x", "-c", "user.email=x@e.org", "commit", "-qm", "trang cũ")
    git(tmp_path, "clone", "-q", "-b", "gh-pages", str(origin), str(tmp_path / "pages"))
    return tmp_path / "pages"


def test_a_gh_pages_checkout_keeps_its_git_folder(project: Path, tmp_path: Path) -> None:
    pages = gh_pages_clone(tmp_path)
    before = entries(pages)
    refused(build(project, "-d", str(pages)), "holds files this tool did not write (cu/a.html, index.html)")
    assert entries(pages) == before
    forced = build(project, "-d", str(pages), "--force")
    assert forced.exit_code == 0, forced.stderr
    after = entries(pages)
    for rel, entry in before.items():
        if rel.startswith(".git/") or rel in (".git", "CNAME"):
            assert after[rel] == entry, rel  # keep_files: in place, untouched
    assert trash_of(project) == {"index.html": before["index.html"], "cu/a.html": before["cu/a.html"]}
    status = subprocess.run(["git", "status", "--porcelain"], cwd=pages, capture_output=True, text=True)
    assert status.returncode == 0 and " D cu/a.html" in status.stdout  # still a working git checkout


def test_the_project_folder_as_destination_is_refused(project: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(project)
    (project / "figures").mkdir()
    (project / "figures/ve.py").write_text("# một hình\n")
    write_files(project / ".cache", {"figures/manifest.json": '{"figures": []}'})
    before = entries(tmp_path)
    refused(run_blog("build", "-d", "."), f"destination . ({project}) is the project folder",
            "site_src/, figures/ and .cache/")
    assert entries(tmp_path) == before


# Every other refusal: one line, before anything is written.

def relayout(tmp_path: Path) -> Path:
    """tmp/outer/proj/site_src, for destinations above the project."""
    root = tmp_path / "outer" / "proj"
    write_files(root / "site_src", {"_config.yml": CONFIG, "_posts/2020-01-01-a.md": post("A")})
    return root


@pytest.mark.parametrize("destination, phrase", [
    ("site_src/", "is the source folder"),
    ("site_src/../site_src", "is the source folder"),
    ("..", "contains the project folder"),
    ("site_src/public", "lies inside the source folder"),
    ("site_src/_posts/out", "lies inside the source folder"),
    ("figures", "is the figures folder"),
    (".cache", "is the cache folder"),
    (".cache/site", "lies inside the cache folder"),
])
def test_dangerous_destinations_are_refused(tmp_path: Path, destination: str, phrase: str) -> None:
    project = relayout(tmp_path)
    (project / "figures").mkdir()
    (project / ".cache").mkdir()
    before = entries(tmp_path)
    refused(build(project, "-d", str(project / destination)), phrase)
    assert entries(tmp_path) == before


def test_a_symbolic_link_to_the_source_is_refused(project: Path, tmp_path: Path) -> None:
    os.symlink(project / "site_src", tmp_path / "lien-ket")
    before = entries(tmp_path)
    refused(build(project, "-d", str(tmp_path / "lien-ket")),
            f"({project / 'site_src'}) is the source folder")
    assert entries(tmp_path) == before


def test_a_destination_containing_the_figures_folder_is_refused(project: Path, tmp_path: Path) -> None:
    write_files(tmp_path / "chung/figures", {"ve.py": "# hình\n"})
    (project / "site_src/_config.yml").write_text(CONFIG + "figures_dir: ../chung/figures\n")
    before = entries(tmp_path)
    refused(build(project, "-d", str(tmp_path / "chung")), "contains the figures folder")
    assert entries(tmp_path) == before


def test_home_and_the_filesystem_root_are_refused(project: Path, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "nha" / "toi"
    write_files(home, {"thu.txt": "thư"})
    monkeypatch.setenv("HOME", str(home))
    before = entries(tmp_path)
    refused(build(project, "-d", str(home)), "is your home folder")
    refused(build(project, "-d", str(tmp_path / "nha")), f"contains your home folder {home}")
    refused(build(project, "-d", "/"), "is the root of the filesystem")
    assert entries(tmp_path) == before


def test_a_file_as_destination_is_refused(project: Path, tmp_path: Path) -> None:
    (tmp_path / "ra.html").write_text("tệp")
    before = entries(tmp_path)
    refused(build(project, "-d", str(tmp_path / "ra.html")), "is a file, not a folder")
    assert entries(tmp_path) == before


def test_a_dangerous_cache_folder_is_refused_by_build_and_figures(project: Path, tmp_path: Path) -> None:
    (project / "site_src/_config.yml").write_text(CONFIG + "cache_dir: .\n")
    before = entries(tmp_path)
    refused(build(project), "the cache folder", "is the project folder", "set cache_dir")
    refused(run_blog("figures", "-s", str(project / "site_src")), "the cache folder", "is the project folder")
    assert entries(tmp_path) == before


def test_an_ignored_folder_inside_the_source_is_allowed(project: Path) -> None:
    for name in ("_site", "public"):
        if name == "public":
            (project / "site_src/_config.yml").write_text(CONFIG + "exclude: [public]\n")
        first = build(project, "-d", str(project / "site_src" / name))
        assert first.exit_code == 0, first.stderr
        assert (project / "site_src" / name / "index.html").is_file()
        again = build(project, "-d", str(project / "site_src" / name))
        assert "nothing changed" in again.stdout  # its own output is not an input
        assert not list((project / "site_src" / name).rglob("site_src"))


def test_a_folder_the_build_reads_is_not_ignored_for_its_name(project: Path, tmp_path: Path) -> None:
    (project / "site_src/_config.yml").write_text(CONFIG + "include: [_out]\n")
    before = entries(tmp_path)
    refused(build(project, "-d", str(project / "site_src/_out")), "lies inside the source folder")
    refused(build(project, "-d", str(project / "site_src/ghi/_posts/ra")), "lies inside the source folder")
    assert entries(tmp_path) == before


# Only what we wrote is ever removed.

def test_files_added_to_our_destination_go_to_the_trash_and_kept_ones_stay(project: Path) -> None:
    out = project / "_site"
    assert build(project).exit_code == 0
    write_files(out, {"ghi-chu.txt": "của tôi", "CNAME": "a.example.org\n", ".git/HEAD": "ref: x\n",
                      ".gitignore": "*.log\n", "2020/01/01/a/anh.png": b"\x89PNG"})
    (out / "thu-muc-rong").mkdir()  # an empty folder someone made
    result = build(project)
    assert result.exit_code == 0 and "2 files" in result.stdout
    assert trash_of(project) == {"ghi-chu.txt": ("file", "của tôi".encode()),
                                 "2020/01/01/a/anh.png": ("file", b"\x89PNG")}
    assert (out / "CNAME").read_text() == "a.example.org\n" and (out / ".git/HEAD").is_file()
    assert (out / ".gitignore").is_file()  # .git keeps what starts with it, as in Jekyll
    assert (out / "thu-muc-rong").is_dir()
    assert "nothing changed" in build(project).stdout  # kept files do not count as changes


def test_our_stale_files_are_removed_but_hand_edits_go_to_the_trash(project: Path) -> None:
    write_files(project / "site_src", {"_posts/2020-02-02-b.md": post("B"),
                                       "_posts/2020-03-03-c.md": post("C")})
    out = project / "_site"
    assert build(project).exit_code == 0
    (out / "2020/02/02/b/index.html").write_text("sửa tay")  # an edit of ours by hand
    replaced = out / "2020/01/01/a/index.html"
    replaced.write_text("cũng sửa tay")
    (project / "site_src/_posts/2020-02-02-b.md").unlink()
    (project / "site_src/_posts/2020-03-03-c.md").unlink()
    (project / "site_src/_posts/2020-01-01-a.md").write_text(post("A mới"))
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert trash_of(project) == {"2020/02/02/b/index.html": ("file", "sửa tay".encode()),
                                 "2020/01/01/a/index.html": ("file", "cũng sửa tay".encode())}
    assert not (out / "2020/03/03").exists()  # ours, unchanged: removed, with its folders
    assert "A mới" in replaced.read_text(encoding="utf-8")


def test_keep_files_from_the_config(project: Path) -> None:
    (project / "site_src/_config.yml").write_text(CONFIG + "keep_files: [uploads, /bao-cao.pdf]\n")
    write_files(project / "_site", {"uploads/x.jpg": b"jpg", "bao-cao.pdf": b"%PDF", ".git/HEAD": "ref\n"})
    refused(build(project), "holds files this tool did not write (.git/HEAD)",
            "keep uploads, bao-cao.pdf in place")
    assert build(project, "--force").exit_code == 0
    assert (project / "_site/uploads/x.jpg").read_bytes() == b"jpg"
    assert (project / "_site/bao-cao.pdf").read_bytes() == b"%PDF"
    assert trash_of(project) == {".git/HEAD": ("file", b"ref\n")}  # the list replaces the default
    (project / "site_src/_config.yml").write_text(CONFIG + "keep_files: uploads\n")
    refused(build(project), "keep_files must be a list of paths")


def test_a_folder_holding_only_kept_files_needs_no_force(project: Path) -> None:
    write_files(project / "_site", {".git/HEAD": "ref: refs/heads/gh-pages\n"})
    result = build(project)
    assert result.exit_code == 0, result.stderr
    assert (project / "_site/.git/HEAD").read_text() == "ref: refs/heads/gh-pages\n"
    assert (project / "_site/index.html").is_file() and not (project / ".cache/trash").exists()


def test_an_empty_folder_is_filled_by_a_swap(project: Path) -> None:
    (project / "_site").mkdir()
    result = build(project)
    assert result.exit_code == 0 and (project / "_site/index.html").is_file()
    assert sorted(p.name for p in project.iterdir()) == [".cache", "_site", "site_src"]  # no staging left


def test_things_in_the_way_go_aside_and_links_are_not_followed(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "ngoai"
    write_files(outside, {"bi-mat.txt": "bí mật"})
    out = project / "_site"
    write_files(out, {"2020": "a file where a folder must go", "feed.xml/x": "a folder where a file goes"})
    os.symlink(outside, out / "assets")  # output files go under assets/: never through this link
    result = build(project, "--force")
    assert result.exit_code == 0, result.stderr
    assert entries(outside) == {"bi-mat.txt": ("file", "bí mật".encode())}
    trash = trash_of(project)
    assert trash["2020"] == ("file", b"a file where a folder must go")
    assert trash["feed.xml/x"] == ("file", b"a folder where a file goes")
    assert trash["assets"] == ("link", str(outside))
    assert (out / "feed.xml").is_file() and not (out / "assets").is_symlink()


def test_a_killed_builds_staging_folder_is_cleaned_up(project: Path) -> None:
    assert build(project).exit_code == 0
    write_files(project / "_site", {outputs.STAGING_PREFIX + "abc/index.html": "nửa chừng"})
    (project / "site_src/_posts/2020-01-01-a.md").write_text(post("A2"))
    result = build(project)
    assert result.exit_code == 0 and "moved" not in result.stdout
    assert not list((project / "_site").glob(outputs.STAGING_PREFIX + "*"))


def test_files_holding_what_we_would_write_are_adopted(project: Path, tmp_path: Path) -> None:
    assert build(project, "-d", str(tmp_path / "mau")).exit_code == 0  # the same site, made elsewhere
    write_files(project / "_site", {"index.html": (tmp_path / "mau/index.html").read_bytes(), "cu.txt": "cũ"})
    mtime = (project / "_site/index.html").stat().st_mtime_ns
    result = build(project, "--force")
    assert result.exit_code == 0 and "moved 1 file" in result.stdout
    assert trash_of(project) == {"cu.txt": ("file", "cũ".encode())}
    assert (project / "_site/index.html").stat().st_mtime_ns == mtime  # not even rewritten
    assert "nothing changed" in build(project).stdout


def test_builds_into_throwaway_folders_follow_the_same_rules(project: Path, tmp_path: Path) -> None:
    """What `serve`, `check` and `deploy` call: incremental=False."""
    import dataclasses

    from builder.build import build as run_build
    from builder.config import load_config

    config = dataclasses.replace(load_config(project / "site_src"), destination=tmp_path / "docs")
    write_files(tmp_path / "docs", {"x.txt": "x"})
    with pytest.raises(outputs.ForeignFilesError):
        run_build(config, incremental=False)
    assert (tmp_path / "docs/x.txt").read_text() == "x"
    assert run_build(config, incremental=False, force=True).moved == ("x.txt",)
    (tmp_path / "docs/y.txt").write_text("y")  # not made afresh, so recorded: the next build knows ours
    assert run_build(config, incremental=False).moved == ("y.txt",)
    assert trash_of(project) == {"x.txt": ("file", b"x"), "y.txt": ("file", b"y")}
    fresh = dataclasses.replace(config, destination=tmp_path / "moi")
    run_build(fresh, incremental=False)
    assert not state.path_for(config.cache_dir, tmp_path / "moi").exists()  # a throwaway: no record


# The same rules for the other commands.

def test_new_refuses_to_make_a_site_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = entries(tmp_path)
    line = refused(run_blog("new", "Bài mới"),
                   f"no site here: neither site_src/ nor _config.yml in {tmp_path} or any folder above it")
    assert "-s DIR" in line
    (tmp_path / "ghi-chu").mkdir()
    refused(run_blog("new", "Bài mới", "-s", "ghi-chu"), "has neither _config.yml nor _posts/")
    assert entries(tmp_path) == {**before, "ghi-chu": ("dir",)}


def test_figures_only_clear_the_versions_they_made(tmp_path: Path) -> None:
    write_files(tmp_path / "site_src", {"_config.yml": CONFIG})
    write_files(tmp_path / "figures", {"o.py": 'OUTPUTS = {"/img/o.png": "ô"}\n\ndef make(ctx):\n'
                                               '    from PIL import Image\n'
                                               '    ctx.save(Image.new("RGB", (2, 2)), "/img/o.png")\n'})
    assert run_blog("figures", "-s", str(tmp_path / "site_src")).exit_code == 0
    write_files(tmp_path / ".cache/figures/o", {"ghi-chu/x.txt": "của người dùng"})
    assert run_blog("figures", "-s", str(tmp_path / "site_src"), "--force").exit_code == 0
    assert (tmp_path / ".cache/figures/o/ghi-chu/x.txt").read_text() == "của người dùng"
    assert len([p for p in (tmp_path / ".cache/figures/o").iterdir() if p.name != "ghi-chu"]) == 1


def test_one_lock_file_whatever_the_destination(project: Path) -> None:
    for name in ("a", "b", "a"):
        assert build(project, "-d", str(project / name)).exit_code == 0
    assert run_blog("check", "-s", str(project / "site_src")).exit_code == 0
    names = sorted(p.name for p in (project / ".cache/outputs").iterdir())
    assert [n for n in names if not n.endswith(".json")] == [outputs.LOCK_NAME]
    assert len(names) == 3  # the lock and the records of a/ and b/; none for check's temporary folder


# Property: whatever the destination holds, no file outside our records disappears.

DEST_EXAMPLES = int(os.environ.get("DESTINATION_EXAMPLES", "300" if os.environ.get("CI") == "true" else "40"))
TREE_PATHS = ["index.html", "feed.xml", "feed.xml/x", "2020", "2020/01/01/a/index.html",
              "2020/01/01/a/anh.png", "assets", "assets/theme/theme.css", "assets/khac.css", ".git/HEAD",
              ".git/objects/ab/cd", ".gitignore", "CNAME", "ghi-chu.txt", "docs/ghi chú.md",
              "sâu/hơn/nữa.txt", "robots.txt/y", "2020/02/02/b/index.html",
              outputs.STAGING_PREFIX + "x/index.html"]
_CLEAN: dict[bool, dict[str, bytes]] = {}


def _site_files(changed: bool) -> dict[str, str]:
    files = {"_config.yml": CONFIG, "_posts/2020-01-01-a.md": post("A")}
    files["_posts/2020-03-03-c.md" if changed else "_posts/2020-02-02-b.md"] = post("C" if changed else "B")
    return files


def _clean_tree(changed: bool) -> dict[str, bytes]:
    """What a clean build of the source makes, built once per version of the source."""
    import tempfile

    if changed not in _CLEAN:
        with tempfile.TemporaryDirectory() as tmp:
            write_files(Path(tmp) / "site_src", _site_files(changed))
            _api_build(Path(tmp) / "site_src")
            site = Path(tmp) / "_site"
            _CLEAN[changed] = {p.relative_to(site).as_posix(): p.read_bytes()
                               for p in site.rglob("*") if p.is_file()}
    return _CLEAN[changed]


def _api_build(source: Path, force: bool = False):
    from builder.build import build as run_build
    from builder.config import load_config

    return run_build(load_config(source), force=force)


def _plant(root: Path, tree: list[tuple[str, str, bytes]], outside: Path) -> None:
    """Write a random tree; an entry that clashes with an earlier one is left out."""
    for rel, kind, data in tree:
        target = root / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() or target.is_symlink():
                continue
            if kind == "file":
                target.write_bytes(data)
            elif kind == "dir":
                target.mkdir()
            else:
                os.symlink(outside if kind == "link-dir" else outside / "bi-mat.txt", target)
        except (NotADirectoryError, FileExistsError, IsADirectoryError):
            continue


def _files(root: Path) -> dict[str, tuple]:
    return {rel: entry for rel, entry in entries(root).items() if entry[0] != "dir"} if root.exists() else {}


@settings(max_examples=DEST_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          derandomize=True)
@given(tree=st.lists(st.tuples(st.sampled_from(TREE_PATHS), st.sampled_from(["file", "file", "dir", "link",
                                                                           "link-dir"]),
                               st.binary(max_size=8)), max_size=8),
       ours_first=st.booleans(), edit_ours=st.lists(st.sampled_from(TREE_PATHS[:8]), max_size=2),
       change_source=st.booleans(), force=st.booleans())
def test_no_file_outside_our_records_ever_disappears(tree, ours_first, edit_ours, change_source,
                                                     force) -> None:
    import hashlib
    import tempfile

    from builder.errors import BuildError

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        source, out, outside = root / "site_src", root / "_site", root / "ngoai"
        write_files(outside, {"bi-mat.txt": "bí mật", "thu-muc/x.txt": "x"})
        write_files(source, _site_files(False))
        if ours_first:
            _api_build(source)
            for rel in edit_ours:  # a hand edit of a file we wrote
                if (out / rel).is_file():
                    (out / rel).write_bytes(b"sua tay")
        _plant(out, tree, outside)
        if change_source:
            (source / "_posts/2020-02-02-b.md").unlink()
            write_files(source, {"_posts/2020-03-03-c.md": post("C")})
        recorded = state.load(root / ".cache", out)
        record = recorded.files if recorded else {}
        before, outside_before = _files(out), entries(outside)
        before_all = entries(out) if out.exists() else {}
        keep = (".git", ".svn", "CNAME")
        strangers = [rel for rel, entry in before.items() if not outputs.kept(rel, keep)
                     and not rel.startswith(outputs.STAGING_PREFIX)
                     and not (entry[0] == "file" and record.get(rel, [None])[0]
                              == hashlib.sha256(entry[1]).hexdigest())]
        try:
            _api_build(source, force=force)
        except BuildError as err:
            assert isinstance(err, outputs.ForeignFilesError), str(err)
            assert strangers and not force and not ours_first
            assert (entries(out) if out.exists() else {}) == before_all
            assert not (root / ".cache/trash").exists()
            return
        assert force or ours_first or not strangers  # someone's files were never taken without --force
        after, trash = _files(out), trash_of(root)
        for rel, entry in before.items():
            ours = entry[0] == "file" and record.get(rel, [None])[0] == hashlib.sha256(entry[1]).hexdigest()
            assert after.get(rel) == entry or trash.get(rel) == entry or ours or \
                rel.startswith(outputs.STAGING_PREFIX), rel
        assert entries(outside) == outside_before  # nothing written or moved through a link
        clean = _clean_tree(change_source)
        for rel, data in clean.items():
            assert after.get(rel) == ("file", data), rel  # incremental equals clean
        for rel in set(after) - set(clean):
            assert outputs.kept(rel, keep) and before.get(rel) == after[rel], rel  # only kept files stay

