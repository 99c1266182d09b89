"""What the repository holds: only what a fresh clone needs, nothing of one machine."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.helpers import ROOT


def _tracked() -> list[tuple[str, str]]:
    """(mode, path) of every file git tracks here; skipped outside a git checkout."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-s", "-z"], cwd=ROOT, capture_output=True, check=True)
    entries = [line.decode("utf-8", "replace") for line in listed.stdout.split(b"\0") if line]
    return [(entry.split(" ", 1)[0], entry.split("\t", 1)[1]) for entry in entries]


def test_no_installed_packages_and_no_links_are_tracked() -> None:
    """node_modules is installed by `make` (npm ci), never committed, not even as a symbolic
    link to one machine's copy (a fresh clone elsewhere gets a link to nothing)."""
    tracked = _tracked()
    installed = [path for _, path in tracked if "node_modules" in path.split("/")
                 and not path.startswith("tests/")]  # a fixture site's: what reading must skip
    assert installed == []
    assert [path for mode, path in tracked if mode == "120000"] == []
    # Ignored as a link too (`node_modules/` matches only a folder), or as nothing yet.
    ignored = subprocess.run(["git", "check-ignore", "-q", "--no-index", "builder/node/node_modules"],
                             cwd=ROOT)
    assert ignored.returncode == 0
