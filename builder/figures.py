"""Figure scripts: discovery, cache keys, running the stale ones, and the manifest.

Each script in `figures/` declares, as literals the builder reads without importing it,
`OUTPUTS = {"/images/post2/4.jpg": "alt text", ...}` and optionally `SEED = 0`. It defines
`make(ctx)`, which draws and saves every declared output and may return metrics.

Nothing here imports torch or matplotlib: stale scripts run in one worker process
(`builder.figure_worker`), so a build where nothing changed stays fast.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from builder import store
from builder.config import Config
from builder.errors import BuildError
from builder.model import Figure, FigureRecord, FigureSet, FigureSettings, Verification

log = logging.getLogger(__name__)

LIBRARIES = ("torch", "torchvision", "matplotlib", "pillow", "numpy", "scikit-learn",
             "scikit-image")
MANIFEST_VERSION = 2
SCANS_VERSION = 1
DECLARATIONS = ("OUTPUTS", "SEED", "BARS", "QUICK_BARS", "REPRODUCIBLE")  # literals read without importing


class Progress(Protocol):
    """What the command line shows while figures run."""

    def start(self, names: list[str]) -> None: ...
    def done(self, name: str, result: dict[str, Any]) -> None: ...


def settings_of(config: Config) -> FigureSettings:
    return FigureSettings(config.figures_dir, config.cache_dir, config.quick, config.device)


def discover(figures_dir: Path, quick: bool = False, cache_dir: Path | None = None) -> list[Figure]:
    """Every `figures/*.py` not starting with `_`, with its cache key. With `cache_dir`, what
    parsing each file found is remembered there by the file's content (`Scans`)."""
    if not figures_dir.is_dir():
        return []
    versions = library_versions()
    scans = Scans(cache_dir)
    found = []
    for script in sorted(figures_dir.glob("*.py")):
        if script.name.startswith("_"):
            continue
        figure = _declare(script, scans)
        found.append(_with_key(figure, versions, quick, scans.worker_version()))
    _check_unique_outputs(found)
    scans.save()
    return found


class Scans:
    """What parsing each Python file of `figures/` found, by the sha256 of its bytes: the
    modules it imports and, for a script, its declared literals and whether it defines `make`;
    and the figure worker's code version (`store.code_version_of`, which parses the builder
    modules the worker imports). Parsing is most of what keying the figures costs, and it is
    done again only for a file whose bytes changed. The record, `.cache/figures/scans.json`
    beside the manifest, belongs to one code version of the builder (a new builder, or new
    library versions, read every file again); a damaged or foreign record counts as empty.
    Without a cache folder nothing is remembered."""

    def __init__(self, cache_dir: Path | None):
        self.path = cache_dir / "figures" / "scans.json" if cache_dir is not None else None
        self.code = store.code_version() if cache_dir is not None else ""
        self.files: dict[str, dict[str, Any]] = {}  # sha256 -> what parsing that file found
        self.worker = ""
        self._load()
        self.used: dict[str, dict[str, Any]] = {}  # what this discovery read, the next record
        self.changed = False

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            data = store.read_record(self.path, SCANS_VERSION)
        except store.UnreadableRecord:
            return
        if not data or data.get("code") != self.code:
            return
        files, worker = data.get("files"), data.get("worker")
        if isinstance(files, dict):
            self.files = {digest: facts for digest, facts in files.items() if _valid_facts(facts)}
        self.worker = worker if isinstance(worker, str) else ""

    def _known(self, path: Path) -> tuple[str, dict[str, Any] | None]:
        """The sha256 of the file's bytes, and what parsing it found if that is remembered."""
        digest = store.sha256_bytes(path.read_bytes())
        return digest, self.used.get(digest) or self.files.get(digest)

    def _use(self, digest: str, entry: dict[str, Any]) -> dict[str, Any]:
        self.used[digest] = entry
        return entry

    def _learned(self, path: Path, digest: str, entry: dict[str, Any]) -> dict[str, Any]:
        """What parsing `path` found, remembered under `digest` only if the file still holds
        those bytes (parsing read it again: an edit in between must not be filed under the
        old content)."""
        if store.sha256_bytes(path.read_bytes()) != digest:
            return entry
        self.changed = True
        return self._use(digest, entry)

    def imports(self, path: Path) -> list[str]:
        """The dotted names `path` imports (`store.imported_modules`)."""
        digest, entry = self._known(path)
        if entry is None:
            return self._learned(path, digest, {"imports": sorted(store.imported_modules(path))})["imports"]
        return self._use(digest, entry)["imports"]

    def script(self, script: Path) -> tuple[dict[str, Any], bool]:
        """The script's declared literals and whether it defines `make`; a script that does not
        parse, or declares something that is not a literal, is a BuildError (never remembered)."""
        digest, entry = self._known(script)
        if entry is not None and "values" in entry:
            self._use(digest, entry)
            return entry["values"], entry["make"]
        values, has_make = _parse_script(script)
        entry = entry or {"imports": sorted(store.imported_modules(script))}
        if _survives_json(values):  # else parsed again next time, never misread
            self._learned(script, digest, {**entry, "values": values, "make": has_make})
        else:
            self._learned(script, digest, entry)
        return values, has_make

    def worker_version(self) -> str:
        if not self.worker:
            self.worker = store.code_version_of("figure_worker")
            self.changed = True
        return self.worker

    def save(self) -> None:
        """Write the record when something was parsed anew or is no longer used."""
        if self.path is None or not (self.changed or self.used.keys() != self.files.keys()):
            return
        try:
            store.write_record(self.path, SCANS_VERSION,
                               {"code": self.code, "worker": self.worker, "files": self.used}, durable=False)
        except OSError as err:  # only a cache: the next build parses again
            log.debug("%s: not written (%s)", self.path, err)


