"""`blog deploy` against a local bare repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from builder.deploy import site_url
from tests.conftest import FIXTURES, run_blog

FIGURE = '''
OUTPUTS = {"/images/anh.png": "một hình"}

def make(ctx):
    from PIL import Image
    ctx.save(Image.new("RGB", (4, 4), "white"), "/images/anh.png")
'''


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(FIXTURES / "basic", work / "site_src")
    (work / "figures").mkdir()
    (work / "figures/anh.py").write_text(FIGURE)
    (work / ".gitignore").write_text(".cache/\n")
    git(tmp_path, "init", "-q", "--bare", "-b", "main", "remote.git")
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.email", "t@example.org")
    git(work, "config", "user.name", "Người thử")
    git(work, "add", "-A")
    git(work, "commit", "-qm", "nguồn")
    git(work, "remote", "add", "origin", str(tmp_path / "remote.git"))
    return work


def test_deploy_publishes_the_site_to_gh_pages_and_keeps_history(repo: Path, tmp_path: Path) -> None:
    status_before, head_before = git(repo, "status", "--porcelain"), git(repo, "rev-parse", "HEAD")
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 0, result.stderr
    assert "to origin/gh-pages: https://example.github.io/" in result.stdout
    remote = tmp_path / "remote.git"
    files = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    expected = ["index.html", ".nojekyll", "CNAME", "hoc-may/2019/12/31/cu-nhat/index.html",
                "images/anh.png", "feed.xml", "figures.json"]
    for path in expected:
        assert path in files
    assert git(remote, "rev-list", "--count", "gh-pages") == "1"
    # The current branch, index and working tree are untouched.
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(repo, "rev-parse", "HEAD") == head_before
    assert git(repo, "status", "--porcelain") == status_before
    assert not (repo / "_site").exists()
    again = run_blog("deploy", "-s", str(repo / "site_src"), "-m", "lần hai")
    assert again.exit_code == 0, again.stderr
    assert git(remote, "rev-list", "--count", "gh-pages") == "2"
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "lần hai"


def test_deploy_refuses_outside_a_repository_or_without_the_remote(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(FIXTURES / "basic", outside / "site_src")
    result = run_blog("deploy", "-s", str(outside / "site_src"))
    assert result.exit_code == 1 and "is not inside a git repository" in result.stderr
    result = run_blog("deploy", "-s", str(repo / "site_src"), "--remote", "upstream")
    assert result.exit_code == 1 and "there is no git remote named 'upstream'" in result.stderr


def test_deploy_builds_strictly(repo: Path, tmp_path: Path) -> None:
    (repo / "site_src/_posts/2020-06-06-anh.md").write_text("---\ntitle: Ảnh\n---\n![x](/images/khong.png)\n")
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 1 and "--strict" in result.stderr
    assert subprocess.run(["git", "rev-parse", "--verify", "gh-pages"], cwd=tmp_path / "remote.git",
                          capture_output=True).returncode != 0


@pytest.mark.parametrize("url, baseurl, remote, expected", [
    ("https://blog.example.org", "", "", "https://blog.example.org/"),
    ("", "", "git@github.com:VietML/vietml.github.io.git", "https://vietml.github.io/"),
    ("", "", "https://github.com/vietml/blog.git", "https://vietml.github.io/blog/"),
    ("https://vietml.github.io", "/blog", "https://github.com/vietml/blog", "https://vietml.github.io/blog/"),
])
def test_site_url(url: str, baseurl: str, remote: str, expected: str) -> None:
    assert site_url(url, baseurl, remote) == expected


def test_the_github_actions_workflow_builds_and_publishes() -> None:
    import yaml

    from tests.conftest import ROOT

    workflow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert "make site" in runs and ".venv/bin/blog build --strict" in runs
    assert any(step.get("with", {}).get("path") == ".cache" for step in steps)
    assert any(step.get("with", {}).get("path") == "_site" for step in steps)
    assert workflow["permissions"]["pages"] == "write"
