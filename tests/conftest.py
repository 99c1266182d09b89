"""Shared fixtures: small sites written into real temporary folders, the seed project built
once, one Chromium. Plain helpers live in tests/helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import BASIC_CONFIG, FIGURES, FIXTURES, SITE_SRC, entries, run_blog, write_files


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Whatever builds the real seed project (its figures train) is slow: `-m "not slow"` skips it."""
    for item in items:
        if "seed_project" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session", autouse=True)
def fixture_sites_stay_untouched():
    """No test builds inside tests/sites/ (a build goes to its own temporary folder, with its
    caches): the fixtures are exactly as they were when the session ends."""
    before = entries(FIXTURES)
    yield
    changed = sorted(set(before) ^ set(entries(FIXTURES)))
    assert not changed, f"a test wrote into {FIXTURES}: {changed[:5]}"


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


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """The pids of the processes forked (from this process) while the test runs."""
    pids: list[int] = []
    real_fork = os.fork

    def counted() -> int:
        pid = real_fork()
        if pid:
            pids.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return pids