def _valid_facts(facts: Any) -> bool:
    if not isinstance(facts, dict) or not isinstance(facts.get("imports"), list):
        return False
    if not all(isinstance(name, str) for name in facts["imports"]):
        return False
    if "values" in facts and not (isinstance(facts["values"], dict) and isinstance(facts.get("make"), bool)):
        return False
    return True


def _survives_json(value: Any) -> bool:
    """Whether `value` reads back from JSON as itself (a tuple, a set or a number key would not)."""
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def library_versions() -> dict[str, str]:
    """The figure libraries' installed versions (recorded in the manifest)."""
    return store.library_versions(LIBRARIES)


def _declare(script: Path, scans: Scans | None = None) -> Figure:
    scans = scans if scans is not None else Scans(None)
    values, has_make = scans.script(script)
    outputs = values.get("OUTPUTS")
    if not isinstance(outputs, dict) or not outputs or not all(
            isinstance(k, str) and k.startswith("/") and isinstance(v, str) for k, v in outputs.items()):
        raise BuildError('figure script must declare OUTPUTS = {"/site/path.jpg": "alt text", ...}',
                         script)
    if not has_make:
        raise BuildError("figure script must define make(ctx)", script)
    seed = values.get("SEED", 0)
    if not isinstance(seed, int):
        raise BuildError("SEED must be an integer", script)
    for name in ("BARS", "QUICK_BARS"):
        bars = values.get(name, {})
        if not isinstance(bars, dict) or not all(isinstance(v, (int, float)) for v in bars.values()):
            raise BuildError(f'{name} must map metric names to minimum values, e.g. {{"accuracy": 0.97}}',
                             script)
    return Figure(name=script.stem, script=script, outputs=outputs, seed=seed,
                  helpers=tuple(sorted(_local_imports(script, script.parent, {script}, scans))),
                  bars=values.get("BARS", {}), quick_bars=values.get("QUICK_BARS", {}),
                  reproducible=values.get("REPRODUCIBLE", True) is not False)


