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
import logging
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from builder import strings
from builder.build import build
from builder.config import load_config
from builder.errors import BuildError, StrictError
from builder.outputs import kept

log = logging.getLogger(__name__)

PUBLISHED_BY = "Published-by: blog deploy"  # the trailer that marks our commits on the branch


@dataclasses.dataclass(frozen=True)
class Deployment:
    url: str
    branch: str
    remote: str
    commit: str  # "" when no commit was made (a dry run, or nothing changed)
    carried: tuple[str, ...] = ()  # files on the branch matching keep_files, carried over
    left_out: tuple[str, ...] = ()  # files of someone else's not in the new commit (forced)
    previous: str = ""  # the branch's commit before this one
    changes: dict[str, str] = dataclasses.field(default_factory=dict)  # path -> "+", "~" or "-"
    message: str = ""  # the commit's message
    remote_url: str = ""
    uncommitted: tuple[str, ...] = ()  # source files with changes git has not committed


@dataclasses.dataclass(frozen=True)
class _TheirFile:
    blob: str
    mode: str


def deploy(source: Path, remote: str = "origin", branch: str = "gh-pages", message: str | None = None,
           progress=None, force: bool = False, dry_run: bool = False,
           report: Callable[[str], None] = log.warning) -> Deployment:
    """Build strictly and commit the site to `branch` (pushed to `remote`). No commit when the
    site is what the branch already holds; `dry_run` says what would be committed instead.
    Uncommitted changes to the sources are reported and named in the commit message."""
    repo = _repository(source)
    remote_url = _git(repo, "remote", "get-url", remote, error=(
        f"there is no git remote named {remote!r} in {repo}; add one with "
        f"`git remote add {remote} URL` or choose another with --remote"))
    head = _git(repo, "rev-parse", "--short", "HEAD", error="", check=False) or "no commit"
    settings = load_config(source, strict=True)
    uncommitted = _uncommitted(repo, (settings.source, settings.figures_dir))
    if uncommitted:
        report(f"warning: uncommitted changes in the sources ({_names(uncommitted)}); the site is built "
               "from them as they are, and the deploy's commit message says so")
    _git(repo, "fetch", "--quiet", remote, branch, error="", check=False)  # see what it holds now
    base = _base_commit(repo, remote, branch)
    files, theirs = _branch_files(repo, base) if base else ({}, set())
    with tempfile.TemporaryDirectory(prefix="blog-deploy-") as tmp:
        config = dataclasses.replace(settings, destination=Path(tmp) / "site")
        _strict_build(config, progress)
        carried, at_risk = _sort_theirs(files, theirs, config.destination, config.keep_files)
        if at_risk and not force:
            raise BuildError(
                f"{remote}/{branch} holds {_some(at_risk)} that this tool did not write and this deploy "
                f"would remove or replace; nothing was published. Add them to {source} (or to keep_files in "
                f"_config.yml to carry them over), or run again with --force: they stay in the branch's "
                f"history (commit {base[:12]})")
        for rel in carried:
            _restore(repo, files[rel], config.destination / rel)
        words = strings.table(config.lang)
        text = (message or words["deploy_message"].format(commit=head)).rstrip("\n")
        if uncommitted:
            text += "\n\n" + words["deploy_uncommitted"].format(files=_names(uncommitted))
        text += f"\n\n{PUBLISHED_BY}"
        changes = _changes(files, config.destination)
        done = Deployment(site_url(config.url, config.baseurl, remote_url), branch, remote, "",
                          tuple(carried), tuple(at_risk), (base or "")[:12], changes, text, remote_url,
                          tuple(uncommitted))
        if dry_run or not changes:
            return done
        _publish(repo, config.destination, remote, branch, text)
    commit = _git(repo, "rev-parse", "--short", branch, error="the branch was not written")
    return dataclasses.replace(done, commit=commit)


def _strict_build(config, progress) -> None:
    """The build a deploy publishes: always strict, so a warning stops it, naming them all."""
    try:
        build(config, progress=progress, incremental=False)
    except StrictError as err:
        shown = "; ".join(err.warnings[:3]) + (f"; and {len(err.warnings) - 3} more"
                                                if len(err.warnings) > 3 else "")
        raise BuildError(f"nothing was published: a deploy is always strict, and the build gave "
                         f"{len(err.warnings)} warning(s): {shown}. Fix them and deploy again") from None


def _uncommitted(repo: Path, folders: tuple[Path, ...]) -> list[str]:
    """Files under `folders` (inside `repo`) that git shows as changed or new, relative to `repo`."""
    inside = [str(f.resolve()) for f in folders if f.exists() and f.resolve().is_relative_to(repo)]
    if not inside:
        return []
    listing = _git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *inside,
                   error="", check=False, strip=False)
    names, entries = [], iter(listing.split("\0"))
    for entry in entries:
        if len(entry) > 3:
            names.append(entry[3:])
            if entry[0] in "RC":  # a rename is followed by the name it had
                next(entries, None)
    return sorted(names)


def _changes(files: dict[str, _TheirFile], site: Path) -> dict[str, str]:
    """What the new commit changes on the branch: `+` added, `~` changed, `-` removed."""
    built = {p.relative_to(site).as_posix(): p for p in sorted(site.rglob("*")) if p.is_file()}
    changes = {}
    for rel, path in built.items():
        if rel not in files:
            changes[rel] = "+"
        elif _blob_id(path.read_bytes()) != files[rel].blob:
            changes[rel] = "~"
    for rel in files:
        if rel not in built:
            changes[rel] = "-"
    return dict(sorted(changes.items()))


def _names(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


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
