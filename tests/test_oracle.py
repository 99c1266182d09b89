"""Jekyll as the oracle: every case under tests/oracle/ builds as Jekyll builds it, except the
differences listed in tests/oracle/ALLOWLIST.yml. See tests/oracle.py for what is compared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import oracle

CASES = oracle.case_folders()
ALLOWLIST = oracle.load_allowlist()


def _need_jekyll() -> None:
    if oracle.jekyll_available():
        return
    message = "jekyll is not installed: apt-get install jekyll (.ci/run does it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI=true needs the oracle")
    pytest.skip(message)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_builds_as_jekyll_builds_it(case: Path, tmp_path: Path) -> None:
    _need_jekyll()
    differences = oracle.compare(case, tmp_path)
    allowed = [a for a in ALLOWLIST if a.case == case.name]
    unexpected, unused = oracle.split_allowed(differences, allowed)
    problems = [d.render() for d in unexpected]
    problems += [f"allowlist entry {a.document} {a.field} matches no difference: remove it" for a in unused]
    assert not problems, "\n".join(problems)


def test_allowlist_names_existing_cases_with_reasons() -> None:
    names = {c.name for c in CASES}
    for entry in ALLOWLIST:
        assert entry.case in names, f"allowlist entry for unknown case {entry.case}"
        assert entry.field in (*oracle.DOCUMENT_FIELDS, *oracle.SITE_FIELDS, *oracle.FILE_FIELDS)
        assert len(entry.reason) > 20


def test_corpus_has_the_seed_post_and_cases_per_behaviour() -> None:
    assert (oracle.CASES / "seed-post" / "_posts" / "2018-06-28-cnn-co-gi-do-sai-sai.md").read_bytes() == \
        (oracle.ROOT / "site_src" / "_posts" / "2018-06-28-cnn-co-gi-do-sai-sai.md").read_bytes()


# --- the reading itself, on hand-written output of both kinds ---------------------------------

JEKYLL_BODY = """
<h2 id="tích-chập">Tích chập</h2>
<p>Có \\(a^2 &lt; b\\) và <em>nhấn</em> <a href="/x.html">liên kết</a>.</p>
\\[\\sum_i x_i\\]
<ol>
  <li>
    <p>Bước:</p>
\\[h = f(x)\\]
  </li>
</ol>
<table>
  <thead><tr><th style="text-align: left">a</th></tr></thead>
  <tbody><tr><td style="text-align: left">1</td></tr></tbody>
