"""The images stage: every generated JPEG as AVIF and WebP at several widths, made once and
then found in the cache (keyed by the source's sha256 and the builder's code version)."""

from __future__ import annotations

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
