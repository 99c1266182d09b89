"""Load `_config.yml`, overlay command-line flags and validate every field at once."""

from __future__ import annotations

import calendar
import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from builder.errors import ConfigError, yaml_problem, yaml_value_problem

CONFIG_NAME = "_config.yml"

# Jekyll's named permalink styles.
PERMALINK_STYLES = {
    "date": "/:categories/:year/:month/:day/:title:output_ext",
    "pretty": "/:categories/:year/:month/:day/:title/",
    "ordinal": "/:categories/:year/:y_day/:title:output_ext",
    "weekdate": "/:categories/:year/W:week/:short_day/:title:output_ext",
    "none": "/:categories/:title:output_ext",
}
DEFAULT_PERMALINK = "/:year/:month/:day/:title/"  # this project's own reading mode
JEKYLL_PERMALINK = "date"  # Jekyll's default, for `markdown: kramdown` sites
MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-chtml.js"
KEEP_FILES = (".git", ".svn", "CNAME")  # Jekyll keeps .git and .svn; CNAME is GitHub Pages' domain
LIQUID_ERROR_MODES = ("lax", "warn", "strict")
PAGINATE = 10  # posts per list page when _config.yml says nothing
PAGINATE_PATH = "/page:num/"  # Jekyll's default (`/page:num`): page 2 is /page2/
# What a post's permalink template may name (builder/permalinks.py fills them).
POST_PLACEHOLDERS = (
    "year", "month", "day", "hour", "minute", "second", "i_day", "i_month", "short_year",
    "short_month", "long_month", "w_year", "week", "w_day", "short_day", "long_day", "y_day",
    "title", "slug", "name", "categories", "slugified_categories", "collection", "output_ext",
)
# Top-level keys that mean something, so that an unknown one can be questioned. Jekyll 4.3's
# own settings (its Configuration::DEFAULTS and the options of `jekyll build`/`serve`):
JEKYLL_KEYS = (
    "source", "destination", "collections_dir", "cache_dir", "plugins_dir", "layouts_dir", "data_dir",
    "includes_dir", "collections", "safe", "include", "exclude", "keep_files", "encoding",
    "markdown_ext", "strict_front_matter", "show_drafts", "limit_posts", "future", "unpublished",
    "whitelist", "plugins", "markdown", "highlighter", "lsi", "excerpt_separator", "incremental",
    "detach", "port", "host", "baseurl", "show_dir_listing", "permalink", "paginate_path", "timezone",
    "quiet", "verbose", "defaults", "liquid", "kramdown", "watch", "drafts", "profile", "livereload",
    "livereload_port", "livereload_ignore", "livereload_min_delay", "livereload_max_delay", "open_url",
    "ssl_cert", "ssl_key", "skip_initial_build", "disable_disk_cache", "config", "trace", "gems",
    "sass", "paginate", "theme", "webrick",
    "redcarpet", "rdiscount", "maruku", "commonmark", "coderay", "pygments", "relative_permalinks",
    "excerpt", "serving", "url",
)
# What themes and the plugins GitHub Pages runs read (minima, jekyll-seo-tag, jekyll-feed,
# jekyll-sitemap, github-metadata, jekyll-remote-theme), and this builder's own settings.
THEME_KEYS = (
    "title", "description", "author", "email", "lang", "locale", "name", "tagline", "logo", "image",
    "social", "twitter", "twitter_username", "github_username", "facebook", "linkedin_username",
    "rss", "feed", "header_pages", "show_excerpts", "minima", "google_analytics", "disqus",
    "webmaster_verifications", "remote_theme", "github", "repository", "repository_url", "tag_page",
    "category_page", "date_format", "defaults", "titles_from_headings", "readme_index", "cname",
    "jekyll-archives", "jekyll_compose", "timezone", "show_downloads", "exclude_from_search",
)
OWN_KEYS = ("mathjax_src", "math_render", "figures_dir", "quick", "device", "strict")
# Settings that belong one level down: `toc_levels:` at the top does nothing.
NESTED_KEYS = {
    "kramdown": ("auto_ids", "toc_levels", "entity_output", "smart_quotes", "input", "hard_wrap",
                 "guess_lang", "footnote_nr", "show_warnings", "syntax_highlighter",
                 "syntax_highlighter_opts", "math_engine", "parse_block_html", "auto_id_prefix"),
    "liquid": ("error_mode", "strict_filters", "strict_variables"),
}


