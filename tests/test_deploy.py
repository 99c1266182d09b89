"""`blog deploy` against a local bare repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from builder.deploy import site_url
from tests.helpers import FIXTURES, run_blog, toy_figure

FIGURE = toy_figure("/images/anh.png", "một hình", size=4)


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
    edit_and_commit(repo)
    again = run_blog("deploy", "-s", str(repo / "site_src"), "-m", "lần hai")
    assert again.exit_code == 0, again.stderr
    assert git(remote, "rev-list", "--count", "gh-pages") == "2"
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "lần hai"


def edit_and_commit(repo: Path, text: str = "\nThêm một dòng.\n") -> None:
    post = repo / "site_src/_posts/2019-12-31-cu-nhat.md"
    post.write_text(post.read_text(encoding="utf-8") + text, encoding="utf-8")
    git(repo, "commit", "-qam", "sửa bài")


def test_deploy_makes_no_commit_when_nothing_changed(repo: Path, tmp_path: Path) -> None:
    assert run_blog("deploy", "-s", str(repo / "site_src")).exit_code == 0
    remote = tmp_path / "remote.git"
    tip = git(remote, "rev-parse", "gh-pages")
    again = run_blog("deploy", "-s", str(repo / "site_src"))
    assert again.exit_code == 0, again.stderr
    said = f"nothing changed since origin/gh-pages ({tip[:12]}): no commit made, nothing pushed"
    assert said in again.stdout
    assert git(remote, "rev-parse", "gh-pages") == tip


def test_deploy_dry_run_shows_what_would_be_committed_and_commits_nothing(repo: Path, tmp_path: Path) -> None:
    first = run_blog("deploy", "--dry-run", "-s", str(repo / "site_src"))
    assert first.exit_code == 0, first.stderr
    assert "dry run: would commit to origin/gh-pages and push to " in first.stdout
    assert "  + .nojekyll\n  + 404.html\n" in first.stdout and "  + ... and " in first.stdout
    assert "\nmessage: Xuất bản trang từ " in first.stdout
    assert "\n         Published-by: blog deploy\n" in first.stdout
    assert first.stdout.endswith("nothing was committed or pushed\n")
    assert subprocess.run(["git", "rev-parse", "--verify", "gh-pages"], cwd=tmp_path / "remote.git",
                          capture_output=True).returncode != 0
    assert subprocess.run(["git", "rev-parse", "--verify", "gh-pages"], cwd=repo,
                          capture_output=True).returncode != 0
    assert run_blog("deploy", "-s", str(repo / "site_src")).exit_code == 0
    tip = git(tmp_path / "remote.git", "rev-parse", "gh-pages")
    edit_and_commit(repo)
    second = run_blog("deploy", "--dry-run", "-s", str(repo / "site_src"))
    assert "0 added, " in second.stdout and "  ~ hoc-may/2019/12/31/cu-nhat/index.html" in second.stdout
    assert git(tmp_path / "remote.git", "rev-parse", "gh-pages") == tip
    unchanged = run_blog("deploy", "--dry-run", "-s", str(repo / "site_src"))
    assert "nothing would change" not in unchanged.stdout  # the edit is still not published
    assert run_blog("deploy", "-s", str(repo / "site_src")).exit_code == 0
    done = run_blog("deploy", "--dry-run", "-s", str(repo / "site_src"))
    assert "dry run: nothing would change on origin/gh-pages; no commit would be made" in done.stdout


def test_deploy_warns_about_uncommitted_sources_and_says_so_in_the_commit(repo: Path, tmp_path: Path) -> None:
    post = repo / "site_src/_posts/2019-12-31-cu-nhat.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nChưa commit.\n", encoding="utf-8")
    (repo / "site_src/_posts/2020-07-07-moi.md").write_text("---\ntitle: Mới\n---\nMới.\n", encoding="utf-8")
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 0, result.stderr
    assert ("warning: uncommitted changes in the sources (site_src/_posts/2019-12-31-cu-nhat.md, "
            "site_src/_posts/2020-07-07-moi.md)") in result.stderr
    body = git(tmp_path / "remote.git", "log", "-1", "--format=%B", "gh-pages")
    assert ("Dựng từ các thay đổi chưa commit trong: site_src/_posts/2019-12-31-cu-nhat.md, "
            "site_src/_posts/2020-07-07-moi.md") in body
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "bài mới")
    edit_and_commit(repo)
    clean = run_blog("deploy", "-s", str(repo / "site_src"))
    assert clean.exit_code == 0 and "uncommitted" not in clean.stderr
    assert "chưa commit" not in git(tmp_path / "remote.git", "log", "-1", "--format=%B", "gh-pages")


def test_deploy_refuses_outside_a_repository_or_without_the_remote(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(FIXTURES / "basic", outside / "site_src")
    result = run_blog("deploy", "-s", str(outside / "site_src"))
    assert result.exit_code == 1 and "is not inside a git repository" in result.stderr
    result = run_blog("deploy", "-s", str(repo / "site_src"), "--remote", "upstream")
    assert result.exit_code == 1 and "there is no git remote named 'upstream'" in result.stderr


def test_deploy_builds_strictly(repo: Path, tmp_path: Path) -> None:
    (repo / "site_src/_posts/2020-06-06-anh.md").write_text("---\ntitle: Ảnh\n---\n![x](/images/khong.png)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "ảnh thiếu")
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 1
    post = repo / "site_src/_posts/2020-06-06-anh.md"
    assert result.stderr.splitlines()[-2:] == [
        f"warning: {post}:4: image /images/khong.png: no file provides it",
        f"error: nothing was published: a deploy is always strict, and the build gave 1 warning(s): "
        f"{post}:4: image /images/khong.png: no file provides it. Fix them and deploy again"]
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

    from tests.helpers import ROOT

    workflow = yaml.safe_load((ROOT / ".github/workflows/pages.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    runs = [step.get("run", "") for step in steps]
    assert "make site" in runs and ".venv/bin/blog build --strict" in runs
    assert any(step.get("with", {}).get("path") == ".cache" for step in steps)
    assert any(step.get("with", {}).get("path") == "_site" for step in steps)
    assert workflow["permissions"]["pages"] == "write"


def commit_on_gh_pages(tmp_path: Path, files: dict[str, str], message: str) -> str:
    """Someone else's commit on the remote's gh-pages (GitHub's settings page, a hand edit)."""
    other = tmp_path / "other"
    if not other.exists():
        git(tmp_path, "clone", "-q", "-b", "gh-pages", str(tmp_path / "remote.git"), str(other))
        git(other, "config", "user.email", "o@example.org")
        git(other, "config", "user.name", "Người khác")
    git(other, "pull", "-q")
    for rel, text in files.items():
        (other / rel).parent.mkdir(parents=True, exist_ok=True)
        (other / rel).write_text(text)
    git(other, "add", "-A")
    git(other, "commit", "-qm", message)
    git(other, "push", "-q", "origin", "gh-pages")
    return git(other, "rev-parse", "HEAD")


def test_deploy_refuses_to_drop_files_it_did_not_write_unless_forced(repo: Path, tmp_path: Path) -> None:
    assert run_blog("deploy", "-s", str(repo / "site_src")).exit_code == 0
    remote = tmp_path / "remote.git"
    theirs = commit_on_gh_pages(tmp_path, {"google123.html": "google-site-verification"}, "Xác minh")
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert ("origin/gh-pages holds 1 file (google123.html) that this tool did not write and this deploy "
            "would remove or replace; nothing was published") in lines[0]
    assert "--force" in lines[0] and f"(commit {theirs[:12]})" in lines[0]
    assert git(remote, "rev-parse", "gh-pages") == theirs  # nothing was published
    forced = run_blog("deploy", "-s", str(repo / "site_src"), "--force")
    assert forced.exit_code == 0, forced.stderr
    assert (f"left out 1 file of origin/gh-pages this tool did not write; they stay in its history "
            f"(commit {theirs[:12]}): google123.html") in forced.stdout
    assert "google123.html" not in git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert git(remote, "show", f"{theirs}:google123.html") == "google-site-verification"
    assert git(remote, "rev-list", "--count", "gh-pages") == "3"  # history kept
    again = run_blog("deploy", "-s", str(repo / "site_src"))  # the tip is ours again
    assert again.exit_code == 0, again.stderr


def test_deploy_carries_over_keep_files_made_by_someone_else(repo: Path, tmp_path: Path) -> None:
    config = repo / "site_src/_config.yml"
    config.write_text(config.read_text() + "keep_files: [.well-known]\n")
    assert run_blog("deploy", "-s", str(repo / "site_src")).exit_code == 0
    commit_on_gh_pages(tmp_path, {".well-known/security.txt": "Contact: a@e.org\n"}, "security.txt")
    edit_and_commit(repo)
    result = run_blog("deploy", "-s", str(repo / "site_src"), "-m", "lần hai")
    assert result.exit_code == 0, result.stderr
    assert "kept 1 file of origin/gh-pages that match keep_files: .well-known/security.txt" in result.stdout
    remote = tmp_path / "remote.git"
    assert git(remote, "show", "gh-pages:.well-known/security.txt") == "Contact: a@e.org"
    assert git(remote, "log", "-1", "--format=%s", "gh-pages") == "lần hai"
    assert "Published-by: blog deploy" in git(remote, "log", "-1", "--format=%b", "gh-pages")
    # Carried into our commit, they are still kept by the next deploy.
    third = run_blog("deploy", "-s", str(repo / "site_src"))
    assert third.exit_code == 0 and "kept 1 file" in third.stdout
    assert git(remote, "show", "gh-pages:.well-known/security.txt") == "Contact: a@e.org"


def test_deploy_over_a_branch_this_tool_never_wrote_is_refused(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "--orphan", "gh-pages")
    git(repo, "rm", "-rq", "--cached", ".")
    (repo / "cu.html").write_text("trang cũ")
    git(repo, "add", "cu.html")
    git(repo, "commit", "-qm", "trang cũ viết tay")
    git(repo, "push", "-q", "origin", "gh-pages")
    git(repo, "checkout", "-q", "-f", "main")
    assert not (repo / "cu.html").exists() and git(repo, "status", "--porcelain") == ""
    result = run_blog("deploy", "-s", str(repo / "site_src"))
    assert result.exit_code == 1 and "holds 1 file (cu.html) that this tool did not write" in result.stderr
    assert git(tmp_path / "remote.git", "rev-list", "--count", "gh-pages") == "1"
