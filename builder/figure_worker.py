"""The figure worker: one process, one torch import, one CUDA context for all stale figures.

The parent (`builder.figures`) sends a JSON list of jobs on stdin and reads one JSON line
per finished figure. A script's own prints go to stderr so they never corrupt that channel.
Run alone, a figure script calls `main(__file__)` to draw into `--out DIR`.

torch, numpy and matplotlib are imported only for a script that imports them (itself or
through a local helper): a script drawing with Pillow alone starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from builder import store
from builder.figure_checks import (
    DESKTOP_DISPLAY_PX,
    PHONE_DISPLAY_PX,
    WIDE_DISPLAY_PX,
    WIDE_MIN_DISPLAY_PX,
)

JPEG_QUALITY = 92
# A script importing torch gets torch set up before make(ctx) (seeds, deterministic kernels, its
# device); one importing any of these, numpy's global seed.
TORCH = ("torch", "torchvision")
NUMPY = (*TORCH, "numpy", "matplotlib", "sklearn", "skimage", "scipy")
FIGURE_LIBRARIES = (*NUMPY, "PIL")
# cuBLAS needs a fixed workspace to be deterministic; it must be set before CUDA starts.
CUBLAS_WORKSPACE = ":4096:8"


class FigureCheckError(RuntimeError):
    """A drawn figure failed the layout or text-size checks; the message names every problem."""


class FigureContext:
    """What a figure's `make(ctx)` gets: device, seeds, quick flag, and an atomic `save`.

    `generator` lives on `device`, so random data is made where it is used; `rng` is numpy's.
    """

    def __init__(self, out_dir: Path, outputs: list[str], seed: int = 0, quick: bool = False,
                 device: str | None = None, name: str = "figure", uses_torch: bool = True,
                 uses_numpy: bool = True):
        self.out_dir = Path(out_dir)
        self.outputs = list(outputs)
        self.seed = seed
        self.quick = quick
        self.name = name
        self._device_wanted = device
        self._torch: dict[str, Any] = {}
        self._rng = None
        # Seeded before make(ctx) runs: a script may draw from torch's or numpy's global generators.
        if uses_torch:
            self._start_torch()
        elif uses_numpy:
            import numpy as np

            np.random.seed(seed)
        self.metrics: dict[str, Any] = {}
        self.notes: list[str] = []
        self.images: dict[str, dict[str, Any]] = {}  # site path -> size, text sizes, headline
        self.texts: dict[str, list[str]] = {}  # site path -> every text drawn on it

    def _start_torch(self) -> dict[str, Any]:
        """torch and numpy seeded, the device and its generator (once, on first need)."""
        if not self._torch:
            import numpy as np
            import torch

            device = torch.device(self._device_wanted or pick_device())
            self._torch["device_name"] = describe_device(device)
            torch.manual_seed(self.seed)
            np.random.seed(self.seed)
            self._torch["generator"] = torch.Generator(device=device).manual_seed(self.seed)
            self._torch["device"] = device
            self._rng = self._rng or np.random.default_rng(self.seed)
        return self._torch

    @property
    def device(self):
        return self._start_torch()["device"]

    @property
    def generator(self):
        return self._start_torch()["generator"]

    @property
    def rng(self):
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    @property
    def device_name(self) -> str:
        """Where it ran: torch's device, or the CPU for a script that never used torch."""
        return self._torch["device_name"] if self._torch else f"CPU {_cpu_model()}"

    @property
    def used_cuda(self) -> bool:
        return bool(self._torch) and self._torch["device"].type == "cuda"

    def path_for(self, site_path: str) -> Path:
        if site_path not in self.outputs:
            raise ValueError(f"{site_path} is not declared in OUTPUTS ({', '.join(self.outputs)})")
        return self.out_dir / site_path.lstrip("/")

    def note(self, message: str) -> None:
        """Something the author should know that does not belong on the figure (the build log)."""
        self.notes.append(message)
        print(f"{self.name}: {message}", file=sys.stderr, flush=True)

    def save(self, image: Any, site_path: str, wide: Any = None) -> Path:
        """Write `site_path` (a JPEG or PNG), atomically, from one of:

        - a PIL image: written as it is;
        - a matplotlib figure: drawn once, checked (no overlapping elements, text readable on a
          phone and no larger than the article's headings), and written as the raster and as
          SVG beside it (`1.jpg`, `1.svg`); a failed check fails the script;
        - a draw function from `_style.themed(draw, ...)`: called once per colour scheme, so
          the figure exists in the light palette (`1.jpg`, `1.svg`) and the dark one
          (`1-dark.jpg`, `1-dark.svg`), each checked. `wide`, another such function, draws
          the layout for screens from 40rem up (`1-wide.*`, `1-wide-dark.*`), checked at the
          widths the theme shows it.

        The build chooses, per rendition, the lighter of the SVG and the raster formats.
        """
        target = self.path_for(site_path)
        drawings = []
        if callable(image) and not hasattr(image, "savefig"):
            for layout, draw in (("body", image), ("wide", wide)):
                for scheme in (SCHEMES if draw is not None else ()):
                    drawings.append(draw(scheme, lambda fig, layout=layout, scheme=scheme:
                                         self._write_drawing(fig, site_path, layout, scheme)))
        elif hasattr(image, "savefig"):
            drawings.append(self._write_drawing(image, site_path, "body", "light"))
        if drawings:
            renditions = [rendition for rendition, _ in drawings]
            first = dict(drawings[0][1])  # the light body drawing: what the page shows by default
            self.texts[site_path] = first.pop("texts")
            self.images[site_path] = {**first, "renditions": renditions}
            return target
        _write_raster(image, target)
        self.images[site_path] = {"width": image.width, "height": image.height}
        return target

    def _write_drawing(self, fig, site_path: str, layout: str, scheme: str) -> tuple[dict, dict]:
        """Check one drawing, write it as raster and SVG; return its record for the manifest
        (sizes, files, hashes, text sizes at the widths it is shown) and the check's report."""
        from builder.figure_svg import svg_bytes

        display = WIDE_DISPLAY if layout == "wide" else BODY_DISPLAY
        try:
            pixels, report = _checked_pixels(fig, f"{site_path} ({layout}, {scheme})", display)
            svg = svg_bytes(fig)
        finally:
            import matplotlib.pyplot as plt

            plt.close(fig)
        stem, suffix = site_path.rsplit(".", 1)
        name = stem + "".join(f"-{part}" for part in (layout, scheme) if part not in ("body", "light"))
        raster_path, svg_path = f"{name}.{suffix}", f"{name}.svg"
        raster_file = _write_raster(pixels, self.out_dir / raster_path.lstrip("/"))
        _write_bytes(svg, self.out_dir / svg_path.lstrip("/"))
        rendition = {"layout": layout, "scheme": scheme, "width": pixels.width, "height": pixels.height,
                     "display_px": list(display), "raster": raster_path, "svg": svg_path,
                     "sha256": {raster_path: store.sha256_file(raster_file),
                                svg_path: store.sha256_bytes(svg)},
                     **{k: report[k] for k in ("texts_checked", "min_text_css_px_at_phone",
                                               "max_text_css_px_at_desktop", "headline")}}
        return rendition, {"width": pixels.width, "height": pixels.height, **report}


