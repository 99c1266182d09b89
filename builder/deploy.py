"""`blog deploy`: a strict build, committed to the gh-pages branch with ghp-import and pushed.

The site is built into a temporary folder; ghp-import writes the commit with `git fast-import`,
so the current branch, the index and the working tree are never touched.

The branch is a destination like any other: each commit this tool makes says so in a trailer
line, and a file on the branch that a later commit of someone else's added or changed (a CNAME
made by GitHub's settings page, a verification file) is not ours. Such files matching
`keep_files` are carried into the new commit; any other makes the deploy stop before anything
is published, unless forced (the file then stays in the branch's history, not in its tree).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import re
import subprocess
import tempfile
from pathlib import Path

from builder import strings
from builder.build import build
from builder.config import load_config
from builder.errors import BuildError
from builder.outputs import kept

PUBLISHED_BY = "Published-by: blog deploy"  # the trailer that marks our commits on the branch


@dataclasses.dataclass(frozen=True)
class Deployment:
    url: str
    branch: str
    remote: str
    commit: str
    carried: tuple[str, ...] = ()  # files on the branch matching keep_files, carried over
    left_out: tuple[str, ...] = ()  # files of someone else's not in the new commit (forced)
    previous: str = ""  # the branch's commit before this one


@dataclasses.dataclass(frozen=True)
class _TheirFile:
    blob: str
    mode: str


def deploy(source: Path, remote: str = "origin", branch: str = "gh-pages", message: str | None = None,
           progress=None, force: bool = False) -> Deployment:
    repo = _repository(source)
    remote_url = _git(repo, "remote", "get-url", remote, error=(
        f"there is no git remote named {remote!r} in {repo}; add one with "
        f"`git remote add {remote} URL` or choose another with --remote"))
    head = _git(repo, "rev-parse", "--short", "HEAD", error="", check=False) or "no commit"
    _git(repo, "fetch", "--quiet", remote, branch, error="", check=False)  # see what it holds now
    base = _base_commit(repo, remote, branch)
    files, theirs = _branch_files(repo, base) if base else ({}, set())
    with tempfile.TemporaryDirectory(prefix="blog-deploy-") as tmp:
        config = dataclasses.replace(load_config(source, strict=True), destination=Path(tmp) / "site")
        build(config, progress=progress, incremental=False)
        carried, at_risk = _sort_theirs(files, theirs, config.destination, config.keep_files)
        if at_risk and not force:
            raise BuildError(
                f"{remote}/{branch} holds {_some(at_risk)} that this tool did not write and this deploy "
                f"would remove or replace; nothing was published. Add them to {source} (or to keep_files in "
                f"_config.yml to carry them over), or run again with --force: they stay in the branch's "
                f"history (commit {base[:12]})")
        for rel in carried:
            _restore(repo, files[rel], config.destination / rel)
        default = strings.table(config.lang)["deploy_message"].format(commit=head)
        text = (message or default).rstrip("\n") + f"\n\n{PUBLISHED_BY}"
        _publish(repo, config.destination, remote, branch, text)
    commit = _git(repo, "rev-parse", "--short", branch, error="the branch was not written")
    return Deployment(site_url(config.url, config.baseurl, remote_url), branch, remote, commit,
                      tuple(carried), tuple(at_risk), (base or "")[:12])


def _base_commit(repo: Path, remote: str, branch: str) -> str | None:
    """The commit ghp-import builds on: the remote's branch when known, else the local one."""
    for ref in (f"refs/remotes/{remote}/{branch}", f"refs/heads/{branch}"):
        commit = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", error="", check=False)
        if commit:
            return commit
    return None


def _branch_files(repo: Path, base: str) -> tuple[dict[str, _TheirFile], set[str]]:
    """Every file on the branch, and those that commits of someone else's added or changed
    since our last one (all of them when no commit is ours)."""
    listing = _git(repo, "ls-tree", "-r", "-z", "--full-tree", base, error="cannot read the branch",
                   strip=False)
    files = {}
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        mode, kind, blob = meta.split()
        if kind == "blob":
            files[path] = _TheirFile(blob, mode)
    ours = _git(repo, "log", "-1", "--first-parent", "--format=%H", "--fixed-strings",
                f"--grep={PUBLISHED_BY}", base, "--", error="", check=False)
    if not ours:
        return files, set(files)
    changed = _git(repo, "diff", "--name-only", "-z", "--no-renames", ours, base, "--",
                   error="cannot compare the branch", strip=False)
    return files, {path for path in changed.split("\0") if path in files}


def _sort_theirs(files: dict[str, _TheirFile], theirs: set[str], site: Path,
                 keep: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(carried over: kept and not made by this build, whoever wrote them; at risk: files of
    someone else's that the new commit would remove or replace)."""
    carried, at_risk = [], []
    for rel, file in sorted(files.items()):
        ours = site / rel
        if ours.is_file():
            if rel in theirs and _blob_id(ours.read_bytes()) != file.blob:
                at_risk.append(rel)
        elif kept(rel, keep) and file.mode in ("100644", "100755"):
            carried.append(rel)
        elif rel in theirs:
            at_risk.append(rel)
    return carried, at_risk


def _restore(repo: Path, file: _TheirFile, target: Path) -> None:
    data = subprocess.run(["git", "cat-file", "blob", file.blob], cwd=repo, capture_output=True,
                          check=True).stdout
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    if file.mode == "100755":
        target.chmod(0o755)


def _blob_id(data: bytes) -> str:
    """The id git gives these bytes as a file (what `git hash-object` prints)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _some(paths: list[str]) -> str:
    names = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
    return f"{len(paths)} file{'s' if len(paths) != 1 else ''} ({names})"


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


def _git(cwd: Path, *args: str, error: str, check: bool = True, strip: bool = True) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        if check:
            raise BuildError(error)
        return ""
    return done.stdout.strip() if strip else done.stdout
