"""Which local helper modules a figure script depends on (they are part of its cache key)."""

from __future__ import annotations

from pathlib import Path

from builder.figures import discover

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
