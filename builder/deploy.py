"""`blog deploy`: a strict build, committed to the gh-pages branch with ghp-import and pushed.

The site is built into a temporary folder; ghp-import writes the commit with `git fast-import`,
so the current branch, the index and the working tree are never touched.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import subprocess
import tempfile
from pathlib import Path

from builder.build import build
from builder.config import load_config
from builder.errors import BuildError


@dataclasses.dataclass(frozen=True)
class Deployment:
    url: str
    branch: str
    remote: str
    commit: str


def deploy(source: Path, remote: str = "origin", branch: str = "gh-pages", message: str | None = None,
           progress=None) -> Deployment:
    repo = _repository(source)
    remote_url = _git(repo, "remote", "get-url", remote, error=(
        f"there is no git remote named {remote!r} in {repo}; add one with "
        f"`git remote add {remote} URL` or choose another with --remote"))
    head = _git(repo, "rev-parse", "--short", "HEAD", error="", check=False) or "no commit"
    with tempfile.TemporaryDirectory(prefix="blog-deploy-") as tmp:
        config = dataclasses.replace(load_config(source, strict=True), destination=Path(tmp) / "site")
        build(config, progress=progress, incremental=False)
        _publish(repo, config.destination, remote, branch, message or f"Xuất bản trang từ {head}")
    commit = _git(repo, "rev-parse", "--short", branch, error="the branch was not written")
    return Deployment(site_url(config.url, config.baseurl, remote_url), branch, remote, commit)


def _publish(repo: Path, folder: Path, remote: str, branch: str, message: str) -> None:
    import ghp_import

    with contextlib.chdir(repo):  # ghp-import runs git in the current directory
        try:
            ghp_import.ghp_import(str(folder), remote=remote, branch=branch, mesg=message, push=True,
                                  nojekyll=True, followlinks=False)
        except (ghp_import.GhpError, subprocess.CalledProcessError) as err:
            detail = getattr(err, "message", None) or str(err)
            raise BuildError(f"publishing to {remote}/{branch} failed: {detail}") from None


def site_url(url: str, baseurl: str, remote_url: str) -> str:
    """Where GitHub Pages will serve the site: from _config.yml, else from the GitHub remote."""
    if url:
        return f"{url}{baseurl}/"
    match = re.search(r"github\.com[:/]([^/]+)/([^/]+?)(?:\.git)?/?$", remote_url)
    if not match:
        return "(set url in _config.yml to print the address)"
    owner, name = match.groups()
    if name.lower() == f"{owner.lower()}.github.io":
        return f"https://{owner.lower()}.github.io/"
    return f"https://{owner.lower()}.github.io/{name}/"


def _repository(source: Path) -> Path:
    folder = source if source.is_dir() else source.parent
    top = _git(folder.resolve(), "rev-parse", "--show-toplevel", error=(
        f"{source} is not inside a git repository; `blog deploy` publishes to a branch of one "
        "(run `git init` and add a remote first)"))
    return Path(top)


def _git(cwd: Path, *args: str, error: str, check: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        if check:
            raise BuildError(error)
        return ""
    return done.stdout.strip()
