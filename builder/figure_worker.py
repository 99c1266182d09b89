"""The figure worker: one process, one torch import, one CUDA context for all stale figures.

The parent (`builder.figures`) sends a JSON list of jobs on stdin and reads one JSON line
per finished figure. A script's own prints go to stderr so they never corrupt that channel.
Run alone, a figure script calls `main(__file__)` to draw into `--out DIR`.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import os
import platform
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

JPEG_QUALITY = 92
PHONE_CONTENT_PX = 328  # a 360 px phone less the page's side padding


class FigureContext:
    """What a figure's `make(ctx)` gets: device, seeds, quick flag, and an atomic `save`."""

    def __init__(self, out_dir: Path, outputs: list[str], seed: int = 0, quick: bool = False,
                 device: str | None = None):
        import numpy as np
        import torch

        self.out_dir = Path(out_dir)
        self.outputs = list(outputs)
        self.seed = seed
        self.quick = quick
        self.device = torch.device(device or pick_device())
        self.device_name = describe_device(self.device)
        torch.manual_seed(seed)
        np.random.seed(seed)
        self.generator = torch.Generator().manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        self.metrics: dict[str, Any] = {}
        self.images: dict[str, dict[str, Any]] = {}  # site path -> width, height, min text size
        self.texts: dict[str, list[str]] = {}  # site path -> every text drawn on it

    def path_for(self, site_path: str) -> Path:
        if site_path not in self.outputs:
            raise ValueError(f"{site_path} is not declared in OUTPUTS ({', '.join(self.outputs)})")
        return self.out_dir / site_path.lstrip("/")

    def save(self, image: Any, site_path: str) -> Path:
        """Write a matplotlib figure or a PIL image to `site_path`, atomically."""
        from PIL import Image

        target = self.path_for(site_path)
        info: dict[str, Any] = {}
        if hasattr(image, "savefig"):
            info, texts = _text_sizes(image)
            self.texts[site_path] = texts
            buffer = io.BytesIO()
            image.savefig(buffer, format="png", dpi=image.dpi)
            import matplotlib.pyplot as plt

            plt.close(image)
            buffer.seek(0)
            image = Image.open(buffer)
        image = image.convert("RGB") if target.suffix.lower() in (".jpg", ".jpeg") else image
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        if target.suffix.lower() in (".jpg", ".jpeg"):
            # 4:4:4 (no chroma subsampling) keeps thin coloured lines and text crisp.
            image.save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
        else:
            image.save(tmp, format=image.format or "PNG", optimize=True)
        os.replace(tmp, target)
        self.images[site_path] = {"width": image.width, "height": image.height, **info}
        return target


def _text_sizes(fig) -> tuple[dict[str, Any], list[str]]:
    """The smallest visible text on the figure, in pixels of the saved image and in CSS px
    when the image is shown at phone width."""
    from matplotlib.text import Text

    fig.canvas.draw()
    texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    width_px = fig.get_size_inches()[0] * fig.dpi
    if not texts:
        return {}, []
    smallest = min(t.get_fontsize() for t in texts) * fig.dpi / 72
    return ({"min_text_px": round(smallest, 1),
             "min_text_css_px_at_phone": round(smallest * PHONE_CONTENT_PX / width_px, 1)},
            [t.get_text() for t in texts])


def pick_device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def describe_device(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (mps)"
    return f"CPU {_cpu_model()} ({torch.get_num_threads()} threads)"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_script(script: Path):
    folder = str(script.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"figure_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(script: Path, out_dir: Path, quick: bool = False, device: str | None = None,
               seed: int | None = None) -> FigureContext:
    """Run one script in this process; return its context (metrics, images, texts)."""
    import torch

    module = load_script(script)
    ctx = FigureContext(out_dir, list(module.OUTPUTS), seed if seed is not None else
                        getattr(module, "SEED", 0), quick, device)
    if ctx.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(ctx.device)
    metrics = module.make(ctx)
    ctx.metrics.update(metrics or {})
    missing = [p for p in ctx.outputs if not ctx.path_for(p).is_file()]
    if missing:
        raise RuntimeError(f"make(ctx) did not write {', '.join(missing)}")
    return ctx


def _peak_memory_mb(ctx: FigureContext) -> float:
    import torch

    if ctx.device.type == "cuda":
        return torch.cuda.max_memory_allocated(ctx.device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the worker's peak so far


def _serve(jobs: list[dict[str, Any]], channel) -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    try:
        import matplotlib
        import torch  # noqa: F401  (one import for all jobs)

        matplotlib.use("Agg")
    except ImportError as err:
        for job in jobs:
            _send(channel, {"name": job["name"], "ok": False, "error": (
                f"{err}: the figure libraries are not installed; run `make site`, or "
                "pip install -e '.[figures]'")})
        return
    for job in jobs:
        started = time.perf_counter()
        try:
            ctx = run_script(Path(job["script"]), Path(job["out_dir"]), job["quick"], job["device"],
                             job["seed"])
        except BaseException:  # noqa: BLE001 (report any failure, go on with the others)
            _send(channel, {"name": job["name"], "ok": False, "error": traceback.format_exc()})
            continue
        _send(channel, {
            "name": job["name"], "ok": True, "out_dir": job["out_dir"], "quick": job["quick"],
            "device": ctx.device_name, "seconds": time.perf_counter() - started,
            "peak_memory_mb": _peak_memory_mb(ctx), "metrics": _plain(ctx.metrics),
            "images": ctx.images})


def _plain(value: Any) -> Any:
    """Metrics as JSON: numpy and torch scalars and arrays become numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, float):
        return round(value, 6)
    return value


def _send(channel, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, ensure_ascii=False) + "\n")
    channel.flush()


def serve_stdin() -> None:
    jobs = json.load(sys.stdin)
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # script prints go to stderr
    _serve(jobs, channel)
    channel.close()


def main(script_file: str) -> None:
    """`python figures/NAME.py --out DIR [--quick] [--device cpu]`: draw one figure alone."""
    parser = argparse.ArgumentParser(description=f"Draw {Path(script_file).name}'s figure.")
    parser.add_argument("--out", type=Path, default=Path("figure-out"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="small settings, for tests")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best)")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    ctx = run_script(Path(script_file).resolve(), args.out, args.quick, args.device)
    for path in ctx.outputs:
        print(ctx.path_for(path))
    print(json.dumps({"device": ctx.device_name, "seconds": round(time.perf_counter() - started, 2),
                      "metrics": _plain(ctx.metrics)}, ensure_ascii=False))


if __name__ == "__main__":
    serve_stdin()
