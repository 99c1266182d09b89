"""Errors the builder reports to the user as one clear line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

# Above INFO, below WARNING: shown by default, never counted as a warning (nor by --strict).
NOTICE = 25
logging.addLevelName(NOTICE, "NOTICE")


class BuildError(Exception):
    """A problem in the user's input: names the file (and line when known)."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line

    def __reduce__(self):  # errors raised in worker processes keep their file and line
        return (type(self), (self.message, self.path, self.line))

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
        return f"{where}: {self.message}"


class StrictError(BuildError):
    """Warnings stopped a build made with --strict; `warnings` says which."""

    def __init__(self, message: str, path: Path | str | None = None, line: int | None = None,
                 warnings: tuple[str, ...] = ()):
        super().__init__(message, path, line)
        self.warnings = warnings


class ConfigError(BuildError):
    """One or more invalid settings in `_config.yml` or on the command line."""


def line_of(text: str, index: int) -> int:
    """1-based line number of a character offset in `text`."""
    return text.count("\n", 0, max(index, 0)) + 1


_DATE_VALUE = re.compile(r"(?:^|:|-)\s+(\d{4})-(\d{1,2})-(\d{1,2})(?=[\sTt]|$)")


def yaml_value_problem(err: Exception, text: str) -> tuple[str, int | None]:
    """A value the YAML parser read but could not make into a Python value (PyYAML raises a
    plain ValueError for a date that does not exist, such as 2024-02-30), and its 0-based line."""
    import datetime

    for number, line in enumerate(text.splitlines()):
        for match in _DATE_VALUE.finditer(line.split(" #", 1)[0]):
            year, month, day = (int(part) for part in match.groups())
            try:
                datetime.date(year, month, day)
            except ValueError:
                written = "-".join(match.groups())
                return f"{written} is not a date that exists ({err})", number
    return f"a value that cannot be read ({type(err).__name__}: {err})", None


def yaml_problem(err: Exception, text: str) -> tuple[str, int | None]:
    """What a YAML parser's error means in words a writer knows, and its 0-based line in
    `text`: an unclosed quote or bracket is blamed on the line that opened it, a tab is named
    as a tab, and a value holding `: ` is shown quoted."""
    mark = getattr(err, "problem_mark", None)
    context_mark = getattr(err, "context_mark", None)
    context = getattr(err, "context", None) or ""
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    if mark is None:
        return problem, None
    lines = text.splitlines()
    line = mark.line
    source_line = lines[line] if line < len(lines) else ""
    if context_mark is not None and context.startswith(("while scanning a quoted", "while parsing a flow")):
        opened = "a quoted value" if "quoted" in context else "a [ or {"
        return f"{opened} opened on this line is never closed", context_mark.line
    if "tab" in problem or "\\t" in problem or source_line[:mark.column + 1].endswith("\t"):
        return ("a tab character; YAML indents with spaces only (replace the tab with spaces)", line)
    if problem.startswith("mapping values are not allowed"):
        key, sep, value = source_line.partition(": ")
        if sep and ": " in value and not key.strip().startswith(("-", "#")):
            quoted = value.strip().replace('"', '\\"')
            return (f"the value of {key.strip()} holds ': '; put it in quotes: "
                    f'{key.strip()}: "{quoted}"', line)
        return "a key where none may be (is this line indented too far?)", line
    if problem.startswith("found undefined alias"):
        return "a value starting with * is read as a YAML alias; put it in quotes", line
    if "cannot start any token" in problem:
        char = source_line[mark.column:mark.column + 1] if mark.column < len(source_line) else ""
        return f"a value cannot start with {char or 'this character'}; put it in quotes", line
    return problem, line
