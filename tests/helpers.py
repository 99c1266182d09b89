"""What many tests share: the project's paths, fixture sites copied into a temporary folder,
snapshots of folders, small posts, toy figure scripts, and running `blog` in-process.

Every build a test makes goes into its own temporary folder with its caches there: fixture
sites under tests/sites/ are copied first (`copy_fixture`), never built in place.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import textwrap
from pathlib import Path

from bs4 import BeautifulSoup
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seed" / "cnn-co-gi-do-sai-sai.md"
SITE_SRC = ROOT / "site_src"
FIGURES = ROOT / "figures"
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


# --- processes ---------------------------------------------------------------------------------


def meet(folder: Path, processes: int) -> None:
    """Wait until `processes` processes have come here (each leaves its pid in `folder`): work
    shared between processes is then surely shared, whatever order they start in. The wait is
    only a guard against hanging, never a bound on a time."""
    import time

    (folder / str(os.getpid())).touch()
    give_up = time.monotonic() + 60
    while len(os.listdir(folder)) < processes:
        if time.monotonic() > give_up:
            raise TimeoutError(f"{processes} processes never met in {folder}")
        time.sleep(0.001)


# --- files and folders -------------------------------------------------------------------------


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


def copy_fixture(name: str, where: Path) -> Path:
    """tests/sites/NAME copied to `where` (a site folder of its own, its .cache beside it)."""
    shutil.copytree(FIXTURES / name, where)
    return where


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` and the sha256 of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def tree_digest(folder: Path) -> str:
    """One sha256 of every path (folders too) and file under `folder`."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        digest.update(path.relative_to(folder).as_posix().encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def entries(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: files with their bytes, links with their targets, folders."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir",)
            else:
                found[rel] = ("file", path.read_bytes())
    return found


def mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


# --- content ----------------------------------------------------------------------------------


def post(title: str = "Bài thử", body: str = "Nội dung.", **front: str) -> str:
    lines = [f"title: {title}"] + [f"{k}: {v}" for k, v in front.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def run_blog(*args: str):
    """Run `blog ARGS` in-process; return click's Result (exit_code, stdout, stderr)."""
    from builder.cli import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- toy figures: Pillow only, so their worker never imports torch or matplotlib -------------------


def toy_figure(path: str, alt: str = "a toy figure", colour: str = "white", size: int = 8,
               metrics: str = "None", extra: str = "") -> str:
    """A figure script drawing one plain image at `path` (a site path)."""
    return textwrap.dedent(f'''
        OUTPUTS = {{"{path}": "{alt}"}}
        {extra}

        def make(ctx):
            from PIL import Image
            ctx.save(Image.new("RGB", ({size}, {size}), "{colour}"), "{path}")
            return {metrics}
    ''')


TOY_GOOD = toy_figure("/img/good.png", "a good figure", metrics='{"answer": 42}')
TOY_BAD = '''
OUTPUTS = {"/img/bad.png": "a broken figure"}

def make(ctx):
    raise ValueError("cố ý hỏng")
'''
TOY_BARRED = toy_figure("/img/good.png", "a good figure", metrics='{"answer": 42}',
                        extra='BARS = {"answer": 100}')


def toy_project(root: Path, scripts: dict[str, str],
                posts: dict[str, str] | None = None) -> Path:
    """root/site_src with one post showing /img/good.png, and root/figures holding `scripts`."""
    posts = posts or {"2020-01-01-a.md": "---\ntitle: A\n---\n![x](/img/good.png)\n"}
    write_files(root / "site_src/_posts", posts)
    (root / "figures").mkdir(parents=True, exist_ok=True)
    write_files(root / "figures", scripts)
    return root
