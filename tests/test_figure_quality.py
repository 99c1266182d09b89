"""What every figure must be: checked for overlaps and text size on each save, the same on every
run, and true to the sentences beside it in the post."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest

from builder import figures as figure_module
from builder.figure_checks import ARTICLE_H2_CSS_PX, MIN_TEXT_CSS_PX
from tests.helpers import ROOT, run_blog, toy_project

FIGURES_WITH_TEXT = ["backprop", "convolution", "cpu_vs_gpu", "feature_maps", "fooling", "inception_v3",
                     "max_pooling", "picasso", "whole_cnn"]


@pytest.fixture(scope="module")
def manifest(seed_project: Path) -> dict:
    return {e["name"]: e for e in json.loads((seed_project / "_site/figures.json").read_text())["figures"]}


def figures_module(name: str):
    sys.path.insert(0, str(ROOT / "figures"))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(ROOT / "figures"))


# --- the layout check --------------------------------------------------------------------------

TOY_OVERLAPS = '''
OUTPUTS = {"/img/bad.jpg": "a figure whose labels collide"}

def make(ctx):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    fig = plt.figure(figsize=(8, 6), dpi=150)
    fig.text(0.1, 0.9, "Tiêu đề chồng lên", fontsize=22)
    fig.text(0.12, 0.9, "một nhãn khác", fontsize=22)
    ax = fig.add_axes([0.1, 0.1, 0.35, 0.35])
    ax.imshow([[0, 1], [1, 0]])
    ax.axis("off")
    fig.text(0.2, 0.3, "nhãn trên ảnh", fontsize=22)
    box = fig.add_axes([0.55, 0.1, 0.4, 0.4])
    box.set_xlim(0, 10)
    box.set_ylim(0, 10)
    box.axis("off")
    box.add_patch(Rectangle((2, 2), 3, 3, fill=False, linewidth=3))
    box.text(4.6, 3.5, "tràn viền", fontsize=22, va="center")
    ctx.save(fig, "/img/bad.jpg")
'''


def test_the_check_names_every_overlap_and_fails_the_figure(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"bad.py": TOY_OVERLAPS})
    result = run_blog("figures", "-s", str(project / "site_src"))
    assert result.exit_code == 1
    assert "bad.py" in result.stderr and "FigureCheckError: /img/bad.jpg" in result.stderr
    assert 'text "Tiêu đề chồng lên" overlaps text "một nhãn khác"' in result.stderr
    assert 'text "nhãn trên ảnh" overlaps the image in axes 1' in result.stderr
    assert 'text "tràn viền" crosses the border of a Rectangle' in result.stderr
    assert not (project / ".cache/figures/manifest.json").exists()  # nothing half-checked is kept


def test_the_check_measures_text_against_the_theme() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from builder.figure_checks import check_figure

    fig = plt.figure(figsize=(8, 4), dpi=150)
    fig.text(0.05, 0.9, "Tiêu đề quá to", fontsize=30, va="top")
    fig.text(0.05, 0.5, "chữ quá nhỏ", fontsize=20)
    fig.text(0.05, 0.05, "vừa", fontsize=22)
    report = check_figure(fig)
    plt.close(fig)
    # 20 pt at 150 dpi is 41.7 px of a 1200 px image, shown 328 px wide on a phone: 11.4 CSS px.
    assert report["min_text_css_px_at_phone"] == pytest.approx(20 * 150 / 72 * 328 / 1200, abs=0.01)
    assert report["max_text_css_px_at_desktop"] == pytest.approx(30 * 150 / 72 * 480 / 1200, abs=0.01)
    assert any('"chữ quá nhỏ" is 11.4 CSS px on a 360 px phone' in p for p in report["problems"])
    assert any('"Tiêu đề quá to" is 25.0 CSS px on a 1280 px screen' in p for p in report["problems"])
    assert not any('"vừa"' in p for p in report["problems"])


def test_hidden_ticks_and_clipped_lines_are_not_reported() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from builder.figure_checks import check_figure

    fig = plt.figure(figsize=(8, 4), dpi=150)
    ax = fig.add_axes([0.1, 0.2, 0.8, 0.7])
    ax.imshow([[0, 1], [1, 0]])
    ax.axis("off")  # its tick labels exist as objects but are never drawn
    fig.text(0.1, 0.05, "dưới ảnh", fontsize=22)
    report = check_figure(fig)
    plt.close(fig)
    assert report["problems"] == [] and report["texts"] == ["dưới ảnh"]


def test_all_ten_figures_pass_the_checks(manifest: dict) -> None:
    """The seed build (quick figures) saved every figure through the checks, in the light and the
    dark palette (and the wide layout where there is one); its record says so."""
    assert set(FIGURES_WITH_TEXT) | {"banner"} == set(manifest)
    for name in FIGURES_WITH_TEXT:
        (info,) = manifest[name]["images"].values()
        assert info["texts_checked"] > 0, name
        assert info["min_text_css_px_at_phone"] >= MIN_TEXT_CSS_PX, name
        assert info["max_text_css_px_at_desktop"] <= ARTICLE_H2_CSS_PX, name
        assert info["headline"], f"{name}: no headline marked"
        renditions = info["renditions"]
        assert {(r["layout"], r["scheme"]) for r in renditions} >= {("body", "light"), ("body", "dark")}, name
        for rendition in renditions:
            assert rendition["texts_checked"] == info["texts_checked"] or rendition["layout"] == "wide"
            assert rendition["min_text_css_px_at_phone"] >= MIN_TEXT_CSS_PX, (name, rendition["raster"])
            assert rendition["max_text_css_px_at_desktop"] <= ARTICLE_H2_CSS_PX, (name, rendition["raster"])
            assert rendition["headline"].split() == info["headline"].split()  # the same words, any layout


def test_dark_drawings_are_dark_and_photos_keep_their_colours(seed_project: Path, manifest: dict) -> None:
    """The dark rendition is the light one's numbers on the theme's dark paper; a photograph
    inside a figure (the cat of 3.jpg) is the same pixels in both."""
    import numpy as np
    from PIL import Image

    style = figures_module("_style")
    site = seed_project / "_site"
    for name in FIGURES_WITH_TEXT:
        (path,) = manifest[name]["outputs"]
        folder = next((seed_project / ".cache/figures" / name).glob("*/"))
        light = np.asarray(Image.open(folder / path.lstrip("/")).convert("RGB"), dtype=float)
        dark = np.asarray(Image.open(folder / path.lstrip("/").replace(".jpg", "-dark.jpg")).convert("RGB"),
                          dtype=float)
        assert light.shape == dark.shape, name
        for image, palette in ((light, style.LIGHT_PALETTE), (dark, style.DARK_PALETTE)):
            paper = np.array([int(palette.paper[i:i + 2], 16) for i in (1, 3, 5)])
            assert np.abs(image[4, 4] - paper).max() <= 3, (name, palette.name)  # the corner is paper
        assert dark.mean() < light.mean() - 100, name
    assert (site / "images/post2/3-dark.svg").is_file() or list(site.glob("images/post2/3-dark-*.avif"))


def test_the_wide_layout_is_checked_at_the_widths_it_is_shown() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from builder.figure_checks import WIDE_DISPLAY_PX, WIDE_MIN_DISPLAY_PX, check_figure

    fig = plt.figure(figsize=(2200 / 150, 4), dpi=150)
    fig.text(0.05, 0.9, "Tiêu đề", fontsize=25.5, va="top")
    fig.text(0.05, 0.5, "chữ nhỏ", fontsize=20)
    report = check_figure(fig, (WIDE_MIN_DISPLAY_PX, WIDE_DISPLAY_PX))
    plt.close(fig)
    # 20 pt at 150 dpi is 41.7 px of a 2200 px image, shown 600 CSS px wide at a 640 px screen: 11.4.
    assert any('"chữ nhỏ" is 11.4 CSS px at 600 CSS px wide, below 12' in p for p in report["problems"])
    assert report["max_text_css_px_at_desktop"] == pytest.approx(25.5 * 150 / 72 * 880 / 2200, abs=0.01)


# --- same pixels on every run ------------------------------------------------------------------

TOY_DETERMINISM = '''
OUTPUTS = {"/img/good.png": "settings"}

def make(ctx):
    import os
    import torch
    from PIL import Image
    ctx.save(Image.new("RGB", (8, 8), "white"), "/img/good.png")
    return {"deterministic": torch.are_deterministic_algorithms_enabled(),
            "cudnn_deterministic": torch.backends.cudnn.deterministic,
            "cudnn_benchmark": torch.backends.cudnn.benchmark,
            "cublas": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
            "generator_device": str(ctx.generator.device), "device": str(ctx.device)}
'''


def test_the_worker_makes_every_script_deterministic(tmp_path: Path) -> None:
    project = toy_project(tmp_path, {"good.py": TOY_DETERMINISM})
    assert run_blog("figures", "-s", str(project / "site_src")).exit_code == 0
    metrics = json.loads((project / ".cache/figures/manifest.json").read_text())["figures"][0]["metrics"]
    assert metrics["deterministic"] is True and metrics["cudnn_deterministic"] is True
    assert metrics["cudnn_benchmark"] is False and metrics["cublas"] == ":4096:8"
    assert metrics["generator_device"] == metrics["device"]  # random data is made where it is used


def test_learned_figures_make_the_same_pixels_twice(seed_project: Path) -> None:
    result = run_blog("figures", "feature_maps", "fooling", "picasso", "whole_cnn", "-s",
                      str(seed_project / "site_src"), "--quick", "--verify", "--device", "cpu")
    assert result.exit_code == 0, result.output
    for name in ("feature_maps", "fooling", "picasso", "whole_cnn"):
        assert f"{name:<16} ok       mean |Δ| 0.00, max 0" in result.stdout


def test_workers_share_the_figures_and_each_is_made_once(tmp_path: Path, monkeypatch) -> None:
    scripts = {f"toy{i}.py": TOY_DETERMINISM.replace("/img/good.png", f"/img/toy{i}.png") for i in range(5)}
    project = toy_project(tmp_path, scripts)
    monkeypatch.setattr(figure_module, "worker_count", lambda cpus=None: 3)
    result = run_blog("figures", "-s", str(project / "site_src"))
    assert result.exit_code == 0, result.output
    assert "figures: 5 run, 0 cached, 0 failed" in result.stdout
    manifest = json.loads((project / ".cache/figures/manifest.json").read_text())
    assert sorted(e["name"] for e in manifest["figures"]) == [f"toy{i}" for i in range(5)]
    assert all(e["metrics"]["deterministic"] for e in manifest["figures"])


def test_worker_count_depends_on_the_machine_only() -> None:
    assert figure_module.worker_count(2) == 1 and figure_module.worker_count(4) == 1
    assert figure_module.worker_count(16) == 4 and figure_module.worker_count(128) == 4


# --- figures that show what the post says --------------------------------------------------------

def test_oriented_fraction_tells_edges_from_blobs_and_noise() -> None:
    import torch

    orientedness = figures_module("feature_maps").orientedness
    threshold = figures_module("feature_maps").ORIENTED
    r = torch.arange(7.0) - 3
    y, x = torch.meshgrid(r, r, indexing="ij")
    envelope = torch.exp(-(x**2 + y**2) / 8)
    gabors = torch.stack([envelope * torch.cos(2 * math.pi * (x * math.cos(t) + y * math.sin(t)) / lam + ph)
                          for t in torch.linspace(0, 3, 6) for lam in (3, 5, 8) for ph in (0, 1.5)])
    edge = ((x > 0).float() - 0.5)[None]
    blob = torch.exp(-(x**2 + y**2) / 4)[None]
    centre_surround = (torch.exp(-(x**2 + y**2) / 2) - 0.5 * torch.exp(-(x**2 + y**2) / 8))[None]
    assert (orientedness(gabors[:, None].expand(-1, 3, 7, 7)) >= threshold).all()
    assert orientedness(edge[:, None].expand(-1, 3, 7, 7)).item() >= threshold
    for round_filter in (blob, centre_surround):
        assert orientedness(round_filter[:, None].expand(-1, 3, 7, 7)).item() < 0.05
    torch.manual_seed(0)
    noise = orientedness(torch.randn(1000, 3, 7, 7))
    assert (noise >= threshold).float().mean() < 0.01


def test_feature_maps_metrics_and_words(manifest: dict) -> None:
    metrics = manifest["feature_maps"]["metrics"]
    assert 0 <= metrics["oriented_fraction"] <= 1 and metrics["oriented_fraction_at_init"] < 0.1
    filters = figures_module("feature_maps").FILTERS
    assert len(metrics["orientation_concentration"]) == filters
    oriented = sum(v >= figures_module("feature_maps").ORIENTED for v in metrics["orientation_concentration"])
    assert metrics["oriented_fraction"] == pytest.approx(oriented / filters)
    assert metrics["smoothness_at_init"] < 0.3  # a random start is noise; the bar asks for >= 0.6
    (info,) = manifest["feature_maps"]["images"].values()
    assert "AlexNet" in info["headline"]  # the caption speaks of AlexNet's layer ...
    assert "Không phải bộ lọc của AlexNet" in info["subtitle"]  # ... and the figure says what it is


def test_full_bars_include_the_new_metrics() -> None:
    by_name = {f.name: f for f in figure_module.discover(ROOT / "figures")}
    assert by_name["feature_maps"].bars == {"structure_ratio": 1.5, "oriented_fraction": 0.5,
                                            "smoothness": 0.6}
    assert by_name["backprop"].bars["minimum_reached"] >= 1 / 1.05


def test_smoothness_tells_smooth_filters_from_noise() -> None:
    import torch

    smoothness = figures_module("feature_maps").smoothness
    r = torch.arange(11.0) - 5
    y, x = torch.meshgrid(r, r, indexing="ij")
    gabor = torch.exp(-(x**2 + y**2) / 12) * torch.cos(2 * math.pi * x / 7)
    edge = torch.exp(-(x**2 + y**2) / 12) * torch.sin(2 * math.pi * (x + y) / 9)
    for smooth in (gabor, edge):
        assert smoothness(smooth[None, None].expand(1, 3, 11, 11)) > 0.8
    torch.manual_seed(0)
    assert smoothness(torch.randn(100, 3, 11, 11)) < 0.3
    checkerboard = ((x + y) % 2 * 2 - 1)[None, None].expand(1, 3, 11, 11)
    assert smoothness(checkerboard) < 0.05


def test_gradient_descent_reaches_the_minimum(manifest: dict) -> None:
    metrics = manifest["backprop"]["metrics"]
    assert metrics["final_loss"] <= 1.05 * metrics["grid_minimum_loss"]
    assert metrics["minimum_reached"] == pytest.approx(metrics["grid_minimum_loss"] / metrics["final_loss"],
                                                      rel=1e-4)
    (info,) = manifest["backprop"]["images"].values()
    assert f"{metrics['steps']} bước" in info["subtitle"]


def test_inception_blocks_are_coloured_and_named_by_their_class(tmp_path: Path) -> None:
    from builder.figure_worker import run_script

    ctx = run_script(ROOT / "figures/inception_v3.py", tmp_path, quick=True, device="cpu")
    kinds = figures_module("inception_v3").KINDS
    blocks = ctx.metrics["blocks"]
    classes = {"BasicConv2d", "MaxPool2d", "AdaptiveAvgPool2d", "Dropout", "Linear"}
    assert {b["type"] for b in blocks} == classes | {f"Inception{letter}" for letter in "ABCDE"}
    for block in blocks:
        assert ctx.metrics["colours"][block["name"]] == kinds[block["type"]][0]
    inception_colours = {kinds[f"Inception{letter}"][0] for letter in "ABCDE"}
    assert len(inception_colours) == 5  # five block types, five colours
    texts = ctx.texts["/images/post2/1.jpg"]
    for letter in "ABCDE":
        assert any(t.startswith(f"Khối Inception {letter}") for t in texts)


def test_fooling_figure_names_the_experiment_it_reproduces(manifest: dict) -> None:
    (info,) = manifest["fooling"]["images"].values()
    words = " ".join(info["subtitle"].split())
    for part in ("Làm lại thí nghiệm MNIST", "Deep Neural Networks are Easily Fooled", "Nguyen",
                 "Yosinski", "Clune", "2015", "scikit-learn"):
        assert part in words


def test_cpu_only_chart_states_what_was_measured_and_the_log_says_the_rest(manifest: dict) -> None:
    entry = manifest["cpu_vs_gpu"]
    (info,) = entry["images"].values()
    shown = " ".join(f"{info['headline']} {info['subtitle']}".split())
    assert "GPU" not in shown and "dựng lại" not in shown  # nothing on the figure about what is missing
    assert any("no GPU on this machine" in note for note in entry["notes"])


def test_cpu_and_gpu_chart_lays_out_cleanly(tmp_path: Path) -> None:
    """The GPU version of 7.jpg, drawn from made-up rates: its layout passes the same checks."""
    from builder.figure_worker import FigureContext

    chart = figures_module("cpu_vs_gpu")
    ctx = FigureContext(tmp_path, list(chart.OUTPUTS), device="cpu")
    rates = [("CPU Intel(R) Xeon(R) Processor (2 threads)", 120.0), ("NVIDIA H200", 41000.0)]
    speedup = chart.draw(ctx, rates, batch=16, size=56, channels=64, gflop=0.69)
    assert speedup == pytest.approx(41000 / 120)
    info = ctx.images["/images/post2/7.jpg"]
    assert info["headline"] == f"GPU nhanh hơn CPU {speedup:.0f} lần"
    assert "NVIDIA H200" in ctx.texts["/images/post2/7.jpg"]


def test_a_script_runs_alone(tmp_path: Path) -> None:
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "figures/max_pooling.py", "--out", str(tmp_path), "--quick"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "images/post2/4.jpg").is_file()
