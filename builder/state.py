"""The incremental state: what the last build of a destination made, and whether anything it
read has changed since (the fast path).

One record per destination, `.cache/outputs/<hash of the destination>.json`: the fingerprint of
every input, each output's sha256, size and mtime (the writer's record, which is also what
makes a destination ours), the warnings, the counts, and when a future-dated post comes due.
When the fingerprint matches, no post has come due and every output is as it was written, the
build stops there: nothing heavy is imported, nothing is written.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from builder import outputs, store
from builder.config import Config
from builder.entries import is_file, tree
from builder.model import RENDERED_SUFFIXES, BuildState, FigureSet

STATE_VERSION = 1


def path_for(cache_dir: Path, destination: Path) -> Path:
    key = hashlib.sha256(str(destination.resolve()).encode()).hexdigest()[:16]
    return cache_dir / "outputs" / f"{key}.json"


def load(cache_dir: Path, destination: Path) -> BuildState | None:
    """The record of the last build into `destination`, or None (never built there, or a
    record that cannot be read: the destination is then not known to be ours)."""
    try:
        data = store.read_record(path_for(cache_dir, destination), STATE_VERSION)
    except ValueError:
        return None
    if not data or not isinstance(data.get("files"), dict):
        return None
    due = data.get("valid_until")
    try:
        return BuildState(fingerprint=str(data.get("fingerprint", "")), files=data["files"],
                          warnings=tuple(data.get("warnings", [])), posts=int(data.get("posts", 0)),
                          pages=int(data.get("pages", 0)), static=int(data.get("static", 0)),
                          valid_until=datetime.fromisoformat(due) if due else None,
                          future_skipped=int(data.get("future_skipped", 0)))
    except (TypeError, ValueError):
        return None


def save(cache_dir: Path, destination: Path, state: BuildState) -> None:
    store.write_record(path_for(cache_dir, destination), STATE_VERSION, {
        "fingerprint": state.fingerprint, "files": state.files, "warnings": list(state.warnings),
        "posts": state.posts, "pages": state.pages, "static": state.static,
        "valid_until": state.valid_until.isoformat() if state.valid_until else None,
        "future_skipped": state.future_skipped})


def fingerprint(config: Config, figure_set: FigureSet, now: datetime,
                documents: dict[Path, bytes] | None = None) -> str:
    """sha256 of everything a build reads: the source tree, the published figure scripts, the
    settings, the builder's own code version, the figures' records, and the year (the footer
    shows it). `documents`, when given, receives the bytes of every Markdown and HTML file
    read (the posts and pages), for the build to read them from there: once, and as hashed."""
    digest = hashlib.sha256()
    real_source = config.source.resolve()  # the output and the cache, when inside the source, are not inputs
    outside = (config.destination.resolve(), config.cache_dir.resolve())
    skipped = [f.relative_to(real_source).parts for f in outside if f.is_relative_to(real_source)]
    # Each file by its listed path, as a string: a blog has thousands, and a `Path` made, read and
    # made relative again for each cost more than reading and hashing its bytes.
    for parts, entry in tree(config.source):
        if not is_file(entry) or "__pycache__" in parts or any(parts[:len(s)] == s for s in skipped):
            continue
        data = _read(entry.path)
        digest.update(f"{os.sep.join(parts)}\0".encode())
        digest.update(data)
        digest.update(b"\0")
        if documents is not None and _suffix(parts[-1]).lower() in RENDERED_SUFFIXES:
            documents[config.source.joinpath(*parts)] = data
    # The figure scripts are published beside the site (helpers no figure imports too), so each
    # is an input even when no figure's key covers it.
    figures = config.figures_dir.resolve()
    if figures.is_dir() and not figures.is_relative_to(real_source):
        for path in sorted(figures.glob("*.py")):
            digest.update(f"figures/{path.name}\0".encode() + path.read_bytes() + b"\0")
    settings: dict[str, Any] = dataclasses.asdict(config)
    records = {path: record.to_json() for path, record in figure_set.records.items()}
    digest.update(json.dumps([settings, records, store.code_version(), now.year], sort_keys=True,
                             default=str).encode())
    return digest.hexdigest()


def _read(path: str) -> bytes:
    """A file's bytes (`Path.read_bytes` without the `Path` and the buffered reader)."""
    with open(path, "rb", buffering=0) as handle:
        return handle.readall()


def _suffix(name: str) -> str:
    """`Path(name).suffix`: from the last dot, unless the name starts or ends with it."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def still_valid(state: BuildState, fingerprint: str, config: Config, now: datetime) -> bool:
    """Nothing changed: same inputs, outputs untouched, and no future post has come due."""
    if state.fingerprint != fingerprint:
        return False
    if state.valid_until is not None and now >= state.valid_until:
        return False
    return outputs.outputs_intact(config.destination.resolve(), state.files, config.keep_files)