SCHEMES = ("light", "dark")
# The CSS widths a drawing is shown at (narrowest, widest), as the theme shows it: a body figure
# from a 360 px phone to a 30rem column; a wide one from a 40rem screen (less the page's padding)
# to 55rem. The text checks use both ends; tests/test_browser.py measures them in Chromium.
BODY_DISPLAY = (PHONE_DISPLAY_PX, DESKTOP_DISPLAY_PX)
WIDE_DISPLAY = (WIDE_MIN_DISPLAY_PX, WIDE_DISPLAY_PX)


def _write_raster(image: Any, target: Path) -> Path:
    """A PIL image as JPEG (quality 92, no chroma subsampling) or PNG, atomically."""
    jpeg = target.suffix.lower() in (".jpg", ".jpeg")
    image = image.convert("RGB") if jpeg else image
    with store.atomic_target(target) as tmp:
        if jpeg:
            # 4:4:4 (no chroma subsampling) keeps thin coloured lines and text crisp.
            image.save(tmp, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=True)
        else:
            image.save(tmp, format=image.format or "PNG", optimize=True)
    return target


def _write_bytes(data: bytes, target: Path) -> Path:
    store.atomic_write(target, data)
    return target


def _checked_pixels(fig, label: str, display: tuple[float, float]):
    """Draw the figure once, run the checks, and return its pixels and what was measured."""
    import numpy as np
    from PIL import Image

    from builder.figure_checks import check_figure

    report = check_figure(fig, display)
    problems = report.pop("problems")
    if problems:
        raise FigureCheckError(f"{label}: {len(problems)} layout problem(s):\n  - " +
                               "\n  - ".join(problems))
    pixels = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    return Image.fromarray(pixels), report


def make_deterministic() -> None:
    """Same pixels on every run of one device: deterministic kernels or an error, no cuDNN
    autotuning (its choice varies run to run)."""
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    if "torch._inductor" in sys.modules or not hasattr(torch._C, "_set_deterministic_algorithms"):
        torch.use_deterministic_algorithms(True)
    else:
        # What the public call does for eager ops, without its import of the compiler (~3 s of
        # start-up, for a compiler no figure uses).
        torch._C._set_deterministic_algorithms(True, warn_only=False)
    if not torch.are_deterministic_algorithms_enabled():
        raise RuntimeError("torch did not turn on deterministic algorithms")
    deterministic = getattr(torch.utils, "deterministic", None)
    if deterministic is not None:  # NaN-filling every new tensor only finds reads of garbage, at a cost
        deterministic.fill_uninitialized_memory = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


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


