"""Shared fixtures: small sites written into real temporary folders."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from builder.cli import cli

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "cnn-co-gi-do-sai-sai.md"
SITE_SRC = ROOT / "site_src"
FIXTURES = Path(__file__).parent / "sites"

BASIC_CONFIG = """\
title: Blog thử
description: Một blog để thử
url: https://example.github.io
baseurl: ""
lang: vi
author: Người viết
timezone: Asia/Ho_Chi_Minh
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data).lstrip("\n") if rel.endswith(".md") else data,
                            encoding="utf-8")
    return root


@pytest.fixture
def tmp_site(tmp_path: Path):
    """Write a dict of files under tmp_path/src (with a default _config.yml); return src."""

    def make(files: dict[str, str | bytes], config: str | None = BASIC_CONFIG) -> Path:
        source = tmp_path / "src"
        source.mkdir(exist_ok=True)
        if config is not None:
            (source / "_config.yml").write_text(config, encoding="utf-8")
        return write_files(source, files)

    return make


def run_blog(*args: str):
    """Run `blog ARGS` in-process; return click's Result (exit_code, stdout, stderr)."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def post(title: str = "Bài thử", body: str = "Nội dung.", **front: str) -> str:
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"

FIGURES = ROOT / "figures"


@pytest.fixture(scope="session")
def seed_project(tmp_path_factory) -> Path:
    """The real site_src/ and figures/ copied into a fresh project folder and built once,
    with figures in quick mode on the CPU (its own .cache/, so the repository's is untouched)."""
    import shutil

    project = tmp_path_factory.mktemp("project")
    shutil.copytree(SITE_SRC, project / "site_src")
    shutil.copytree(FIGURES, project / "figures", ignore=shutil.ignore_patterns("__pycache__"))
    result = run_blog("build", "-s", str(project / "site_src"), "--quick", "--device", "cpu")
    assert result.exit_code == 0, result.output + result.stderr
    (project / "build-log.txt").write_text(result.stdout + result.stderr, encoding="utf-8")
    return project


# --- Chromium for the browser tests (tests/test_browser.py, tests/test_math_browser.py) ---

CHROMIUM = Path("/usr/bin/chromium")
INSTALL = "apt-get install -y chromium fonts-dejavu-core fonts-liberation2"
ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium is not installed; browser tests need it: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()
