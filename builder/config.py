"""Load `_config.yml`, overlay command-line flags and validate every field at once."""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from builder.errors import ConfigError

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
    figures_dir: Path | None = None  # default: figures/ beside the source folder
    cache_dir: Path | None = None  # default: .cache/ beside the source folder
    quick: bool = False  # figures with small settings (tests, drafts)
    device: str | None = None  # figures on this torch device (default: cuda, mps, cpu)
    drafts: bool = False
    future: bool = False
    strict: bool = False
    site: dict[str, Any] = field(default_factory=dict, compare=False)

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
    """Read `source/_config.yml`, apply non-None `overrides`, and validate.

    All problems are collected and raised together as one `ConfigError`.
    """
    path = source / CONFIG_NAME
    raw = _read_yaml(path) if path.exists() else {}
    for key, value in overrides.items():
        if value is not None:
            raw[key] = value
    problems: list[str] = []
    if not source.is_dir():
        problems.append(f"source folder {source} does not exist")
    values = {name: check(raw, problems) for name, check in _FIELDS.items()}
    device = raw.get("device")
    if device and not re.fullmatch(r"cpu|mps|cuda(:\d+)?", str(device)):
        problems.append(f"device must be cpu, mps or cuda, not {device!r}")
    if problems:
        raise ConfigError("; ".join(problems), path)
    # `{{ site.X }}` sees what _config.yml says (cleaned), as in Jekyll: no built-in defaults.
    site = {**raw, **{k: v for k, v in values.items() if k in raw and k not in ("liquid", "permalink")}}
    project = source.parent
    return Config(
        source=source,
        destination=Path(raw.get("destination") or project / "_site"),
        figures_dir=project / str(raw.get("figures_dir") or "figures"),
        cache_dir=project / str(raw.get("cache_dir") or ".cache"),
        quick=bool(raw.get("quick", False)),
        device=raw.get("device") or None,
        site=site,
        **values,
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(f"not valid UTF-8 (byte {err.start})", path) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(f"invalid YAML: {problem}", path, line) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping of settings", path)
    return data


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
    return value if value.startswith("/") else "/" + value  # Jekyll adds the slash too


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