</table>
<div class="language-python highlighter-rouge"><div class="highlight"><pre class="highlight"><code>\
<span class="k">print</span>(1)
</code></pre></div></div>
<p><img src="/assets/x.png" alt="Ảnh" /></p>
<p><em>Chú thích</em>
Phần còn lại.</p>
<p class="note">Có <code>\\(không\\)</code>.</p>
"""

OURS_BODY = """
<h2 id="tích-chập">Tích chập</h2>
<p>Có <span class="arithmatex">\\(a^2 &lt; b\\)</span> và <em>nhấn</em> <a href="/x.html">liên kết</a>.</p>
<div class="arithmatex">\\[\\sum_i x_i\\]</div>
<ol>
<li>
<p>Bước:</p>
<div class="arithmatex">\\[h = f(x)\\]</div>
</li>
</ol>
<table>
<thead><tr><th style="text-align: left;">a</th></tr></thead>
<tbody><tr><td style="text-align: left;">1</td></tr></tbody>
</table>
<div class="highlight"><pre><span></span><code><span class="k">print</span>(1)
</code></pre></div>
<figure><picture><source type="image/avif" srcset="/x-480.avif 480w">\
<img src="/assets/x.png" alt="Ảnh" width="1" height="1"></picture><figcaption>Chú thích</figcaption>\
<details class="provenance"><summary>Hình này được tạo thế nào?</summary>\
<p>Vẽ bằng <a href="/figures/x.py">mã</a></p></details></figure>
<p>Phần còn lại.</p>
<p class="note">Có <code>\\(không\\)</code>.</p>
"""


def _mathml(tex: str, display: bool) -> str:
    block = ' display="block"' if display else ""
    container = ' display="true"' if display else ""
    return (f'<mjx-container class="MathJax" jax="SVG"{container}><svg></svg>'
            f'<mjx-assistive-mml><math xmlns="http://www.w3.org/1998/Math/MathML"{block}><semantics><mi>x</mi>'
            f'<annotation encoding="application/x-tex">{tex}</annotation></semantics></math>'
            "</mjx-assistive-mml></mjx-container>")


def test_reading_sees_through_our_theme() -> None:
    theirs, ours = oracle.read_body(JEKYLL_BODY, ours=False), oracle.read_body(OURS_BODY, ours=True)
    assert theirs == ours
    assert theirs.math == ["inline: a^2 < b", "display: \\sum_i x_i", "display: h = f(x)"]
    assert theirs.structure == [
        "h2#tích-chập", "p", "math-display", "ol", "  li", "    p", "    math-display",
        "table", "  thead", "    tr", "      th left", "  tbody", "    tr", "      td left",
        "code", "figure", "  img", "  figcaption", "p", "p"]
    assert theirs.code == ["print(1)"]
    assert theirs.attributes == ["p class=note"]
    assert "Có ⟦math⟧ và nhấn liên kết." in theirs.text and "\\(không\\)" in theirs.text


def test_reading_takes_math_typeset_at_build_time() -> None:
    typeset = (OURS_BODY
               .replace('<span class="arithmatex">\\(a^2 &lt; b\\)</span>', _mathml("a^2 &lt; b", False))
               .replace('<div class="arithmatex">\\[\\sum_i x_i\\]</div>', _mathml("\\sum_i x_i", True)))
    assert oracle.read_body(typeset, ours=True) == oracle.read_body(JEKYLL_BODY, ours=False)


@pytest.mark.parametrize("change", [
    ("\\(a^2 &lt; b\\)", "\\(a^2 &lt;b\\)", "math"),
    ('id="tích-chập"', 'id="tich-chap"', "structure"),
    ('href="/x.html"', 'href="/y.html"', "links"),
    ("<em>nhấn</em>", "nhấn", None),  # emphasis is not compared: same text, same blocks
    ("Phần còn lại.", "Phần  còn\nlại.", None),  # whitespace is normalised
    ("Phần còn lại.", "Phần còn lại!", "text"),
    ("<p>Bước:</p>", "Bước:", "structure"),
    ('<p class="note">', "<p>", "attributes"),
    ("(1)\n</code>", "(2)\n</code>", "code"),
])
def test_reading_notices_each_kind_of_difference(change: tuple[str, str, str | None]) -> None:
    old, new, field = change
    assert old in OURS_BODY
    base = oracle.read_body(OURS_BODY, ours=True)
    changed = oracle.read_body(OURS_BODY.replace(old, new), ours=True)
    differing = [name for name in oracle.DOCUMENT_FIELDS[1:] if getattr(base, name) != getattr(changed, name)]
    assert differing == ([field] if field else [])


def test_math_is_found_as_mathjax_finds_it() -> None:
    """Within one run of text only: an element inside ends it, a <br> does not."""
    reading = oracle.read_body("<p>\\(a <em>b</em> c\\) and \\(d<br>e\\)</p><pre>\\(f\\)</pre>", ours=False)
    assert reading.math == ["inline: d\ne"]


def test_allowlist_reports_stale_entries() -> None:
    difference = oracle.Difference("c", "d.md", "text", "a", "b")
    kept = oracle.Allowed("c", "d.md", "text", "a reason long enough to read")
    stale = oracle.Allowed("c", "d.md", "links", "a reason long enough to read")
    unexpected, unused = oracle.split_allowed([difference], [kept, stale])
    assert unexpected == [] and unused == [stale]
