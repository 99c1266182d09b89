"""The images stage: every generated JPEG as AVIF and WebP at several widths, made once and
then found in the cache (keyed by the source's sha256 and the builder's code version)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from PIL import Image

from builder import images, store


@pytest.fixture
def jpeg(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "hinh.jpg"
    Image.new("RGB", (1000, 500), "navy").save(path, quality=90)
    return path, store.sha256_file(path)


def test_variants_at_every_width_below_the_image_and_its_own(tmp_path: Path, jpeg) -> None:
    path, digest = jpeg
    wanted = {"/images/hinh.jpg": (path, 1000, 500, digest)}
    (made,) = images.responsive_images(wanted, tmp_path / "cache").values()
    assert (made.width, made.height) == (1000, 500)
    assert made.srcset("image/avif", "") == "/images/hinh-480.avif 480w, /images/hinh-720.avif 720w, " \
                                            "/images/hinh-960.avif 960w, /images/hinh-1000.avif 1000w"
    assert made.srcset("image/webp", "/b").startswith("/b/images/hinh-480.webp 480w, /b/images/hinh-720.webp")
    for site_path, file in made.files.items():
        with Image.open(file) as variant:
            assert variant.format == site_path.rsplit(".", 1)[1].upper()
            assert variant.width == int(site_path.rsplit("-", 1)[1].split(".")[0])


def test_a_second_build_makes_nothing_and_a_new_builder_makes_them_again(tmp_path: Path, jpeg,
                                                                          monkeypatch) -> None:
    path, digest = jpeg
    wanted = {"/images/hinh.jpg": (path, 1000, 500, digest)}
    first = images.responsive_images(wanted, tmp_path / "cache")
    made = []
    monkeypatch.setattr(images, "_make_variant", lambda *job: made.append(job))
    assert images.responsive_images(wanted, tmp_path / "cache") == first and made == []
    monkeypatch.setattr(store, "code_version", lambda: "another builder")
    again = images.responsive_images(wanted, tmp_path / "cache")
    assert len(made) == 8 and set(again["/images/hinh.jpg"].files.values()).isdisjoint(
        first["/images/hinh.jpg"].files.values())


def test_the_size_of_other_images_from_their_header(tmp_path: Path, jpeg) -> None:
    assert images.image_size(jpeg[0]) == (1000, 500)
    (tmp_path / "a.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    assert images.image_size(tmp_path / "a.svg") is None


def weighed(svg: Path) -> tuple[int, int]:
    return svg.stat().st_size, len(gzip.compress(svg.read_bytes(), compresslevel=6, mtime=0))


def test_svg_sizes_are_remembered_by_content_and_follow_an_edit(tmp_path: Path, monkeypatch) -> None:
    """A drawing's SVG is weighed (gzip) once; the next build finds its sizes by the sha256 of
    its bytes, and an SVG whose bytes changed is weighed again."""
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg">' + "<g/>" * 500 + "</svg>")
    first = images.SvgSizes(tmp_path / "cache")
    sizes = first.of(svg)
    assert sizes == weighed(svg)
    first.save()
    images._gzip_sizes.cache_clear()  # as in a new process
    images._svg_digest.cache_clear()
    monkeypatch.setattr(images.gzip, "compress", lambda *a, **kw: pytest.fail("weighed again"))
    assert images.SvgSizes(tmp_path / "cache").of(svg) == sizes
    monkeypatch.undo()
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0L1 1"/></svg>')
    assert images.SvgSizes(tmp_path / "cache").of(svg) == weighed(svg) != sizes


def test_the_published_format_follows_an_edited_drawing(tmp_path: Path) -> None:
    """A drawing whose SVG grew past its AVIF is published as rasters in the next build."""
    from builder.model import Rendition

    raster, svg = tmp_path / "out/a.jpg", tmp_path / "out/a.svg"
    raster.parent.mkdir()
    Image.new("RGB", (1200, 800), "white").save(raster, quality=92)  # AVIF: a few hundred bytes
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    drawing = Rendition("body", "light", 1200, 800, "/img/a.jpg", raster, store.sha256_file(raster),
                        "/img/a.svg", svg)

    def chosen() -> str:
        made = images.responsive_images({"/img/a.jpg": (raster, 1200, 800, "")}, tmp_path / "cache",
                                        {"/img/a.jpg": [drawing]})
        return made["/img/a.jpg"].choices[0].chosen

    assert chosen() == "svg"
    paths = "".join(f'<path d="M{i * 7919 % 1201} {i * 104729 % 803}L{i}.{i * 31 % 97} 3"/>'
                    for i in range(3000))
    svg.write_text(f'<svg xmlns="http://www.w3.org/2000/svg">{paths}</svg>')
    assert chosen() == "raster"


def test_remembered_svg_sizes_of_another_builder_are_not_believed(tmp_path: Path, monkeypatch) -> None:
    svg = tmp_path / "a.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    record = tmp_path / "cache/images" / images.SVG_SIZES
    wrong = {"version": images.SVG_SIZES_VERSION, "sizes": {store.sha256_file(svg): [1, 1]}}
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps({**wrong, "stamp": "another builder"}))
    assert images.SvgSizes(tmp_path / "cache").of(svg) == weighed(svg)
    record.write_text(json.dumps({**wrong, "stamp": images.SvgSizes(tmp_path / "cache").stamp}))
    assert images.SvgSizes(tmp_path / "cache").of(svg) == (1, 1)  # proof that a record is believed
    monkeypatch.setattr(store, "code_version", lambda: "a new builder")
    assert images.SvgSizes(tmp_path / "cache").of(svg) == weighed(svg)
    record.write_text("[damaged")
    assert images.SvgSizes(tmp_path / "cache").of(svg) == weighed(svg)
