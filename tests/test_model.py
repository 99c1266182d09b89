"""The data model: every value the stages pass, importing no stage; the figure record is the
manifest entry, typed, and serialises as figures.json always showed it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from builder import model
from builder.model import Figure, FigureRecord, FigureSet, Responsive, Source

PACKAGE = Path(model.__file__).parent


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_model_imports_only_the_standard_library_and_config() -> None:
    for name in imported_modules(PACKAGE / "model.py"):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or name in ("__future__", "builder.config"), name


def test_the_value_types_live_in_the_model_alone() -> None:
    """No stage defines its own copy of a model type (the scattered model this replaced)."""
    names = {"Figure", "FigureRecord", "FigureSet", "FigureSettings", "Responsive", "Source", "Rendition",
             "Choice", "Provenance", "LinkTables", "Gathered", "Rendered", "Site", "BuildResult",
             "WriteReport", "BuildState"}
    for module in PACKAGE.glob("*.py"):
        if module.name == "model.py":
            continue
        tree = ast.parse(module.read_text(encoding="utf-8"))
        defined = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        assert not defined & names, (module.name, defined & names)


RECORD = {"name": "max_pooling", "script": "figures/max_pooling.py", "key": "k" * 64,
          "outputs": ["/images/post2/4.jpg"], "device": "CPU X", "seconds": 1.5, "cpu_seconds": 2.0,
          "peak_memory_mb": 300.0, "seed": 0, "quick": True, "versions": {"torch": "2"},
          "created": "2026-12-01T00:00:00+00:00", "metrics": {"a": 1},
          "images": {"/images/post2/4.jpg": {"width": 1200, "height": 800}}, "notes": [],
          "sha256": {"/images/post2/4.jpg": "s" * 64}}


def test_a_figure_record_round_trips_in_the_manifests_field_order() -> None:
    record = FigureRecord.from_json(dict(RECORD))
    assert list(record.to_json()) == list(RECORD) and record.to_json() == RECORD
    assert record.size_of("/images/post2/4.jpg") == (1200, 800) and record.size_of("/x.png") == (0, 0)


def test_the_figure_set_gives_provenance_and_the_images_to_vary(tmp_path: Path) -> None:
    record = FigureRecord.from_json(dict(RECORD))
    figure = Figure("max_pooling", tmp_path / "max_pooling.py", {"/images/post2/4.jpg": "Max pooling"}, 0, ())
    figures = FigureSet(files={"/images/post2/4.jpg": tmp_path / "4.jpg"},
                        records={"/images/post2/4.jpg": record}, figures=(figure,))
    assert figures.responsive_inputs() == {"/images/post2/4.jpg": (tmp_path / "4.jpg", 1200, 800, "s" * 64)}
    variants = {"/images/post2/4.jpg": Responsive(1200, 800, (
        Source("image/avif", "/images/post2/4-480.avif 480w", "", "480px", 1200, 800),))}
    (made,) = figures.provenance("/blog", variants).items()
    assert made[0] == "/blog/images/post2/4.jpg"
    assert (made[1].href, made[1].alt, made[1].name, made[1].width) == ("/blog/figures/max_pooling.py",
                                                                        "Max pooling", "max_pooling", 1200)
    assert made[1].sources == (("image/avif", "/blog/images/post2/4-480.avif 480w", "", "480px", 1200, 800),)
    assert made[1].wide is False
    assert figures.published() == [record]
    assert figures.renditions() == {}  # a figure drawn by Pillow alone has no renditions


def test_a_drawn_figures_renditions_lie_beside_its_cached_output(tmp_path: Path) -> None:
    drawn = {"layout": "wide", "scheme": "dark", "width": 2200, "height": 900,
             "raster": "/images/post2/4-wide-dark.jpg", "svg": "/images/post2/4-wide-dark.svg",
             "sha256": {"/images/post2/4-wide-dark.jpg": "r" * 64, "/images/post2/4-wide-dark.svg": "v" * 64}}
    images = {"/images/post2/4.jpg": {"width": 1200, "height": 800, "renditions": [drawn]}}
    record = FigureRecord.from_json({**RECORD, "images": images})
    cached = tmp_path / "objects" / "images" / "post2" / "4.jpg"
    figures = FigureSet(files={"/images/post2/4.jpg": cached}, records={"/images/post2/4.jpg": record})
    (rendition,) = figures.renditions()["/images/post2/4.jpg"]
    assert (rendition.layout, rendition.scheme, rendition.width, rendition.raster_sha256) == (
        "wide", "dark", 2200, "r" * 64)
    assert rendition.raster_file == tmp_path / "objects" / "images" / "post2" / "4-wide-dark.jpg"
    assert rendition.svg_file == tmp_path / "objects" / "images" / "post2" / "4-wide-dark.svg"