def _parse_script(script: Path) -> tuple[dict[str, Any], bool]:
    """The script's declared literals, and whether it defines `make`."""
    text = script.read_text(encoding="utf-8")
    try:
        tree = ast.parse(text, filename=str(script))
    except SyntaxError as err:
        raise BuildError(f"figure script does not parse: {err.msg}", script, err.lineno) from None
    values = _literal_assignments(tree, script)
    return values, any(isinstance(n, ast.FunctionDef) and n.name == "make" for n in tree.body)


def _literal_assignments(tree: ast.Module, script: Path) -> dict[str, Any]:
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                isinstance(node.targets[0], ast.Name) and node.targets[0].id in DECLARATIONS:
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise BuildError(f"{node.targets[0].id} must be a literal", script, node.lineno) from None
    return values


def _local_imports(script: Path, folder: Path, seen: set[Path], scans: Scans) -> set[Path]:
    """Modules of `folder` imported by `script`, followed transitively (each file parsed at
    most once per discovery, and only when its bytes changed since `scans` last saw it)."""
    found: set[Path] = set()
    for name in sorted({name.split(".")[0] for name in scans.imports(script)}):
        path = folder / f"{name}.py"
        if path.is_file() and path not in seen:
            seen.add(path)
            found.add(path)
            found |= _local_imports(path, folder, seen, scans)
    return found


def _with_key(figure: Figure, versions: dict[str, str], quick: bool, worker: str = "") -> Figure:
    """sha256 of the script, its local helpers, its settings, the library versions and the code
    version of the worker that runs, checks and writes it (with every builder module it imports;
    `worker`, when the caller already knows it).

    The device is deliberately not part of it: a figure made on a GPU is reused on a CPU.
    """
    digest = hashlib.sha256()
    for path in (figure.script, *figure.helpers):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    settings = {"seed": figure.seed, "quick": quick, "outputs": figure.outputs,
                "versions": versions, "manifest": MANIFEST_VERSION,
                "code": worker or store.code_version_of("figure_worker")}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return Figure(**{**figure.__dict__, "key": digest.hexdigest()})


def _check_unique_outputs(figures: list[Figure]) -> None:
    owner: dict[str, str] = {}
    for figure in figures:
        for path in figure.outputs:
            other = owner.setdefault(path, figure.name)
            if other != figure.name:
                raise BuildError(f"output {path} is also declared by {other}.py", figure.script)


# --- cache and manifest -----------------------------------------------------------------


def _manifest_path(cache_dir: Path) -> Path:
    return cache_dir / "figures" / "manifest.json"


_KEY_FOLDER = re.compile(r"[0-9a-f]{20}")


def _object_dir(cache_dir: Path, figure: Figure) -> Path:
    return cache_dir / "figures" / figure.name / figure.key[:20]


def load_manifest(cache_dir: Path) -> dict[str, FigureRecord]:
    """Manifest records by figure name; a corrupt manifest counts as empty (all stale), as
    does one an older version wrote."""
    path = _manifest_path(cache_dir)
    try:
        data = store.read_record(path, MANIFEST_VERSION)
        return {entry["name"]: FigureRecord.from_json(entry) for entry in data["figures"]} if data else {}
    except (ValueError, KeyError, TypeError) as err:
        log.warning("%s: unreadable figure manifest (%s); every figure will be made again", path, err)
        return {}


def _save_manifest(cache_dir: Path, records: dict[str, FigureRecord]) -> None:
    store.write_record(_manifest_path(cache_dir), MANIFEST_VERSION,
                       {"figures": [records[name].to_json() for name in sorted(records)]}, indent=2)


def manifest_json(figure_set: FigureSet) -> str:
    """What `_site/figures.json` publishes: the manifest records of the site's figures."""
    return json.dumps({"figures": [record.to_json() for record in figure_set.published()]},
                      ensure_ascii=False, indent=2) + "\n"


