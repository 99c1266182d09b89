"""Mistakes in _config.yml, front matter and options get help: the line, the nearest right
word, the quoting that fixes it, and the right culprit (the file or the command line)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from builder import permalinks
from builder.config import POST_PLACEHOLDERS, load_config
from tests.helpers import BASIC_CONFIG, post, run_blog

GOOD = {"_posts/2020-01-01-a.md": post("A")}


def build(source: Path, tmp_path: Path, *args: str):
    return run_blog("build", "-s", str(source), "-d", str(tmp_path / "out"), *args)


def test_an_unknown_setting_is_a_warning_with_the_nearest_known_one(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD, config=BASIC_CONFIG + "titel: Sai chính tả\n")
    result = build(source, tmp_path)
    assert result.exit_code == 0
    line = len(BASIC_CONFIG.splitlines()) + 1
    assert result.stderr == (f"warning: {source / '_config.yml'}:{line}: unknown setting 'titel'; "
                             "did you mean 'title'?\n")
    assert ", 1 warning, " in result.stdout
    again = build(source, tmp_path)  # nothing changed: said again, once
    assert again.stderr == result.stderr and ", 1 warning, " in again.stdout
    assert build(source, tmp_path, "--strict").exit_code == 1


def test_a_setting_the_site_reads_is_not_questioned(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({**GOOD, "about.md": "---\n---\n{{ site.google_site }} {{ site['ma_so'] }}\n"},
                      config=BASIC_CONFIG + "google_site: x\nma_so: 1\nkhong_dung: 2\n")
    result = build(source, tmp_path)
    assert "google_site" not in result.stderr and "ma_so" not in result.stderr
    assert "unknown setting 'khong_dung': neither Jekyll nor this builder uses it" in result.stderr


def jekyll_gem() -> Path | None:
    if not shutil.which("ruby"):
        return None
    done = subprocess.run(["ruby", "-e", 'require "jekyll"; print Gem.loaded_specs["jekyll"].full_gem_path'],
                          capture_output=True, text=True)
    return Path(done.stdout) if done.returncode == 0 and done.stdout else None


def test_jekylls_own_settings_and_a_new_jekyll_sites_config_give_no_warning(tmp_site, tmp_path: Path) -> None:
    gem = jekyll_gem()
    if gem is None:
        assert os.environ.get("CI") != "true", "Jekyll is needed under CI"
        pytest.skip("no jekyll here")
    keys = subprocess.run(["ruby", "-e", 'require "jekyll"; puts Jekyll::Configuration::DEFAULTS.keys'],
                          capture_output=True, text=True, check=True).stdout.split()
    assert len(keys) > 30
    new_site = (gem / "lib/site_template/_config.yml").read_text(encoding="utf-8")
    source = tmp_site(GOOD, config=new_site)
    config = load_config(source)
    assert config.warnings == ()
    from builder.config import unknown_keys

    assert unknown_keys({key: None for key in keys}, "", source / "_config.yml", source) == ()


def test_the_configs_jekyll_builds_in_the_oracle_cases_give_no_warning_but_a_misplaced_one() -> None:
    from builder.config import unknown_keys
    from tests.helpers import ROOT

    warned = {}
    for path in sorted((ROOT / "tests/oracle").glob("*/_config.yml")):
        text = path.read_text(encoding="utf-8")
        found = unknown_keys(yaml.safe_load(text) or {}, text, path, path.parent)
        if found:
            warned[path.parent.name] = " ".join(found)
    assert len(list((ROOT / "tests/oracle").glob("*/_config.yml"))) > 10
    assert set(warned) == {"k-ial-toc"} and "'toc_levels' is a kramdown setting" in warned["k-ial-toc"]


def test_an_unknown_permalink_placeholder_is_an_error_naming_it(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD, config=BASIC_CONFIG + "permalink: /:yaer/:title/\n")
    result = build(source, tmp_path)
    assert result.exit_code == 1
    line = len(BASIC_CONFIG.splitlines()) + 1
    assert result.stderr == (f"error: {source / '_config.yml'}:{line}: permalink '/:yaer/:title/' has an "
                             "unknown placeholder :yaer (did you mean :year?)\n")


def test_the_placeholders_the_config_knows_are_those_permalinks_fill() -> None:
    from datetime import datetime

    values = permalinks.post_values(datetime(2020, 1, 1), "a", "a", (), ".html", False, str)
    assert sorted(POST_PLACEHOLDERS) == sorted(values)


@pytest.mark.parametrize("config, line, message", [
    ("title: CNN: có gì sai\n", 1, 'invalid YAML: the value of title holds \': \'; put it in quotes: '
                                   'title: "CNN: có gì sai"'),
    ("title: Blog\n\tlang: vi\n", 2, "invalid YAML: a tab character; YAML indents with spaces only"),
    ("title: Blog\nexclude: [a, b\nlang: vi\n", 2,
     "invalid YAML: a [ or { opened on this line is never closed"),
    ("title: 'Blog\nlang: vi\n", 1, "invalid YAML: a quoted value opened on this line is never closed"),
    ("title: Blog\nstarted: 2024-02-30 # a typo\n", 2, "invalid YAML: 2024-02-30 is not a date that exists"),
])
def test_yaml_errors_in_the_config_point_at_the_line(tmp_site, tmp_path: Path, config: str, line: int,
                                                     message: str) -> None:
    source = tmp_site(GOOD, config=config)
    result = build(source, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {source / '_config.yml'}:{line}: {message}")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("front, line, message", [
    ("layout: post\ntitle: CNN: có gì sai\n", 3,
     'invalid front matter: the value of title holds \': \'; put it in quotes: title: "CNN: có gì sai"'),
    ("title: A\n\tcategories: x\n", 3, "invalid front matter: a tab character"),
    ("title: A\ncategories: [a, b\nlayout: post\n", 3, "invalid front matter: a [ or { opened on this line"),
    ("title: A\ndate: 2024-02-30\n", 3, "invalid front matter: 2024-02-30 is not a date that exists"),
    ("title: A\ndate: 2024-02-30 10:00\n", 3,
     "front matter date '2024-02-30 10:00' is not a date (write it as"),
])
def test_yaml_errors_in_front_matter_count_the_opening_dashes(tmp_site, tmp_path: Path, front: str, line: int,
                                                              message: str) -> None:
    source = tmp_site({"_posts/2020-01-01-a.md": f"---\n{front}---\nBody\n"})
    result = build(source, tmp_path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {source / '_posts/2020-01-01-a.md'}:{line}: {message}")


@pytest.mark.parametrize("setting, shown", [("cache_dir: [a]", "list ['a']"),
                                             ("figures_dir: {a: 1}", "dict {'a': 1}"),
                                             ("destination: 3", "int 3")])
def test_a_folder_setting_that_is_no_path_is_an_error_at_its_line(tmp_site, tmp_path: Path, setting: str,
                                                                  shown: str) -> None:
    source = tmp_site(GOOD, config=BASIC_CONFIG + setting + "\n")
    result = run_blog("build", "-s", str(source))
    name = setting.split(":")[0]
    line = BASIC_CONFIG.count("\n") + 1
    assert result.exit_code == 1
    where = f"{source / '_config.yml'}:{line}"
    assert result.stderr == f"error: {where}: {name} must be a folder path, not {shown}\n"
    assert not (tmp_path / "['a']").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_an_option_from_the_command_line_is_blamed_on_it(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD)
    result = build(source, tmp_path, "--baseurl", "blog")
    assert result.exit_code == 1
    assert result.stderr == "error: command line: --baseurl must be a path such as /blog, not 'blog'\n"
    device = build(source, tmp_path, "--device", "tpu")
    assert device.stderr == "error: command line: --device must be cpu, mps or cuda, not 'tpu'\n"
    inside = run_blog("build", "-s", str(source), "-d", str(source / "out"))
    assert inside.exit_code == 1
    assert "lies inside the source folder" in inside.stderr
    assert inside.stderr.endswith("; the destination was given with -d on the command line\n")


def test_a_bad_setting_in_the_file_is_still_blamed_on_the_file(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD, config=BASIC_CONFIG.replace('baseurl: ""', "baseurl: blog"))
    result = build(source, tmp_path)
    assert result.stderr == (f"error: {source / '_config.yml'}:4: baseurl must be a path such as /blog, "
                             "not 'blog'\n")
    both = build(source, tmp_path, "--device", "tpu")
    assert both.stderr == (f"error: command line: --device must be cpu, mps or cuda, not 'tpu'; and "
                           f"{source / '_config.yml'}:4: baseurl must be a path such as /blog, not 'blog'\n")


def test_skipped_future_posts_are_counted_in_the_summary(tmp_site, tmp_path: Path) -> None:
    source = tmp_site({**GOOD, "_posts/2999-01-01-sau.md": post("Sau"),
                       "_posts/2998-01-01-som.md": post("Sớm")})
    first = build(source, tmp_path)
    assert first.exit_code == 0
    assert ", 2 future posts skipped (use --future), " in first.stdout
    again = build(source, tmp_path)  # nothing changed: the record says it too
    assert ", 2 future posts skipped (use --future), nothing changed" in again.stdout
    shown = build(source, tmp_path, "--future")
    assert "future post" not in shown.stdout and "3 posts" in shown.stdout


def test_a_setting_one_level_too_high_says_where_it_belongs(tmp_site, tmp_path: Path) -> None:
    source = tmp_site(GOOD, config="markdown: kramdown\ntoc_levels: 2..3\n")
    result = build(source, tmp_path)
    assert result.stderr == (f"warning: {source / '_config.yml'}:2: 'toc_levels' is a kramdown setting: "
                             "put it under kramdown:\n")