class SystemZone(tzinfo):
    """The build machine's own time zone (TZ, else /etc/localtime), with its daylight-saving
    rules: what Jekyll uses when `_config.yml` names no `timezone`."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            dt = datetime.now()
        wall = dt.replace(tzinfo=None)
        stamp = time.mktime((*wall.timetuple()[:8], -1))
        return timedelta(seconds=calendar.timegm(wall.timetuple()) - stamp)

    def dst(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return time.tzname[0]

    def fromutc(self, dt: datetime) -> datetime:
        local = time.localtime(calendar.timegm(dt.replace(tzinfo=None).timetuple()))
        return datetime(*local[:6], dt.microsecond, tzinfo=self)

    def __repr__(self) -> str:
        return "SystemZone()"


@dataclass(frozen=True)
class LiquidOptions:
    """`liquid:` in `_config.yml`, with Jekyll's defaults."""

    error_mode: str = "warn"  # lax | warn | strict: how a malformed {{ ... }} is treated
    strict_filters: bool = False  # an unknown filter is an error (else it is skipped)
    strict_variables: bool = False  # an undefined variable is an error (else it is empty)


@dataclass(frozen=True)
class Config:
    """Every setting the build uses; `site` holds the raw mapping for `{{ site.X }}`."""

    source: Path
    destination: Path
    title: str = "Blog"
    description: str = ""
    url: str = ""
    baseurl: str = ""
    lang: str = "vi"
    author: str = ""
    permalink: str = DEFAULT_PERMALINK  # the posts' template, styles resolved
    permalink_style: str = ""  # `permalink` as _config.yml gives it ("" when absent): pages follow it
    timezone: str = ""  # "" = the build machine's zone, as in Jekyll
    repository: str = ""
    markdown: str = "python-markdown"
    mathjax_src: str = MATHJAX_CDN  # the browser's MathJax, used only with math_render: client
    math_render: str = "build"  # build: MathJax typesets during `blog build`; client: in the browser
    exclude: tuple[str, ...] = ()
    include: tuple[str, ...] = (".htaccess",)
    liquid: LiquidOptions = field(default_factory=LiquidOptions)
    keep_files: tuple[str, ...] = KEEP_FILES  # kept in the destination although we did not write them
    paginate: int = PAGINATE  # posts per page of the home and category lists (0: all on one page)
    paginate_path: str = PAGINATE_PATH  # where page N of the home list lives (`:num` is N)
    figures_dir: Path | None = None  # default: figures/ in the project folder (see project_folder)
    cache_dir: Path | None = None  # default: .cache/ in the project folder
    quick: bool = False  # figures with small settings (tests, drafts)
    device: str | None = None  # figures on this torch device (default: cuda, mps, cpu)
    drafts: bool = False
    future: bool = False
    strict: bool = False
    site: dict[str, Any] = field(default_factory=dict, compare=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)  # logged by the build (so counted)
    options: tuple[str, ...] = field(default=(), compare=False)  # settings given on the command line

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone) if self.timezone else SystemZone()

    @property
    def jekyll(self) -> bool:
        """Read as Jekyll reads a site (`markdown: kramdown` in `_config.yml`)."""
        return self.markdown == "kramdown"

    def absolute(self, path: str) -> str:
        """Absolute URL of a site path such as `/2018/06/28/x/` (baseurl added)."""
        return self.url + self.baseurl + path


def load_config(source: Path, **overrides: Any) -> Config:
    """Read `source/_config.yml`, apply non-None `overrides` (the command line's options), and
    validate.

    All problems are collected and raised together as one `ConfigError`; a problem with an
    option from the command line is blamed on the command line, not on the file.
    """
    if not source.is_dir():
        raise ConfigError(f"source folder {source} does not exist")
    path = source / CONFIG_NAME
    text, raw = _read_yaml(path) if path.exists() else ("", {})
    from_file = dict(raw)
    given = {key for key, value in overrides.items() if value is not None}
    for key in given:
        raw[key] = overrides[key]
    problems: list[tuple[str, str]] = []  # (setting, what is wrong with it)
    values = {}
    for name, check in _FIELDS.items():
        found: list[str] = []
        values[name] = check(raw, found)
        problems += [(name, problem) for problem in found]
    device = raw.get("device")
    if device and not re.fullmatch(r"cpu|mps|cuda(:\d+)?", str(device)):
        problems.append(("device", f"device must be cpu, mps or cuda, not {device!r}"))
    for name in ("destination", "figures_dir", "cache_dir"):
        value = raw.get(name)
        if value is not None and not isinstance(value, (str, Path)):
            problems.append((name, f"{name} must be a folder path, not {type(value).__name__} {value!r}"))
    _raise_problems(problems, given, path, text)
    # `{{ site.X }}` sees what _config.yml says (cleaned), as in Jekyll: no built-in defaults.
    site = {**raw, **{k: v for k, v in values.items() if k in raw and k not in ("liquid", "permalink")}}
    project = project_folder(source)
    return Config(
        source=source,
        destination=Path(raw.get("destination") or project / "_site"),
        figures_dir=project / str(raw.get("figures_dir") or "figures"),
        cache_dir=project / str(raw.get("cache_dir") or ".cache"),
        quick=bool(raw.get("quick", False)),
        device=raw.get("device") or None,
        site=site,
        warnings=unknown_keys(from_file, text, path, source),
        options=tuple(sorted(given)),
        **values,
    )


