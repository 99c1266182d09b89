"""Which local helper modules a figure script depends on (they are part of its cache key)."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest

from builder import store
from builder.errors import BuildError
from builder.figures import discover
from tests.helpers import FIGURES, run_blog, soup, toy_figure, toy_project, write_files

SCRIPT = '''
OUTPUTS = {"/images/%s.png": "alt"}
import os

def make(ctx):
    try:
        import _nested
    except ImportError:
        pass
    for _ in range(1):
        if ctx:
            with open(os.devnull):
                from _deep import thing
    match ctx:
        case _:
            import _matched
'''


def test_helpers_are_found_wherever_imported_and_followed_through_each_other(tmp_path: Path) -> None:
    folder = tmp_path / "figures"
    folder.mkdir()
    (folder / "a.py").write_text(SCRIPT % "a")
    (folder / "b.py").write_text('OUTPUTS = {"/images/b.png": "alt"}\nimport _cycle_one\n\n'
                                 'def make(ctx):\n    pass\n')
    (folder / "_nested.py").write_text("x = 1\n")
    (folder / "_deep.py").write_text("import _shared\nthing = 1\n")
    (folder / "_matched.py").write_text("")
    (folder / "_shared.py").write_text("import os\n")
    (folder / "_cycle_one.py").write_text("import _cycle_two\n")
    (folder / "_cycle_two.py").write_text("import _cycle_one\nimport _shared\n")
    (folder / "_unused.py").write_text("")
    found = {figure.name: sorted(p.name for p in figure.helpers) for figure in discover(folder)}
    assert found == {"a": ["_deep.py", "_matched.py", "_nested.py", "_shared.py"],
                     "b": ["_cycle_one.py", "_cycle_two.py", "_shared.py"]}


# --- what parsing found, remembered by content (.cache/figures/scans.json) --------------------


def _keys(folder: Path, cache: Path | None) -> dict[str, tuple[str, dict, list[str]]]:
    return {f.name: (f.key, f.outputs, sorted(p.name for p in f.helpers))
            for f in discover(folder, cache_dir=cache)}


def test_remembered_scans_key_every_figure_as_parsing_afresh_does(tmp_path: Path) -> None:
    """The project's own figures: the same keys, outputs and helpers with the record as without,
    the first time (record written) and the second (record read)."""
    folder = tmp_path / "figures"
    shutil.copytree(FIGURES, folder, ignore=shutil.ignore_patterns("__pycache__"))
    fresh = _keys(folder, None)
    assert _keys(folder, tmp_path / "cache") == fresh
    assert (tmp_path / "cache/figures/scans.json").is_file()
    assert _keys(folder, tmp_path / "cache") == fresh


def test_a_build_reads_no_unchanged_file_again(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "figures"
    write_files(folder, {"a.py": SCRIPT % "a", "_nested.py": "", "_deep.py": "import _shared\nthing = 1\n",
                         "_matched.py": "", "_shared.py": ""})
    first = _keys(folder, tmp_path / "cache")
    parsed = []
    real_parse = ast.parse
    monkeypatch.setattr(ast, "parse", lambda text, *a, **kw: parsed.append(1) or real_parse(text, *a, **kw))
    assert _keys(folder, tmp_path / "cache") == first and parsed == []
    with (folder / "_shared.py").open("a") as file:  # one helper changed: only it is read again
        file.write("import _new\n")
    (folder / "_new.py").write_text("x = 2\n")  # (an empty one is known: an empty file was read)
    changed = _keys(folder, tmp_path / "cache")
    assert len(parsed) == 2  # _shared.py, and _new.py (never seen)
    assert changed["a"][2] == ["_deep.py", "_matched.py", "_nested.py", "_new.py", "_shared.py"]
    assert changed["a"][0] != first["a"][0]


def test_edited_declarations_and_imports_follow_through_the_record(tmp_path: Path) -> None:
    folder = tmp_path / "figures"
    write_files(folder, {"a.py": 'OUTPUTS = {"/img/a.png": "first"}\n\ndef make(ctx):\n    pass\n',
                         "_b.py": ""})
    cache = tmp_path / "cache"
    assert _keys(folder, cache)["a"][1:] == ({"/img/a.png": "first"}, [])
    (folder / "a.py").write_text('OUTPUTS = {"/img/a.png": "second", "/img/c.png": "third"}\n'
                                 'import _b\nSEED = 3\n\ndef make(ctx):\n    pass\n')
    ((figure,),) = [discover(folder, cache_dir=cache)]
    assert figure.outputs == {"/img/a.png": "second", "/img/c.png": "third"}
    assert figure.seed == 3 and [p.name for p in figure.helpers] == ["_b.py"]
    (folder / "a.py").write_text('OUTPUTS = {"/img/a.png": "fourth"}\n')  # make() gone: still an error
    with pytest.raises(BuildError, match="must define make"):
        discover(folder, cache_dir=cache)
    (folder / "a.py").write_text('OUTPUTS = {"/img/a.png": "fifth"}\ndef make(ctx):\n')  # does not parse
    with pytest.raises(BuildError, match="does not parse"):
        discover(folder, cache_dir=cache)


def test_a_record_of_another_builder_or_a_damaged_one_is_not_believed(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "figures"
    write_files(folder, {"a.py": SCRIPT % "a", "_nested.py": "", "_deep.py": "", "_matched.py": ""})
    cache = tmp_path / "cache"
    fresh = _keys(folder, None)
    record = cache / "figures/scans.json"
    _keys(folder, cache)
    data = json.loads(record.read_text())
    for facts in data["files"].values():  # what a wrong record would make a build believe
        facts["imports"], facts.get("values", {})["OUTPUTS"] = [], {"/img/wrong.png": "wrong"}
    data["worker"] = "0" * 64
    record.write_text(json.dumps({**data, "code": "another builder"}))
    assert _keys(folder, cache) == fresh
    record.write_text("{not json")
    assert _keys(folder, cache) == fresh
    record.write_text(json.dumps({**data, "code": store.code_version()}))  # proof that it is believed
    assert _keys(folder, cache)["a"][1:] == ({"/img/wrong.png": "wrong"}, [])
    monkeypatch.setattr(store, "code_version", lambda: "a new builder")
    assert _keys(folder, cache) == fresh


def test_a_built_page_follows_an_edited_figure_script(tmp_path: Path) -> None:
    """Through `blog build`, with the record in place: the declared alt text a page shows
    follows the script (the build remembers what it parsed, and sees the edit)."""
    project = toy_project(tmp_path, {"good.py": toy_figure("/img/good.png", "một hình")},
                          {"2020-01-01-a.md": "---\ntitle: A\n---\n![](/img/good.png)\n"})
    page = project / "_site/2020/01/01/a/index.html"
    for alt in ("một hình", "hình đã sửa"):
        (project / "figures/good.py").write_text(toy_figure("/img/good.png", alt))
        result = run_blog("build", "-s", str(project / "site_src"))
        assert result.exit_code == 0, result.stderr
        assert soup(page).find("img", src="/img/good.png")["alt"] == alt
    assert (project / ".cache/figures/scans.json").is_file()
