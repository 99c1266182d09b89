"""kramdown's typographic output: smart quotes, dashes, ellipsis, guillemets and HTML entities,
all written as characters (Jekyll's `entity_output: as_char`)."""

from __future__ import annotations

import re
from html.entities import html5

_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}));")
_SYMBOLS = (("---", "\u2014"), ("--", "\u2013"), ("...", "\u2026"), ("<< ", "\u00ab\u00a0"), ("<<", "\u00ab"),
            (">>", "\u00bb"))
_PUNCTUATION = set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_OPENING_CONTEXT = set(" \t\n[{(-\\")
_EMPHASIS_AFTER = re.compile(r"[_*]{1,2}\S")
_DECADE = re.compile(r"\d\ds")  # '80s
_POSSESSIVE_S = re.compile(r"s\b")


def symbol(text: str, at: int) -> tuple[str, int] | None:
    """`---` `--` `...` `<<` `>>` at `at`: (character, position after)."""
    for written, char in _SYMBOLS:
        if text.startswith(written, at):
            return char, at + len(written)
    return None


def entity(text: str, at: int) -> tuple[str, int] | None:
    """`&copy;`, `&#169;`, `&#xa9;` at `at`: (character, position after); None for `&` alone."""
    match = _ENTITY.match(text, at)
    if match is None:
        return None
    decimal, hexadecimal, name = match.groups()
    if name is not None:
        char = html5.get(name + ";")
        return (char, match.end()) if char is not None else None
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code), match.end()


QUOTES = ("\u2018", "\u2019", "\u201c", "\u201d")  # kramdown's default: lsquo, rsquo, ldquo, rdquo


def quotes_setting(value: object) -> tuple[str, str, str, str]:
    """`smart_quotes: apos,apos,quot,quot` (entity names or numbers) -> the four characters."""
    names = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    chars = [entity(f"&{n.strip()};", 0) or entity(f"&#{str(n).strip()};", 0) for n in names]
    if len(chars) != 4 or not all(chars):
        return QUOTES
    return tuple(found[0] for found in chars)  # type: ignore[return-value]


def quote(text: str, at: int, quotes: tuple[str, str, str, str] = QUOTES) -> str:
    """The curly quote for the `'` or `"` at `at`, decided SmartyPants-style from the characters
    around it in the source (so `*word*'s` closes, `("x")` opens, `'80s` is an apostrophe)."""
    single = text[at] == "'"
    opening, closing = quotes[:2] if single else quotes[2:]
    before = text[at - 1] if at > 0 else " "
    after = text[at + 1:at + 3]
    following = after[:1]
    if _EMPHASIS_AFTER.match(after):
        return opening
    if following in _PUNCTUATION and following not in "\"'([{" and not text.startswith("..", at + 1) \
            and not _is_word(before):
        return closing
    if single and _DECADE.match(text[at + 1:at + 4]):
        return closing
    if before in " \t\n" and _is_word(following):
        return opening
    if before not in _OPENING_CONTEXT:
        return closing
    if following in ("", " ", "\t", "\n") or (single and _POSSESSIVE_S.match(after)):
        return closing
    return opening


def _is_word(char: str) -> bool:
    return bool(char) and (char.isalnum() or char == "_")
