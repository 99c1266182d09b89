"""The figure pipeline and the computed figures (quick mode, CPU)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builder.figures import discover
from tests.helpers import ROOT, TOY_BAD, TOY_BARRED, TOY_GOOD, run_blog, soup, toy_project

BODY_FIGURES = [f"/images/post2/{n}.jpg" for n in (1, 2, 4, 5, 6, 7)]


@pytest.fixture(scope="module")
def manifest(seed_project: Path) -> dict:
    return {e["name"]: e for e in json.loads((seed_project / "_site/figures.json").read_text())["figures"]}


def test_every_script_writes_its_declared_outputs(seed_project: Path, manifest: dict) -> None:
    figures = discover(seed_project / "figures")
    assert {f.name for f in figures} == set(manifest)
    for figure in figures:
        entry = manifest[figure.name]
        assert entry["outputs"] == list(figure.outputs)
        assert entry["script"] == f"figures/{figure.name}.py"
        assert entry["quick"] is True and entry["device"].startswith("CPU")
        assert entry["seconds"] > 0 and entry["peak_memory_mb"] > 0
        assert entry["versions"]["torch"] and len(entry["key"]) == 64
        for path in figure.outputs:
            image = Image.open(seed_project / "_site" / path.lstrip("/"))
            assert (image.width, image.height) == (entry["images"][path]["width"],
                                                   entry["images"][path]["height"])


def test_body_figures_are_wide_sharp_and_legible_on_a_phone(seed_project: Path, manifest: dict) -> None:
    from PIL import JpegImagePlugin

    by_output = {path: entry for entry in manifest.values() for path in entry["outputs"]}
    for path in BODY_FIGURES:
        image = Image.open(seed_project / "_site" / path.lstrip("/"))
        assert image.width >= 1200, path
        assert JpegImagePlugin.get_sampling(image) == 0, f"{path}: chroma subsampled"
        assert max(image.quantization[0]) <= 25, f"{path}: JPEG quality below 90"
        info = by_output[path]["images"][path]
        assert info["min_text_css_px_at_phone"] >= 12, f"{path}: text too small on a phone ({info})"


def test_banner_is_big_and_dark_enough_for_white_text(seed_project: Path) -> None:
    image = Image.open(seed_project / "_site/images/post2/background.jpg").convert("RGB")
    assert image.width >= 1600 and image.height >= 500
    c = np.asarray(image, dtype=np.float64) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    assert 1.05 / (np.percentile(luminance, 99) + 0.05) >= 4.5


def test_numbers_drawn_on_convolution_and_pooling_equal_torch(tmp_path: Path) -> None:
    import torch
    import torch.nn.functional as F

    from builder.figure_worker import run_script

    conv = run_script(ROOT / "figures/convolution.py", tmp_path, quick=True, device="cpu")
    x = torch.tensor(conv.metrics["input"], dtype=torch.float32)[None, None]
    k = torch.tensor(conv.metrics["kernel"], dtype=torch.float32)[None, None]
    expected = F.conv2d(x, k)[0, 0].int().tolist()
    assert conv.metrics["output"] == expected
    texts = conv.texts["/images/post2/2.jpg"]
    drawn = [t.replace("−", "-") for t in texts]
    for value in [v for row in expected for v in row]:
        assert str(value) in drawn
    assert texts[-1].endswith(f"=  {conv.metrics['window_value']}") or any(
        t.endswith(f"=  {conv.metrics['window_value']}") for t in texts)

    pool = run_script(ROOT / "figures/max_pooling.py", tmp_path, quick=True, device="cpu")
    grid = torch.tensor(pool.metrics["input"], dtype=torch.float32)[None, None]
    assert pool.metrics["output"] == F.max_pool2d(grid, 2, 2)[0, 0].int().tolist()
    texts = pool.texts["/images/post2/4.jpg"]
    numbers = [t for t in texts if t.isdigit()]
    assert numbers == [str(v) for row in pool.metrics["input"] for v in row] + \
        [str(v) for row in pool.metrics["output"] for v in row]


def test_inception_total_is_the_models_own_count(manifest: dict) -> None:
    from torchvision.models import inception_v3

    model = inception_v3(weights=None, aux_logits=False, init_weights=False)
    metrics = manifest["inception_v3"]["metrics"]
    assert metrics["total_params"] == sum(p.numel() for p in model.parameters())
    assert round(metrics["total_params"] / 1e6, 1) == 23.8
    assert [b["name"] for b in metrics["blocks"]] == [n for n, _ in model.named_children()]
    assert metrics["blocks"][7]["name"] == "Mixed_5b" and metrics["blocks"][7]["shape"] == [256, 35, 35]
    assert metrics["mixed_5b_concat_channels"] == 256


def test_cpu_only_chart_says_there_was_no_gpu(manifest: dict) -> None:
    metrics = manifest["cpu_vs_gpu"]["metrics"]
    assert metrics["gpu"] is None and metrics["speedup"] is None and metrics["cpu_images_per_s"] > 0


def test_whole_cnn_shows_the_networks_own_prediction(manifest: dict) -> None:
    metrics = manifest["whole_cnn"]["metrics"]
    assert abs(sum(metrics["probabilities"]) - 1) < 1e-4
    assert metrics["predicted"] == int(np.argmax(metrics["probabilities"]))
    assert 0 < metrics["test_accuracy"] <= 1 and metrics["test_size"] == 450


def test_provenance_note_and_published_script(seed_project: Path) -> None:
    page = soup(seed_project / "_site/2018/06/28/cnn-co-gi-do-sai-sai/index.html")
    figure = page.find("img", src="/images/post2/4.jpg").find_parent("figure")
    note = figure.find("details", class_="provenance")
    assert note.summary.get_text() == "Hình này được tạo thế nào?"
    assert note.a["href"] == "/figures/max_pooling.py"
    assert "CPU" in note.get_text() and "giây" in note.get_text()
    assert (seed_project / "_site/figures/max_pooling.py").read_bytes() == \
        (seed_project / "figures/max_pooling.py").read_bytes()
    img = figure.img
    assert img["alt"].startswith("Max pooling 2×2") and int(img["width"]) >= 1200
    inline = page.find("img", src="/images/post2/5.jpg")
    assert inline.find_parent("p").find_next_sibling().name == "details"


def test_second_build_runs_nothing_and_imports_neither_torch_nor_matplotlib(seed_project: Path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from builder.cli import cli
        try:
            cli(["build", "-s", {str(seed_project / "site_src")!r}, "--quick"], standalone_mode=False)
        finally:
            print("IMPORTED", sorted(m for m in ("torch", "matplotlib", "numpy") if m in sys.modules))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    count = len(discover(seed_project / "figures"))
    assert f"figures: 0 run, {count} cached, 0 failed" in done.stdout
    assert "IMPORTED []" in done.stdout


def test_style_edit_makes_every_figure_stale_and_a_script_edit_only_itself(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "figures", tmp_path / "figures", ignore=shutil.ignore_patterns("__pycache__"))
    before = {f.name: f.key for f in discover(tmp_path / "figures")}
    assert {f.name: f.key for f in discover(tmp_path / "figures", quick=True)} != before
    with (tmp_path / "figures/max_pooling.py").open("a") as f:
        f.write("\n# edited\n")
    after_script = {f.name: f.key for f in discover(tmp_path / "figures")}
    assert [n for n in before if before[n] != after_script[n]] == ["max_pooling"]
    with (tmp_path / "figures/_style.py").open("a") as f:
        f.write("\n# edited\n")
    after_style = {f.name: f.key for f in discover(tmp_path / "figures")}
    assert all(after_style[n] != after_script[n] for n in before)


def test_a_failing_script_is_named_and_the_others_still_finish(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD, "bad.py": TOY_BAD})
    (project / "_site").mkdir()
    (project / "_site/keep.txt").write_text("old site")  # not ours: --force lets the build use the folder
    result = run_blog("build", "-s", str(project / "site_src"), "--force")
    assert result.exit_code == 1
    assert "error: " in result.stderr and "bad.py" in result.stderr
    assert "ValueError: cố ý hỏng" in result.stderr and "Traceback" in result.stderr
    assert "figures: 1 run, 0 cached, 1 failed" in result.stderr
    assert (project / "_site/keep.txt").read_text() == "old site"  # the old site is intact
    manifest = json.loads((project / ".cache/figures/manifest.json").read_text())
    assert [e["name"] for e in manifest["figures"]] == ["good"]
    assert manifest["figures"][0]["metrics"] == {"answer": 42}
    (project / "figures/bad.py").unlink()
    again = run_blog("build", "-s", str(project / "site_src"), "--force")
    assert again.exit_code == 0 and "figures: 0 run, 1 cached, 0 failed" in again.stdout
    assert (project / "_site/img/good.png").is_file()
    assert [p.read_text() for p in (project / ".cache/trash").glob("*/keep.txt")] == ["old site"]


def test_a_corrupt_manifest_is_rebuilt_not_a_crash(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    assert run_blog("figures", "-s", str(project / "site_src")).exit_code == 0
    (project / ".cache/figures/manifest.json").write_text("{not json")
    result = run_blog("figures", "-s", str(project / "site_src"))
    assert result.exit_code == 0
    assert "unreadable figure manifest" in result.stderr
    assert "figures: 1 run, 0 cached, 0 failed" in result.stdout
    assert json.loads((project / ".cache/figures/manifest.json").read_text())["figures"][0]["name"] == "good"


def test_a_tampered_output_is_made_again(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    run_blog("figures", "-s", str(project / "site_src"))
    (cached,) = (project / ".cache/figures/good").glob("*/img/good.png")
    cached.write_bytes(b"not a png")
    assert "1 run" in run_blog("figures", "-s", str(project / "site_src")).stdout


def test_figures_command_list_force_and_names(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    listed = run_blog("figures", "-s", str(project / "site_src"), "--list")
    assert listed.stdout.split()[:3] == ["good", "stale", "/img/good.png"]
    run_blog("figures", "-s", str(project / "site_src"))
    assert "cached" in run_blog("figures", "-s", str(project / "site_src"), "--list").stdout
    forced = run_blog("figures", "good", "-s", str(project / "site_src"), "--force")
    assert "figures: 1 run, 0 cached" in forced.stdout
    unknown = run_blog("figures", "nope", "-s", str(project / "site_src"))
    assert unknown.exit_code == 1 and "no figure script named nope" in unknown.stderr


def test_a_script_without_outputs_is_a_clear_error(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"empty.py": "def make(ctx):\n    pass\n"})
    result = run_blog("build", "-s", str(project / "site_src"))
    assert result.exit_code == 1
    assert "empty.py: figure script must declare OUTPUTS" in result.stderr


def test_learned_figures_record_their_metrics(manifest: dict) -> None:
    features = manifest["feature_maps"]["metrics"]
    assert features["structure"] > 0 and 0.05 < features["structure_at_init"] < 0.2
    assert features["structure_ratio"] == pytest.approx(features["structure"] / features["structure_at_init"],
                                                        rel=1e-3)
    picasso = manifest["picasso"]["metrics"]
    for key in ("face_probability", "scrambled_probability", "control_face_probability",
                "control_scrambled_probability"):
        assert 0 <= picasso[key] <= 1
    fooling = manifest["fooling"]["metrics"]
    for key in ("confidences", "pattern_confidences", "transfer_confidences", "pattern_transfer_confidences"):
        assert len(fooling[key]) == 10 and all(0 <= v <= 1 for v in fooling[key])
    assert 0 < fooling["test_accuracy"] <= 1 and 0 <= fooling["real_digits_at_bar"] <= 1


def test_structure_measure_tells_structure_from_noise() -> None:
    import math

    import torch

    sys.path.insert(0, str(ROOT / "figures"))
    try:
        from feature_maps import structure
    finally:
        sys.path.remove(str(ROOT / "figures"))
    torch.manual_seed(0)
    noise = torch.randn(16, 3, 7, 7)
    r = torch.arange(7.0) - 3
    y, x = torch.meshgrid(r, r, indexing="ij")
    envelope = torch.exp(-(x**2 + y**2) / 8)
    edges = torch.stack([envelope * torch.cos(2 * math.pi * (x * math.cos(t) + y * math.sin(t)) / 5)
                         for t in torch.linspace(0, 3, 16)])
    assert structure(noise) < 0.2
    assert structure(edges[:, None].expand(16, 3, 7, 7)) > 2 * structure(noise)


def test_picasso_negatives_and_the_swap() -> None:
    import torch

    sys.path.insert(0, str(ROOT / "figures"))
    try:
        import picasso
    finally:
        sys.path.remove(str(ROOT / "figures"))
    g = torch.Generator().manual_seed(0)
    parts = picasso.face_parts(g, 1, "cpu")
    state = g.get_state()
    face = picasso.draw_face(g, parts, "cpu")[0]
    g.set_state(state)
    swapped = picasso.draw_face(g, parts, "cpu", swap=True)[0]
    cy = int(parts["cy"])
    # The swap moves dark parts (eyes) below the centre and the mouth above it; the rest is identical.
    assert (face[:cy - 1] < 0.3).sum() > (swapped[:cy - 1] < 0.3).sum() - 20
    changed = (face - swapped).abs() > 0.05
    assert 0 < changed.float().mean() < 0.2


def test_verify_rebuilds_and_compares(seed_project: Path) -> None:
    result = run_blog("figures", "max_pooling", "-s", str(seed_project / "site_src"), "--quick", "--verify",
                      "--device", "cpu")
    assert result.exit_code == 0, result.output
    assert "max_pooling      ok       mean |Δ| 0.00, max 0" in result.stdout
    assert "verified 1 figure(s): 1 ok, 0 with problems" in result.stdout


def test_metrics_below_their_bars_warn_and_fail_verify(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_BARRED})
    built = run_blog("build", "-s", str(project / "site_src"))
    assert built.exit_code == 0
    assert "good.py: metric answer = 42 is below its bar 100" in built.stderr
    assert run_blog("build", "-s", str(project / "site_src"), "--strict").exit_code == 1
    checked = run_blog("figures", "-s", str(project / "site_src"), "--verify")
    assert checked.exit_code == 1
    assert "good             PROBLEM" in checked.stdout and "below its bar 100" in checked.stdout


def test_verify_notices_a_figure_that_no_longer_reproduces(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_GOOD})
    run_blog("figures", "-s", str(project / "site_src"))
    script = project / "figures/good.py"
    (cached,) = (project / ".cache/figures/good").glob("*/img/good.png")
    Image.new("RGB", (8, 8), "black").save(cached)  # as if the script drew something else last time
    manifest_path = project / ".cache/figures/manifest.json"
    manifest = json.loads(manifest_path.read_text())
    import hashlib

    manifest["figures"][0]["sha256"]["/img/good.png"] = hashlib.sha256(cached.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest))
    checked = run_blog("figures", "-s", str(project / "site_src"), "--verify")
    assert checked.exit_code == 1, checked.stdout
    assert "outputs differ from the cached ones (mean |Δ| 255.00 > 1.0)" in checked.stdout
    assert script.exists()


def test_figures_are_offered_light_and_dark_in_the_lighter_format(seed_project: Path) -> None:
    """Each figure's <picture>: a dark rendition (media query) before the light one, each as one
    SVG or as AVIF and WebP at several widths; the JPEG stays the fallback at the post's path."""
    site = seed_project / "_site"
    page = soup(site / "2018/06/28/cnn-co-gi-do-sai-sai/index.html")
    images = page.select(".post-body img")
    assert len(images) == 9
    assert [img["src"] for img in images] == [f"/images/post2/{n}.jpg" for n in range(1, 10)]
    for index, img in enumerate(images):
        assert int(img["width"]) >= 1200 and int(img["height"]) > 0  # no layout shift
        expected = (None, None) if index == 0 else ("lazy", "async")
        assert (img.get("loading"), img.get("decoding")) == expected
        assert Image.open(site / img["src"].lstrip("/")).format == "JPEG"
        picture = img.parent
        assert picture.name == "picture"
        sources = picture.find_all("source")
        media = [s.get("media", "") for s in sources]
        light = [s for s in sources if not s.get("media")]
        dark = [s for s in sources if s.get("media") == "(prefers-color-scheme: dark)"]
        assert media.index("(prefers-color-scheme: dark)") < media.index("")  # the first match wins
        for group in (light, dark):
            types = [s["type"] for s in group]
            assert types in (["image/svg+xml"], ["image/avif", "image/webp"]), types
            for source in group:
                candidates = [c.split() for c in source["srcset"].split(", ")]
                if source["type"] == "image/svg+xml":
                    (url,), = candidates
                    svg = (site / url.lstrip("/")).read_text(encoding="utf-8")
                    assert svg.startswith("<svg") and "<text" not in svg and "font-family" not in svg
                    continue
                assert [int(w[:-1]) for _, w in candidates] == [480, 720, 960, int(img["width"])]
                for url, width in candidates:
                    variant = Image.open(site / url.lstrip("/"))
                    assert variant.format == source["type"].split("/")[1].upper()
                    assert variant.width == int(width[:-1])
    inception = images[0].parent
    assert inception.get("class") == ["wide"]
    assert [s.get("media") for s in inception.find_all("source")][:2] == [
        "(min-width: 40rem) and (prefers-color-scheme: dark)", "(min-width: 40rem)"]
    banner = page.select_one("picture img.post-background")
    widths = [c.split()[1] for c in banner.find_previous_sibling("source").get("srcset").split(", ")] \
        if banner.find_previous_sibling("source") else []
    assert widths == ["480w", "720w", "960w", "1440w", "1920w"]


