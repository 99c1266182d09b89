"""Errors the builder reports to the user as one clear line."""

from __future__ import annotations

import logging
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


class ConfigError(BuildError):
    """One or more invalid settings in `_config.yml` or on the command line."""


def line_of(text: str, index: int) -> int:
    """1-based line number of a character offset in `text`."""
    return text.count("\n", 0, max(index, 0)) + 1