def is_fresh(figure: Figure, record: FigureRecord | None, cache_dir: Path) -> bool:
    if record is None or record.key != figure.key:
        return False
    folder = _object_dir(cache_dir, figure)
    for path in figure.outputs:
        file = folder / path.lstrip("/")
        if not file.is_file() or record.sha256.get(path) != _sha256(file):
            return False
        # A drawn figure's other renditions (dark palette, SVG, wide layout) must be intact too.
        for rendition in record.images.get(path, {}).get("renditions", []):
            for rel, digest in rendition.get("sha256", {}).items():
                file = folder / rel.lstrip("/")
                if not file.is_file() or _sha256(file) != digest:
                    return False
    return True


def _sha256(path: Path) -> str:
    return store.sha256_file(path)


# --- running ----------------------------------------------------------------------------


def ensure(settings: FigureSettings, names: list[str] | None = None, force: bool = False,
           progress: Progress | None = None) -> FigureSet:
    """Run the stale (or forced) figures, update the manifest, return what the site gets.

    A failing script does not stop the others; the failures are raised together at the end.
    """
    started = time.perf_counter()
    figures = discover(settings.figures_dir, settings.quick, settings.cache_dir)
    if names:
        unknown = sorted(set(names) - {f.name for f in figures})
        if unknown:
            raise BuildError(f"no figure script named {', '.join(unknown)} in {settings.figures_dir}")
    manifest = load_manifest(settings.cache_dir)
    chosen = [f for f in figures if not names or f.name in names]
    stale = [f for f in chosen if force or not is_fresh(f, manifest.get(f.name), settings.cache_dir)]
    failures: list[tuple[Figure, str]] = []
    device = ""
    if stale:
        _clean_partial_runs(settings.cache_dir)
        if progress:
            progress.start([f.name for f in stale])
        for figure, result in _run_in_worker(stale, settings):
            if progress:
                progress.done(figure.name, result)
            device = result.get("device") or device
            if result.get("ok"):
                manifest[figure.name] = _commit(figure, result, settings.cache_dir)
                _save_manifest(settings.cache_dir, manifest)  # after each, so a kill keeps the rest
            else:
                failures.append((figure, result.get("error", "the worker stopped")))
    for figure in chosen:  # cached or just made: a figure whose numbers miss its bars is never silent
        record = manifest.get(figure.name)
        if record and record.key == figure.key:
            for problem in missed_bars(figure, record.metrics or {}, settings.quick):
                log.warning("%s: %s", figure.script, problem)
    figure_set = _figure_set(figures, manifest, settings.cache_dir, ran=len(stale) - len(failures),
                             cached=len(chosen) - len(stale), failed=len(failures),
                             seconds=time.perf_counter() - started, device=device)
    if failures:
        first, error = failures[0]
        names_failed = ", ".join(f.script.name for f, _ in failures)
        raise FigureError(f"figure script failed: {names_failed}\n{error.rstrip()}", first.script,
                          figure_set=figure_set)
    return figure_set


def missed_bars(figure: Figure, metrics: dict[str, Any], quick: bool) -> list[str]:
    """The script's declared bars that these metrics do not meet."""
    problems = []
    for name, minimum in figure.bars_for(quick).items():
        value = metrics.get(name)
        values = value if isinstance(value, list) else [value]
        if value is None or any(v is None or v < minimum for v in values):
            problems.append(f"metric {name} = {value} is below its bar {minimum}")
    return problems


VERIFY_TOLERANCE = 1.0  # mean |Δ| of 1/255 allows JPEG and float noise across machines, not a new picture


def verify(settings: FigureSettings, names: list[str] | None = None) -> list[Verification]:
    """Make the figures again in a temporary folder and compare with the cached outputs and bars."""
    import tempfile

    figures = [f for f in discover(settings.figures_dir, settings.quick) if not names or f.name in names]
    manifest = load_manifest(settings.cache_dir)
    report = []
    with tempfile.TemporaryDirectory(prefix="verify-") as tmp:
        scratch = FigureSettings(settings.figures_dir, Path(tmp), settings.quick, settings.device)
        results = dict((f.name, r) for f, r in _run_in_worker(figures, scratch))
        for figure in figures:
            report.append(_compare(figure, results.get(figure.name, {}), settings,
                                   is_fresh(figure, manifest.get(figure.name), settings.cache_dir)))
    return report