def imported_libraries(script: Path) -> set[str]:
    """The top-level names of every module the script imports, anywhere in it (inside make()
    too), and through the local helpers beside it, followed transitively."""
    found: set[str] = set()
    pending, seen = [script], {script}
    while pending:
        for name in {name.split(".")[0] for name in store.imported_modules(pending.pop())}:
            found.add(name)
            helper = script.parent / f"{name}.py"
            if helper.is_file() and helper not in seen:
                seen.add(helper)
                pending.append(helper)
    return found


def run_script(script: Path, out_dir: Path, quick: bool = False, device: str | None = None,
               seed: int | None = None) -> FigureContext:
    """Run one script in this process; return its context (metrics, images, texts)."""
    imported = imported_libraries(script)
    uses_torch = bool(imported & set(TORCH)) or "torch" in sys.modules
    module = load_script(script)
    if uses_torch:
        make_deterministic()
        _limit_threads()
    ctx = FigureContext(out_dir, list(module.OUTPUTS), seed if seed is not None else
                        getattr(module, "SEED", 0), quick, device, name=script.stem, uses_torch=uses_torch,
                        uses_numpy=uses_torch or bool(imported & set(NUMPY)))
    if ctx.used_cuda:
        import torch

        torch.cuda.reset_peak_memory_stats(ctx.device)
    metrics = module.make(ctx)
    ctx.metrics.update(metrics or {})
    missing = [p for p in ctx.outputs if not ctx.path_for(p).is_file()]
    if missing:
        raise RuntimeError(f"make(ctx) did not write {', '.join(missing)}")
    return ctx


def _peak_memory_mb(ctx: FigureContext) -> float:
    if ctx.used_cuda:
        import torch

        return torch.cuda.max_memory_allocated(ctx.device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the worker's peak so far


def _serve(jobs, channel) -> None:
    """Run each job (an iterable of dicts, read lazily) and report it on `channel` as it ends."""
    os.environ["MPLBACKEND"] = "Agg"  # no window, whenever matplotlib is first imported
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    for job in jobs:
        started, cpu_started = time.perf_counter(), time.process_time()
        try:
            ctx = run_script(Path(job["script"]), Path(job["out_dir"]), job["quick"], job["device"],
                             job["seed"])
        except ImportError as err:
            _send(channel, {"name": job["name"], "ok": False, "error": _import_error(err)})
            continue
        except BaseException:  # noqa: BLE001 (report any failure, go on with the others)
            _send(channel, {"name": job["name"], "ok": False, "error": traceback.format_exc()})
            continue
        _send(channel, {
            "name": job["name"], "ok": True, "out_dir": job["out_dir"], "quick": job["quick"],
            "device": ctx.device_name, "seconds": time.perf_counter() - started,
            "cpu_seconds": time.process_time() - cpu_started, "peak_memory_mb": _peak_memory_mb(ctx),
            "metrics": _plain(ctx.metrics),
            "images": _plain(ctx.images), "notes": ctx.notes})


def _limit_threads() -> None:
    """Several workers share the machine's cores: each takes its part."""
    if os.environ.get("BLOG_FIGURE_THREADS"):
        import torch

        torch.set_num_threads(int(os.environ["BLOG_FIGURE_THREADS"]))


def _import_error(err: ImportError) -> str:
    if (err.name or "").split(".")[0] in FIGURE_LIBRARIES:
        return (f"{err}: the figure libraries are not installed; run `make site`, or "
                "pip install -e '.[figures]'")
    return traceback.format_exc()


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
    """One job per line on stdin, as the parent hands them out; one answer line per job."""
    channel = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # script prints go to stderr
    _serve((json.loads(line) for line in sys.stdin if line.strip()), channel)
    channel.close()


def main(script_file: str) -> None:
    """`python figures/NAME.py --out DIR [--quick] [--device cpu]`: draw one figure alone."""
    parser = argparse.ArgumentParser(description=f"Draw {Path(script_file).name}'s figure.")
    parser.add_argument("--out", type=Path, default=Path("figure-out"), help="output folder")
    parser.add_argument("--quick", action="store_true", help="small settings, for tests")
    parser.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best)")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    started = time.perf_counter()
    ctx = run_script(Path(script_file).resolve(), args.out, args.quick, args.device)
    for path in ctx.outputs:
        print(ctx.path_for(path))
    print(json.dumps({"device": ctx.device_name, "seconds": round(time.perf_counter() - started, 2),
                      "metrics": _plain(ctx.metrics)}, ensure_ascii=False))


if __name__ == "__main__":
    serve_stdin()