TOY_LIBRARIES = '''
OUTPUTS = {"/img/good.png": "a figure drawn with Pillow alone"}

def make(ctx):
    import sys
    from PIL import Image
    ctx.save(Image.new("RGB", (8, 8), "white"), "/img/good.png")
    return {"loaded": sorted(m for m in ("torch", "matplotlib", "numpy") if m in sys.modules)}
'''
TOY_TORCH_INSIDE = '''
OUTPUTS = {"/img/t.png": "a figure importing torch only inside make"}
SEED = 7

def make(ctx):
    import torch
    from PIL import Image
    ctx.save(Image.new("RGB", (8, 8), "white"), "/img/t.png")
    return {"first": torch.rand(1).item(), "deterministic": torch.are_deterministic_algorithms_enabled()}
'''


def test_a_script_that_needs_no_torch_runs_without_it(tmp_path: Path) -> None:
    """The worker imports torch, numpy and matplotlib only for a script that imports them."""
    project = toy_project(tmp_path, {"good.py": TOY_LIBRARIES})
    assert run_blog("figures", "-s", str(project / "site_src")).exit_code == 0
    (entry,) = json.loads((project / ".cache/figures/manifest.json").read_text())["figures"]
    assert entry["metrics"] == {"loaded": []} and entry["device"].startswith("CPU ")