def _compare(figure: Figure, result: dict[str, Any], settings: FigureSettings, fresh: bool) -> Verification:
    import numpy as np
    from PIL import Image

    if not result.get("ok"):
        error = (result.get("error") or "did not run").strip().splitlines()[-1]
        return Verification(figure.name, None, None, (f"the script failed: {error}",), figure.reproducible)
    problems = missed_bars(figure, result.get("metrics") or {}, settings.quick)
    if not fresh:
        return Verification(figure.name, None, None, (*problems, "no cached output to compare with"),
                            figure.reproducible)
    means, maxima = [], []
    drawn = [r["raster"] for path in figure.outputs  # a drawn figure's dark and wide renditions too
             for r in (result.get("images") or {}).get(path, {}).get("renditions", []) if r["raster"] != path]
    for path in [*figure.outputs, *drawn]:
        new = np.asarray(Image.open(Path(result["out_dir"]) / path.lstrip("/")).convert("RGB"), dtype=float)
        old_file = _object_dir(settings.cache_dir, figure) / path.lstrip("/")
        if not old_file.is_file():
            problems.append(f"{path}: no cached file to compare with")
            continue
        old = np.asarray(Image.open(old_file).convert("RGB"), dtype=float)
        if new.shape != old.shape:
            problems.append(f"{path}: size {new.shape[1]}×{new.shape[0]} differs from the cached "
                            f"{old.shape[1]}×{old.shape[0]}")
            continue
        means.append(float(np.abs(new - old).mean()))
        maxima.append(float(np.abs(new - old).max()))
    mean = max(means) if means else None
    if figure.reproducible and mean is not None and mean > VERIFY_TOLERANCE:
        problems.append(f"outputs differ from the cached ones (mean |Δ| {mean:.2f} > {VERIFY_TOLERANCE})")
    biggest = max(maxima) if maxima else None
    return Verification(figure.name, mean, biggest, tuple(problems), figure.reproducible)


class FigureError(BuildError):
    def __init__(self, message: str, path: Path, figure_set: FigureSet):
        super().__init__(message, path)
        self.figure_set = figure_set


def _figure_set(figures: list[Figure], manifest: dict[str, FigureRecord], cache_dir: Path,
                **counts: Any) -> FigureSet:
    files, records = {}, {}
    for figure in figures:
        record = manifest.get(figure.name)
        if record is None or record.key != figure.key:
            continue
        folder = _object_dir(cache_dir, figure)
        for path in figure.outputs:
            if (folder / path.lstrip("/")).is_file():
                files[path] = folder / path.lstrip("/")
                records[path] = record
    return FigureSet(files=files, records=records, figures=tuple(figures), **counts)


def _clean_partial_runs(cache_dir: Path) -> None:
    """Folders a killed run left behind: never in the manifest, safe to remove."""
    import shutil  # (shutil and subprocess are imported only when a figure runs)

    root = cache_dir / "figures"
    for tmp in sorted(root.glob("*/.tmp-*")):
        shutil.rmtree(tmp, ignore_errors=True)


def _commit(figure: Figure, result: dict[str, Any], cache_dir: Path) -> FigureRecord:
    """Move a finished run's folder into place and describe it for the manifest."""
    import shutil

    final = _object_dir(cache_dir, figure)
    if final.exists():
        shutil.rmtree(final)
    os.replace(result["out_dir"], final)
    for old in final.parent.iterdir():  # keep only the current version of each figure
        if old != final and _KEY_FOLDER.fullmatch(old.name):  # only the folders we name: a key prefix
            shutil.rmtree(old, ignore_errors=True)
    return FigureRecord(
        name=figure.name,
        script=f"figures/{figure.script.name}",
        key=figure.key,
        outputs=list(figure.outputs),
        device=result["device"],
        seconds=round(result["seconds"], 3),
        cpu_seconds=round(result.get("cpu_seconds", 0.0), 3),
        peak_memory_mb=round(result["peak_memory_mb"], 1),
        seed=figure.seed,
        quick=result["quick"],
        versions=library_versions(),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        metrics=result.get("metrics") or {},
        images=result.get("images") or {},
        notes=result.get("notes") or [],
        sha256={p: _sha256(final / p.lstrip("/")) for p in figure.outputs},
    )