PROJECT_SOURCE = "site_src"


def project_folder(source: Path) -> Path:
    """The folder that holds `_site/`, `.cache/` and `figures/` by default. This project's
    layout keeps the site in `site_src/` with those beside it; any other site folder is a
    Jekyll site, which keeps its `_site/` inside itself (`.cache/` too: both are names a build
    never reads), so building a Jekyll blog writes nothing outside its folder. Resolved, so
    that `-s .` run inside `site_src/` finds the project above it."""
    folder = source.resolve()
    return folder.parent if folder.name == PROJECT_SOURCE else folder


# How the command line spells a setting it can change (the rest are `--NAME`).
CLI_OPTIONS = {"destination": "-d/--destination", "source": "-s/--source"}


def _raise_problems(problems: list[tuple[str, str]], given: set[str], path: Path, text: str) -> None:
    """One error for all problems: those of options given on the command line are blamed on
    it (`command line: --baseurl must be ...`), the others on the file, at the setting's line
    when there is one setting to blame."""
    if not problems:
        return
    on_command_line, in_file = [], []
    for name, problem in problems:
        if name in given:
            option = CLI_OPTIONS.get(name, f"--{name}")
            words = problem[len(name) + 1:] if problem.startswith(name + " ") else problem
            on_command_line.append(f"{option} {words}")
        else:
            in_file.append((name, problem))
    names = {name for name, _ in in_file}
    line = _key_lines(text).get(names.pop()) if len(names) == 1 else None
    file_part = "; ".join(problem for _, problem in in_file)
    if not on_command_line:
        raise ConfigError(file_part, path, line)
    message = "command line: " + "; ".join(on_command_line)
    if file_part:
        message += f"; and {ConfigError(file_part, path, line)}"
    raise ConfigError(message)


def unknown_keys(raw: dict[str, Any], text: str, path: Path, source: Path) -> tuple[str, ...]:
    """A warning per top-level key that neither Jekyll, the theme nor this builder knows and no
    file of the site reads as `site.KEY`, with the nearest known key when one is close."""
    known = set(JEKYLL_KEYS) | set(THEME_KEYS) | set(OWN_KEYS) | set(_FIELDS)
    unknown = [str(key) for key in raw if str(key) not in known]
    if not unknown:
        return ()
    used = _keys_read_by_the_site(source, unknown)
    unused = [key for key in unknown if key not in used]
    if not unused:
        return ()
    import difflib  # here, not at the top: only a setting to warn about needs it

    lines = _key_lines(text)
    warnings = []
    for key in unused:
        where = f"{path}:{lines[key]}" if key in lines else str(path)
        parent = next((name for name, keys in NESTED_KEYS.items() if key in keys), None)
        near = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.7)
        if parent:
            warnings.append(f"{where}: {key!r} is a {parent} setting: put it under {parent}:")
        elif near:
            warnings.append(f"{where}: unknown setting {key!r}; did you mean {near[0]!r}?")
        else:
            warnings.append(f"{where}: unknown setting {key!r}: neither Jekyll nor this builder uses it, "
                            f"and no file of the site reads site.{key}")
    return tuple(warnings)