def test_a_script_importing_torch_anywhere_gets_it_seeded_and_deterministic(tmp_path: Path) -> None:
    from builder.figure_worker import imported_libraries, run_script

    script = tmp_path / "t.py"
    script.write_text(TOY_TORCH_INSIDE)
    assert "torch" in imported_libraries(script)  # found inside make(), not only at the top
    first = run_script(script, tmp_path / "a", device="cpu").metrics
    again = run_script(script, tmp_path / "b", device="cpu").metrics
    assert first == again and first["deterministic"] is True


def test_each_drawing_is_published_as_the_lighter_of_svg_and_raster(tmp_path: Path) -> None:
    """SVG wins when it reaches the reader (gzip) in fewer bytes than AVIF at 720 px, and loses
    otherwise; only the winner's files are published."""
    import os
    import random

    from builder.images import Rendition, responsive_images

    folder = tmp_path / "out"
    (folder / "img").mkdir(parents=True)
    noisy = Image.frombytes("RGB", (1200, 800), os.urandom(1200 * 800 * 3))  # AVIF cannot shrink noise
    noisy.save(folder / "img/a.jpg", quality=92)
    Image.new("RGB", (1200, 800), "white").save(folder / "img/b.jpg", quality=92)  # AVIF: a few bytes
    (folder / "img/a.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>\n')
    rng = random.Random(0)
    path = " ".join(f"L{rng.random():.6f} {rng.random():.6f}" for _ in range(20000))
    (folder / "img/b.svg").write_text(f'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0{path}"/></svg>')

    def drawing(name: str, scheme: str) -> Rendition:
        raster = folder / f"img/{name}.jpg"
        return Rendition("body", scheme, 1200, 800, f"/img/{name}.jpg", raster,
                         hashlib.sha256(raster.read_bytes()).hexdigest(), f"/img/{name}.svg",
                         folder / f"img/{name}.svg")

    jpegs = {"/img/a.jpg": (folder / "img/a.jpg", 1200, 800, "")}
    result = responsive_images(jpegs, tmp_path / "cache", {"/img/a.jpg": [drawing("a", "light"),
                                                                           drawing("b", "dark")]})
    figure = result["/img/a.jpg"]
    assert [(c.scheme, c.chosen) for c in figure.choices] == [("dark", "raster"), ("light", "svg")]
    dark_avif, dark_webp, light_svg = figure.sources
    assert (dark_avif.mime, dark_avif.media) == ("image/avif", "(prefers-color-scheme: dark)")
    assert dark_webp.mime == "image/webp" and "/img/b-720.webp 720w" in dark_webp.srcset
    assert (light_svg.mime, light_svg.srcset, light_svg.media) == ("image/svg+xml", "/img/a.svg", "")
    assert "/img/a.svg" in figure.files and "/img/b.svg" not in figure.files
    assert not any(path.startswith("/img/a-") for path in figure.files)  # no rasters for the SVG winner

