"""Text rules shared by reading and the theme: slugs, Vietnamese dates, Unicode NFC.

Posts are read as NFC and every slug is made here, so a heading id, a category URL and a
category link in the theme always agree.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date

# A category whose name has no Latin letters or digits ("分类") still needs a URL.
CATEGORY_FALLBACK = "khac"
MONTHS = ["tháng 1", "tháng 2", "tháng 3", "tháng 4", "tháng 5", "tháng 6", "tháng 7", "tháng 8",
          "tháng 9", "tháng 10", "tháng 11", "tháng 12"]


def nfc(text: str) -> str:
    """Composed form: "e" + combining acute becomes "é" (what every output is written in)."""
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=8192)  # the same category names, thousands of times per build
def slugify(text: str) -> str:
    """ASCII slug: "Tích chập" -> "tich-chap", "Đức" -> "duc"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-zA-Z0-9]+", "-", text.lower())
    return text.strip("-")


def file_slug(title: str) -> str:
    """The slug of a new post's file: Latin letters as `slugify` makes them (Vietnamese keeps
    its letters without their marks), every other script transliterated to ASCII, a Chinese
    character as one syllable ("卷积网络" -> "juan-ji-wang-luo"), an emoji by its name ("🎉" ->
    "tada"). "" only for a title of punctuation alone."""
    from anyascii import anyascii

    parts = []
    for char in nfc(title):
        name = unicodedata.name(char, "")
        if char.isascii() or name.startswith("LATIN") or unicodedata.combining(char):
            parts.append(char)
        elif name.startswith("CJK UNIFIED IDEOGRAPH"):
            parts.append(f" {anyascii(char)} ")
        else:
            parts.append(anyascii(char))
    return slugify("".join(parts))


def category_slug(name: str) -> str:
    """The slug of a category page; a name with no Latin letters gets a stable fallback."""
    return slugify(name) or CATEGORY_FALLBACK


def vi_date(value: date) -> str:
    """"28 tháng 6, 2018": how Vietnamese writes a date."""
    return f"{value.day} {MONTHS[value.month - 1]}, {value.year}"