def _keys_read_by_the_site(source: Path, keys: list[str]) -> set[str]:
    """Which of `keys` some text file of the site reads (`site.KEY`, `site['KEY']`): a setting
    made for the site's own pages or templates."""
    pattern = re.compile(r"\bsite(?:\.config)?(?:\.site)?(?:\.|\[\s*[\"'])(" +
                         "|".join(re.escape(k) for k in keys) + r")\b")
    used: set[str] = set()
    for folder, subfolders, names in os.walk(source):
        # Not the output, dependencies or hidden folders (.git): only what the site is made of.
        subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d not in _NOT_READ)
        for name in sorted(names):
            path = Path(folder, name)
            if path.suffix.lower() in _BINARY or name == CONFIG_NAME:
                continue
            try:
                used.update(pattern.findall(path.read_text(encoding="utf-8", errors="ignore")))
            except OSError:
                continue
            if len(used) == len(keys):
                return used
    return used


_NOT_READ = ("_site", "node_modules", "vendor", "__pycache__")


_BINARY = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".ico", ".pdf", ".zip", ".woff",
           ".woff2", ".ttf", ".otf", ".mp4", ".webm", ".mp3")


def _key_lines(text: str) -> dict[str, int]:
    """The 1-based line of each top-level key of a YAML mapping."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(key.value): key.start_mark.line + 1 for key, _ in node.value}


def _read_yaml(path: Path) -> tuple[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not valid UTF-8 (byte {err.start})", path) from None
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError, TypeError) as err:
        problem, line = (yaml_problem if isinstance(err, yaml.YAMLError) else yaml_value_problem)(err, text)
        raise ConfigError(f"invalid YAML: {problem}", path, None if line is None else line + 1) from None
    if data is None:
        return text, {}
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of settings", path)
    return text, data


def _text(name: str, default: str):
    def check(raw: dict[str, Any], problems: list[str]) -> str:
        value = raw.get(name, default)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            problems.append(f"{name} must be text, not {type(value).__name__}")
            return default
        return str(value).strip()

    return check


def _flag(name: str):
    def check(raw: dict[str, Any], problems: list[str]) -> bool:
        value = raw.get(name, False)
        if not isinstance(value, bool):
            problems.append(f"{name} must be true or false, not {value!r}")
            return False
        return value

    return check


def _url(raw: dict[str, Any], problems: list[str]) -> str:
    value = _text("url", "")(raw, problems).rstrip("/")
    if value and not re.match(r"^https?://[^/\s]+(/\S*)?$", value):
        problems.append(f"url must be an absolute http(s) address, not {value!r}")
    return value


def _baseurl(raw: dict[str, Any], problems: list[str]) -> str:
    value = _text("baseurl", "")(raw, problems).rstrip("/")
    if value and (not value.startswith("/") or re.search(r"\s|//|[?#]", value)):
        problems.append(f"baseurl must be a path such as /blog, not {value!r}")
    return value


def _author(raw: dict[str, Any], problems: list[str]) -> str:
    value = raw.get("author", "")
    if isinstance(value, dict):  # Jekyll themes allow author: {name: ..., email: ...}
        value = value.get("name", "")
    return str(value or "").strip()


def _permalink_style(raw: dict[str, Any], problems: list[str]) -> str:
    return _text("permalink", "")(raw, problems)


def _permalink(raw: dict[str, Any], problems: list[str]) -> str:
    """The posts' permalink template: Jekyll's `date` style by default in a Jekyll site."""
    jekyll = _markdown(raw, []) == "kramdown"
    value = _permalink_style(raw, []) or (JEKYLL_PERMALINK if jekyll else DEFAULT_PERMALINK)
    value = PERMALINK_STYLES.get(value, value)
    for name in unknown_placeholders(value):
        import difflib  # here, not at the top: only a mistyped placeholder needs it

        near = difflib.get_close_matches(name, POST_PLACEHOLDERS, n=1, cutoff=0.6)
        hint = f"did you mean :{near[0]}?" if near else f"known: :{', :'.join(POST_PLACEHOLDERS)}"
        problems.append(f"permalink {value!r} has an unknown placeholder :{name} ({hint})")
    return value if value.startswith("/") else "/" + value  # Jekyll adds the slash too


def unknown_placeholders(template: str) -> list[str]:
    """The `:names` of a post permalink that are not placeholders (`:year_` is `:year` and a `_`)."""
    names = re.findall(r":([a-z_]+)", template)
    return [name for name in names if name not in POST_PLACEHOLDERS
            and not (name.endswith("_") and name[:-1] in POST_PLACEHOLDERS)]


def _timezone(raw: dict[str, Any], problems: list[str]) -> str:
    value = _text("timezone", "")(raw, problems)
    if not value:
        return ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"timezone {value!r} is not a known IANA zone")
        return "UTC"
    return value


def _repository(raw: dict[str, Any], problems: list[str]) -> str:
    value = _text("repository", "")(raw, problems)
    if value and not re.fullmatch(r"[\w.-]+/[\w.-]+", value):
        problems.append(f"repository must look like owner/name, not {value!r}")
    return value


def _paths(name: str, default: tuple[str, ...]):
    """`exclude:` / `include:`: a list of paths or glob patterns, relative to the source."""

    def check(raw: dict[str, Any], problems: list[str]) -> tuple[str, ...]:
        value = raw.get(name)
        if value is None:
            return default
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
            problems.append(f"{name} must be a list of paths")
            return default
        return tuple(str(v) for v in value)

    return check


def _liquid(raw: dict[str, Any], problems: list[str]) -> LiquidOptions:
    value = raw.get("liquid") or {}
    if not isinstance(value, dict):
        problems.append("liquid must be a mapping (error_mode, strict_filters, strict_variables)")
        return LiquidOptions()
    mode = str(value.get("error_mode", "warn")).strip().lower()
    if mode not in LIQUID_ERROR_MODES:
        problems.append(f"liquid.error_mode must be one of {', '.join(LIQUID_ERROR_MODES)}, not {mode!r}")
        mode = "warn"
    flags = {}
    for key in ("strict_filters", "strict_variables"):
        flag = value.get(key, False)
        if not isinstance(flag, bool):
            problems.append(f"liquid.{key} must be true or false, not {flag!r}")
            flag = False
        flags[key] = flag
    return LiquidOptions(error_mode=mode, **flags)


def _keep_files(raw: dict[str, Any], problems: list[str]) -> tuple[str, ...]:
    """Jekyll's `keep_files`: paths relative to the destination; a list replaces the default."""
    value = raw.get("keep_files")
    if value is None:
        return KEEP_FILES
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append("keep_files must be a list of paths")
        return KEEP_FILES
    return tuple(entry for entry in (v.strip().lstrip("/") for v in value) if entry)


