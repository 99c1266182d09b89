"""The kramdown reader's output pinned byte for byte on a set of documents chosen to reach every
path of its code: hand-written edge cases under each `kramdown:` setting, the seed post, and random
documents picked greedily until each adds no new line-to-line step in `builder/kramdown/`.

Speed work on the reader must leave every one of them as it is. When a change of output is meant
(and the oracle tests agree with it), rewrite the pins and review their diff:

    python -m tests.test_kramdown_pinned
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from builder.kramdown import KramdownReader, options_from_config

PINS = Path(__file__).parent / "kramdown_pinned.json"


def _render(text: str, settings: dict) -> dict:
    html, headings = KramdownReader(options_from_config(settings)).convert(text)
    return {"html": html, "headings": [[h.level, h.id, h.text] for h in headings]}


def _pins() -> list[dict]:
    return json.loads(PINS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("pin", _pins(), ids=lambda pin: pin["name"])
def test_output_is_unchanged(pin: dict) -> None:
    assert _render(pin["text"], pin["settings"]) == {"html": pin["html"], "headings": pin["headings"]}


def test_pins_cover_every_setting_and_the_seed_post() -> None:
    pins = _pins()
    assert len(pins) > 200
    assert {json.dumps(p["settings"], sort_keys=True) for p in pins} >= {
        "{}", '{"auto_ids": false}', '{"parse_block_html": true}'}
    assert any(p["name"] == "seed-post" for p in pins)


def rewrite(pins: list[dict]) -> None:
    """Each pin's output as the reader writes it now (text, settings and names kept)."""
    for pin in pins:
        pin.update(_render(pin["text"], pin["settings"]))
    PINS.write_text(json.dumps(pins, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    rewrite(_pins())
    sys.exit(0)
