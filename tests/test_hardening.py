"""Hostile content, symlinks, write faults, concurrent builds: nothing lost, nothing leaked."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from builder import outputs
from tests.helpers import FIXTURES, ROOT, post, run_blog, tree, write_files

HOSTILE = '<script>alert("x")</script> & \'q\' "dq"'


def test_hostile_text_is_escaped_everywhere_it_appears(tmp_site, tmp_path: Path) -> None:
    quoted = HOSTILE.replace("'", "''")  # YAML single-quoted
    front = (f"---\ntitle: '{quoted}'\ncategories: ['<b>đậm</b> & co']\ndescription: '{quoted}'\n"
             "---\nThân bài.\n")
    source = tmp_site({"_posts/2020-01-01-hostile.md": front},
                      config="title: 'Blog <i>nghiêng</i> & \"x\"'\nurl: https://e.github.io\n")
    out = tmp_path / "o"
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    for path in out.rglob("*"):
        if path.suffix in (".html", ".xml", ".txt", ".json"):
            text = path.read_text(encoding="utf-8")
            assert "<script>alert" not in text, path
            assert "<b>đậm</b>" not in text and "<i>nghiêng</i>" not in text, path
    page = (out / "2020/01/01/hostile/index.html").read_text(encoding="utf-8")
    assert "<title>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;q&#39; &#34;dq&#34;" in page
    assert 'content="&lt;script&gt;alert(&#34;x&#34;)' in page  # meta/OpenGraph attributes
    feed = ET.parse(out / "feed.xml").getroot()  # valid XML, text intact once parsed
    ns = "{http://www.w3.org/2005/Atom}"
    assert feed.find(f"{ns}entry/{ns}title").text == HOSTILE
    assert feed.find(f"{ns}entry/{ns}category").get("term") == "<b>đậm</b> & co"
    ET.parse(out / "sitemap.xml")


def test_symlinks_out_of_the_site_are_not_followed(tmp_site, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.txt").write_text("bí mật")
    source = tmp_site({"_posts/2020-01-01-a.md": post()})
    os.symlink(secret, source / "leak")
    os.symlink(secret / "key.txt", source / "key.txt")
    os.symlink(secret / "key.txt", source / "_posts" / "2020-02-02-leak.md")
    (source / "inside.txt").write_text("trong")
    os.symlink(source / "inside.txt", source / "alias.txt")
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "o"))
    assert result.exit_code == 0
    assert result.stderr.count("outside the site; not followed") == 3
    built = tree(tmp_path / "o")
    assert not any(rel.startswith(("leak", "key.txt")) for rel in built) and "alias.txt" in built
    assert not any("leak" in rel for rel in built)


def test_a_write_error_leaves_the_previous_site_and_says_so(tmp_site, tmp_path: Path, monkeypatch) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A"), "_posts/2020-01-02-b.md": post("B")})
    out = tmp_path / "_site"
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    before = tree(out)
    write_files(source, {"_posts/2020-01-01-a.md": post("A mới"), "_posts/2020-01-03-c.md": post("C")})
    real_put, calls = outputs._put, []

    def full_disk(target: Path, data) -> None:
        calls.append(target)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        real_put(target, data)

    monkeypatch.setattr(outputs, "_put", full_disk)
    result = run_blog("build", "-s", str(source), "-d", str(out))
    assert result.exit_code == 1
    assert "could not write the site (No space left on device)" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree(out) == before  # no temporary file left, nothing half-replaced
    monkeypatch.setattr(outputs, "_put", real_put)
    assert run_blog("build", "-s", str(source), "-d", str(out)).exit_code == 0
    assert "2020/01/03/c/index.html" in tree(out)


def test_a_write_error_on_a_first_build_leaves_nothing(tmp_site, tmp_path: Path, monkeypatch) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": post("A")})

    def full_disk(target: Path, data) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(outputs, "_put", full_disk)
    result = run_blog("build", "-s", str(source), "-d", str(tmp_path / "_site"))
    assert result.exit_code == 1 and not (tmp_path / "_site").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("._site")] == []


def test_two_builds_at_once_leave_one_whole_site(tmp_path: Path) -> None:
    source = tmp_path / "site_src"
    shutil.copytree(FIXTURES / "basic", source)
    command = [sys.executable, "-m", "builder", "build", "-s", str(source)]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    results = [p.communicate(timeout=120) + (p.returncode,) for p in (first, second)]
    assert [code for _, _, code in results] == [0, 0], results
    built = tree(tmp_path / "_site")
    shutil.rmtree(tmp_path / "_site")
    shutil.rmtree(tmp_path / ".cache")
    assert run_blog("build", "-s", str(source)).exit_code == 0
    assert tree(tmp_path / "_site") == built
    assert sorted(p.name for p in tmp_path.iterdir()) == [".cache", "_site", "site_src"]  # no staging debris


def test_a_figure_run_killed_midway_leaves_no_half_output(tmp_path: Path) -> None:
    import signal
    import time

    (tmp_path / "site_src/_posts").mkdir(parents=True)
    (tmp_path / "site_src/_posts/2020-01-01-a.md").write_text(post())
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures/nhanh.py").write_text(
        'OUTPUTS = {"/img/nhanh.png": "x"}\n\ndef make(ctx):\n    from PIL import Image\n'
        '    ctx.save(Image.new("RGB", (4, 4)), "/img/nhanh.png")\n')
    (tmp_path / "figures/zcham.py").write_text(
        'OUTPUTS = {"/img/a.png": "a", "/img/b.png": "b"}\n\ndef make(ctx):\n    import time\n'
        '    from PIL import Image\n    ctx.save(Image.new("RGB", (4, 4)), "/img/a.png")\n'
        '    open(ctx.out_dir / "started", "w").close()\n    time.sleep(60)\n'
        '    ctx.save(Image.new("RGB", (4, 4)), "/img/b.png")\n')
    command = [sys.executable, "-m", "builder", "figures", "-s", str(tmp_path / "site_src")]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 90
    while not list((tmp_path / ".cache/figures/zcham").glob(".tmp-*/started")):
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)  # the builder and its worker, mid-figure
    process.wait()
    import json

    manifest = json.loads((tmp_path / ".cache/figures/manifest.json").read_text())
    assert [e["name"] for e in manifest["figures"]] == ["nhanh"]  # finished before: kept
    assert not [p for p in (tmp_path / ".cache/figures/zcham").iterdir() if not p.name.startswith(".tmp-")]
    (tmp_path / "figures/zcham.py").write_text((tmp_path / "figures/zcham.py").read_text().replace(
        "time.sleep(60)", "pass"))
    again = run_blog("figures", "-s", str(tmp_path / "site_src"))
    assert "figures: 1 run, 1 cached, 0 failed" in again.stdout
    assert not list((tmp_path / ".cache/figures/zcham").glob(".tmp-*"))  # the killed run's folder is gone
