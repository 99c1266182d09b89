"""kramdown's attribute lists: `{: #id .class key="value" ref}` (IALs) and `{:ref: ...}` (ALDs).

An IAL is kept as its list of items until the whole document is read, because the ALDs it names
may be defined further down; `resolve` turns items into attributes then.
"""

from __future__ import annotations

import re

Item = tuple[str, str, str]  # ("id"|"class"|"attr"|"ref", name, value)

# What an attribute list may hold: up to the first `}` that is not escaped.
LIST_BODY = r"(?:\\\}|[^}])*"
_TOKEN = re.compile(r"""\s*(?:([\w:-]+)=("(?:\\"|[^"])*"|'(?:\\'|[^'])*')|(\S+))""")
_ID = re.compile(r"#([A-Za-z][\w:-]*)")
_CLASS = re.compile(r"\.(-?[_A-Za-z][\w-]*)")
_REF = re.compile(r"[A-Za-z0-9_][\w-]*")


def parse_list(body: str) -> list[Item]:
    """The items of an attribute list body (the text between `{:` and `}`)."""
    items: list[Item] = []
    for match in _TOKEN.finditer(body):
        key, quoted, word = match.groups()
        if key is not None:
            value = quoted[1:-1].replace("\\" + quoted[0], quoted[0])
            items.append(("attr", key, value))
        elif word is None:
            continue
        elif (found := _ID.fullmatch(word)) is not None:
            items.append(("id", found.group(1), ""))
        elif (found := _CLASS.fullmatch(word)) is not None:
            items.append(("class", found.group(1), ""))
        elif _REF.fullmatch(word):
            items.append(("ref", word, ""))
    return items


def refs(items: list[Item]) -> list[str]:
    return [name for kind, name, _ in items if kind == "ref"]


def resolve(lists: list[list[Item]], alds: dict[str, list[Item]]) -> dict[str, str]:
    """Attributes of an element carrying these IALs (in the order they were applied)."""
    attrs: dict[str, str] = {}
    for items in lists:
        _apply(items, alds, attrs, set())
    return attrs


def _apply(items: list[Item], alds: dict[str, list[Item]], attrs: dict[str, str], seen: set[str]) -> None:
    # An ALD a list names is applied before the list's own items, innermost first.
    for kind, name, _ in items:
        if kind == "ref" and name in alds and name not in seen:
            _apply(alds[name], alds, attrs, seen | {name})
    for kind, name, value in items:
        if kind == "id":
            attrs["id"] = name
        elif kind == "class":
            attrs["class"] = f"{attrs['class']} {name}" if attrs.get("class") else name
        elif kind == "attr":
            attrs[name] = value
