"""The theme's interface strings, one table per language (`builder/theme/strings/<lang>.yml`).

`lang:` in `_config.yml` picks the table by its primary subtag (`en-GB` reads `en.yml`); a
language without a table gets English, the most widely read.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from builder.text import nfc

STRINGS = Path(__file__).parent / "theme" / "strings"
FALLBACK = "en"
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: about 10× faster


def available() -> list[str]:
    return sorted(p.stem for p in STRINGS.glob("*.yml"))


@functools.cache
def table(lang: str) -> dict[str, Any]:
    """The strings for `lang` ("vi", "en", "en-US"...)."""
    primary = (lang or FALLBACK).replace("_", "-").split("-")[0].lower()
    path = STRINGS / f"{primary}.yml"
    if not path.is_file():
        path = STRINGS / f"{FALLBACK}.yml"
    return _composed(yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER))


def _composed(value: Any) -> Any:
    """Every string of the table in NFC, as the pages it goes into."""
    if isinstance(value, str):
        return nfc(value)
    if isinstance(value, list):
        return [_composed(v) for v in value]
    if isinstance(value, dict):
        return {k: _composed(v) for k, v in value.items()}
    return value


def long_date(value: date, lang: str) -> str:
    """"28 tháng 6, 2018" in Vietnamese, "June 28, 2018" in English."""
    strings = table(lang)
    return strings["date"].format(day=value.day, month=strings["months"][value.month - 1], year=value.year)
