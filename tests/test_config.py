"""The config stage: _config.yml read, command-line flags laid over it, every field checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import DEFAULT_PERMALINK, KEEP_FILES, MATHJAX_CDN, LiquidOptions, load_config
from builder.errors import ConfigError
from tests.helpers import write_files


def site(tmp_path: Path, config: str | None) -> Path:
    source = tmp_path / "site_src"
    source.mkdir()
    if config is not None:
        (source / "_config.yml").write_text(config, encoding="utf-8")
    return source


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    config = load_config(site(tmp_path, None))
    assert (config.title, config.lang, config.math_render) == ("Blog", "vi", "build")
    assert config.permalink == DEFAULT_PERMALINK
    assert config.destination == tmp_path / "_site" and config.cache_dir == tmp_path / ".cache"
    assert config.figures_dir == tmp_path / "figures" and config.keep_files == KEEP_FILES
    assert config.liquid == LiquidOptions() and config.mathjax_src == MATHJAX_CDN and config.site == {}


def test_flags_override_the_file_and_none_means_not_given(tmp_path: Path) -> None:
    source = site(tmp_path, "baseurl: /blog\nstrict: false\ndrafts: true\n")
    config = load_config(source, baseurl="/khac", strict=True, drafts=None, destination=str(tmp_path / "o"))
    assert (config.baseurl, config.strict, config.drafts) == ("/khac", True, True)
    assert config.destination == tmp_path / "o"


def test_values_are_cleaned_and_the_site_sees_what_the_file_says(tmp_path: Path) -> None:
    source = site(tmp_path, "title: '  Blog thử  '\nurl: https://x.github.io/\nbaseurl: /blog/\n"
                            "author: {name: Người viết, email: a@b.c}\ncustom: 1\n")
    config = load_config(source)
    assert (config.title, config.url, config.baseurl, config.author) == ("Blog thử", "https://x.github.io",
                                                                         "/blog", "Người viết")
    assert config.site["custom"] == 1 and config.site["title"] == "Blog thử" and "lang" not in config.site
    assert config.absolute("/a/") == "https://x.github.io/blog/a/"


@pytest.mark.parametrize("given, template", [
    ("pretty", "/:categories/:year/:month/:day/:title/"), ("none", "/:categories/:title:output_ext"),
    ("blog/:title", "/blog/:title"), ("/:year/:slug/", "/:year/:slug/"),
])
def test_permalink_styles_become_templates(tmp_path: Path, given: str, template: str) -> None:
    config = load_config(site(tmp_path, f"permalink: {given}\n"))
    assert (config.permalink, config.permalink_style) == (template, given)


def test_a_jekyll_site_defaults_to_jekylls_date_style(tmp_path: Path) -> None:
    config = load_config(site(tmp_path, "markdown: kramdown\n"))
    assert config.jekyll and config.permalink == "/:categories/:year/:month/:day/:title:output_ext"


def test_keep_files_liquid_and_math_settings(tmp_path: Path) -> None:
    config = load_config(site(tmp_path, "keep_files: [/.well-known, '  ', CNAME]\nmath_render: server\n"
                                        "liquid: {error_mode: STRICT, strict_filters: true}\n"))
    assert config.keep_files == (".well-known", "CNAME") and config.math_render == "build"
    assert config.liquid == LiquidOptions(error_mode="strict", strict_filters=True)


def test_every_problem_is_reported_at_once_naming_the_file(tmp_path: Path) -> None:
    source = site(tmp_path, "url: example.org\nlang: [vi]\nfuture: maybe\nliquid: {error_mode: loud}\n"
                            "keep_files: CNAME\nmath_render: paper\ninclude: {a: 1}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(source, device="tpu")
    message = str(caught.value)
    # The option given on the command line is blamed on it, the rest on the file.
    assert message.startswith(f"command line: --device must be cpu, mps or cuda, not 'tpu'; and "
                              f"{source / '_config.yml'}: ")
    for problem in ("url must be an absolute", "lang must be text", "future must be true or false",
                    "liquid.error_mode must be one of", "keep_files must be a list", "math_render must be",
                    "include must be a list"):
        assert problem in message, problem


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    source = site(tmp_path, "title: a\nurl: [x\n")
    with pytest.raises(ConfigError) as caught:
        load_config(source)
    assert (caught.value.path, caught.value.line) == (source / "_config.yml", 2)  # where [ opened
    write_files(source, {"_config.yml": "- a list\n"})
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(source)


def test_the_time_zone_is_the_named_one_or_the_machines(tmp_path: Path) -> None:
    named = load_config(site(tmp_path, "timezone: Asia/Ho_Chi_Minh\n"))
    assert str(named.tz) == "Asia/Ho_Chi_Minh"
    (tmp_path / "site_src/_config.yml").write_text("title: x\n")
    assert repr(load_config(tmp_path / "site_src").tz) == "SystemZone()"