def worker_count(cpus: int | None = None) -> int:
    """How many worker processes this machine runs figures in: one on a small machine (each
    worker imports torch, and two would fight over two cores); on a big one a few, so that the
    figures that only draw (matplotlib is single-threaded) run beside those that train. A
    function of the machine alone, never of how many figures are stale, so each worker's
    thread count, and with it every CPU result, is the same on every run."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    return 1 if cpus < 8 else min(4, cpus // 4)


def _longest_first(stale: list[Figure], cache_dir: Path) -> list[Figure]:
    """The figures that took longest last time go first, so no worker is left with a long one
    at the end; figures never made yet go first of all."""
    seconds = {name: record.seconds for name, record in load_manifest(cache_dir).items()}
    return sorted(stale, key=lambda f: -seconds.get(f.name, float("inf")))


def _run_in_worker(stale: list[Figure], settings: FigureSettings):
    """Yield (figure, result) as the worker processes finish each script.

    Each worker reads one job per line on stdin and answers one line per job on stdout; a
    worker is given its next job when it reports the last one, so work spreads by itself.
    """
    import queue
    import subprocess
    import threading

    jobs = []
    for figure in _longest_first(stale, settings.cache_dir):
        out_dir = settings.cache_dir / "figures" / figure.name / f".tmp-{os.getpid()}-{time.time_ns()}"
        jobs.append({"name": figure.name, "script": str(figure.script.resolve()),
                     "outputs": list(figure.outputs), "seed": figure.seed, "quick": settings.quick,
                     "out_dir": str(out_dir.resolve()), "device": settings.device})
    by_name = {f.name: f for f in stale}
    workers = worker_count()
    threads = max(1, (os.cpu_count() or 1) // workers)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # waiting threads sleep: no spinning on a busy machine
    env.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS; read when CUDA starts
    if workers > 1:
        env["BLOG_FIGURE_THREADS"] = str(threads)
    results: queue.Queue = queue.Queue()
    processes = []
    for index in range(min(workers, len(jobs))):
        try:
            process = subprocess.Popen([sys.executable, "-m", "builder.figure_worker"], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=None, text=True, env=env)
        except OSError as err:
            raise BuildError(f"could not start the figure worker ({sys.executable}): "
                             f"{err.strerror or err}") from err
        processes.append(process)
        threading.Thread(target=_read_results, args=(index, process, results), daemon=True).start()
    pending = list(jobs)
    running: dict[int, str] = {}

    def give(index: int) -> None:
        process = processes[index]
        assert process.stdin
        if pending:
            job = pending.pop(0)
            running[index] = job["name"]
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.flush()
        else:
            running.pop(index, None)
            process.stdin.close()

    for index in range(len(processes)):
        give(index)
    while running:
        index, result = results.get()
        process = processes[index]
        if result is None:  # the worker exited: what it was running will never report
            name = running.pop(index, None)
            if name:
                code = process.wait()
                yield by_name[name], {"ok": False, "error": f"the figure worker exited with code {code} "
                                                            f"before {by_name[name].script.name} finished"}
            continue
        if result.get("name") == running.get(index):
            yield by_name[result["name"]], result
            give(index)
    for process in processes:
        process.wait()
    for job in pending:  # every worker died early
        yield by_name[job["name"]], {"ok": False, "error": "no figure worker was left to run it"}


def _read_results(index: int, process, results) -> None:
    """Forward a worker's answer lines to the queue, then None when it exits."""
    assert process.stdout
    for line in process.stdout:
        try:
            results.put((index, json.loads(line)))
        except ValueError:
            continue
    results.put((index, None))