def _math_render(raw: dict[str, Any], problems: list[str]) -> str:
    value = _text("math_render", "build")(raw, problems).lower()
    value = "build" if value == "server" else value
    if value not in ("build", "client"):
        problems.append(f"math_render must be build (typeset by MathJax during the build) or client "
                        f"(typeset in the reader's browser), not {value!r}")
        return "build"
    return value


def _paginate(raw: dict[str, Any], problems: list[str]) -> int:
    """Jekyll's `paginate`: posts per page; `false` puts every post on one page."""
    value = raw.get("paginate", PAGINATE)
    if value is None:
        return PAGINATE
    if value is False:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.append(f"paginate must be a number of posts per page (or false), not {value!r}")
        return PAGINATE
    return value


def _paginate_path(raw: dict[str, Any], problems: list[str]) -> str:
    """Jekyll's `paginate_path`: `/page:num` makes page 2 `/page2/` (every page is a folder)."""
    value = _text("paginate_path", PAGINATE_PATH)(raw, problems) or PAGINATE_PATH
    if ":num" not in value:
        problems.append(f"paginate_path must contain :num (as in /page:num/), not {value!r}")
        return PAGINATE_PATH
    if re.search(r"\s|//|[?#]|(^|/)\.\.?(/|$)", value):
        problems.append(f"paginate_path must be a path such as /page:num/, not {value!r}")
        return PAGINATE_PATH
    return "/" + value.strip("/") + "/"


def _markdown(raw: dict[str, Any], problems: list[str]) -> str:
    return _text("markdown", "python-markdown")(raw, problems).lower()


_FIELDS = {
    "title": _text("title", "Blog"),
    "description": _text("description", ""),
    "url": _url,
    "baseurl": _baseurl,
    "lang": _text("lang", "vi"),
    "author": _author,
    "permalink": _permalink,
    "permalink_style": _permalink_style,
    "timezone": _timezone,
    "repository": _repository,
    "markdown": _markdown,
    "mathjax_src": _text("mathjax_src", MATHJAX_CDN),
    "math_render": _math_render,
    "exclude": _paths("exclude", ()),
    "include": _paths("include", (".htaccess",)),
    "liquid": _liquid,
    "keep_files": _keep_files,
    "paginate": _paginate,
    "paginate_path": _paginate_path,
    "drafts": _flag("drafts"),
    "future": _flag("future"),
    "strict": _flag("strict"),
}
