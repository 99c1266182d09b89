"""`blog serve`: build in-process into a temporary folder, serve it, rebuild on change, and
reload every open page.

Each successful build goes into a fresh folder and the server switches to it in one step, so
no request ever sees a half-built site. A failed rebuild keeps the last good site and shows
the error over every page until the file is fixed. The reload script is added to HTML as it is
served; nothing injected is ever written to disk.
"""

from __future__ import annotations

import dataclasses
import errno
import functools
import json
import logging
import mimetypes
import re
import shutil
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from builder.build import BuildResult, build
from builder.config import load_config, project_folder
from builder.errors import BuildError
from builder.preview import Preview
from builder.render import RenderMemory

log = logging.getLogger(__name__)

LIVERELOAD_PATH = "/__livereload"
POLL_SECONDS = 25
DEBOUNCE_MS = 150
STEP_MS = 30  # a save is taken as done when nothing else changed for this long
IGNORED_PARTS = {".cache", "__pycache__", ".git", "_site", ".venv"}
MIME_TYPES = {  # what mimetypes does not know everywhere
    ".xml": "application/xml", ".json": "application/json", ".webp": "image/webp",
    ".avif": "image/avif", ".svg": "image/svg+xml", ".js": "text/javascript", ".css": "text/css",
    ".woff2": "font/woff2", ".ico": "image/x-icon", ".py": "text/plain",
}
TEXT_TYPES = ("text/", "application/xml", "application/json", "image/svg+xml")
RELOAD_SCRIPT = """<script>(function () {
  var version = %d;
  function poll() {
    fetch("%s?v=" + version, {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (state) { if (state.version !== version) { location.reload(); } else { poll(); } })
      .catch(function () { setTimeout(poll, 1000); });
  }
  poll();
})();</script>"""
# What a browser does all the time (a closed tab, a reload mid-response): not an error.
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class LiveSite:
    """The last good build, a version that changes on every rebuild, and the last error."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.files = threading.Lock()  # held while files are read, and while a rebuild renames them
        self.root: Path | None = None
        self.version = 0
        self.error: str | None = None
        self.result: BuildResult | None = None

    def publish(self, root: Path, result: BuildResult) -> None:
        with self.changed:
            self.root, self.result, self.error = root, result, None
            self.version += 1
            self.changed.notify_all()

    def fail(self, message: str) -> None:
        with self.changed:
            self.error = message
            self.version += 1
            self.changed.notify_all()

    def wait(self, seen: int, timeout: float) -> tuple[int, str | None]:
        """Block until the version differs from `seen` (or the timeout passes)."""
        with self.changed:
            self.changed.wait_for(lambda: self.version != seen, timeout=timeout)
            return self.version, self.error


class DevServer:
    """Builds, serves and watches one site; `start()` returns once the first build is done."""

    def __init__(self, source: Path, host: str = "127.0.0.1", port: int = 4000,
                 overrides: dict[str, Any] | None = None, report: Callable[[str], None] = log.info,
                 progress=None):
        self.source = source
        self.overrides = overrides or {}
        self.report = report
        self.progress = progress
        self.live = LiveSite()
        self.workdir = Path(tempfile.mkdtemp(prefix="blog-serve-"))
        self.builds = 0
        self.stop_event = threading.Event()
        self.watching = threading.Event()
        self.baseurl = ""
        self.theme = _theme(None)  # the error overlay's templates, in the site's language once known
        try:
            self.httpd = _QuietServer((host, port), _handler_for(self))
        except OSError as err:
            shutil.rmtree(self.workdir, ignore_errors=True)
            if err.errno == errno.EADDRINUSE:
                raise BuildError(f"port {port} on {host} is already in use (another `blog serve`?); "
                                 f"choose another with --port") from None
            raise BuildError(f"cannot listen on {host}:{port}: {err.strerror}") from None
        self.threads: list[threading.Thread] = []
        self.timers: list[threading.Timer] = []
        self.memory = RenderMemory()  # documents and results, kept from build to build
        self.preview: Preview | None = None  # what the last whole build made, to update it in place
        # Where the last settings put the figures, and folders the builds themselves write into
        # (a -d folder or a cache_dir inside the source): their changes are no edits.
        self.figures_dir = project_folder(source) / "figures"
        self.written_folders: tuple[Path, ...] = ()

    @property
    def address(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.baseurl}/"

    def start(self) -> None:
        self.rebuild()
        # stop() waits for the serving loop to notice: a tenth of a second, not the default half.
        serve = functools.partial(self.httpd.serve_forever, poll_interval=0.1)
        for target in (serve, self._watch):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self.threads.append(thread)
        self.watching.wait(timeout=10)  # an edit made right after start() must not be missed

    def stop(self) -> None:
        """Stop serving and remove the temporary folder (also when the first build never ended)."""
        self.stop_event.set()
        if self.threads:  # shutdown() waits for serve_forever, which runs only once started
            self.httpd.shutdown()
        self.httpd.server_close()
        for timer in self.timers:
            timer.cancel()
        for thread in self.threads:
            thread.join(timeout=5)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def rebuild(self, changes: str = "", paths: list[Path] | None = None) -> None:
        """After a save of posts only (`paths`), update the served folder in place; otherwise
        build into a fresh folder. On success serve it, on failure keep the last good one."""
        if paths and self.preview is not None and self._update(paths, changes):
            return
        self.builds += 1
        # `-d` given: every build goes there, as `blog build -d` would write it (and keeps it).
        fixed = self.overrides.get("destination")
        destination = Path(fixed) if fixed else self.workdir / f"build-{self.builds}"
        try:
            config = load_config(self.source, **self.overrides)
            config = dataclasses.replace(config, destination=destination)
            self.figures_dir = config.figures_dir
            self.written_folders = (config.destination.resolve(), config.cache_dir.resolve())
            self.baseurl = config.baseurl
            self.theme = _theme(config)
            result = build(config, progress=self.progress, incremental=bool(fixed), memory=self.memory)
        except BuildError as err:
            self.preview = None  # what changed is not in it: the next save builds the whole site
            self.live.fail(str(err))
            self.report(f"error: {err}")
            return
        except Exception as err:  # noqa: BLE001 (a fault of the builder: the server carries on)
            self.preview = None
            message = f"the builder failed: {type(err).__name__}: {err}"
            self.live.fail(message)
            self.report(f"error: {message}")
            log.debug("%s", traceback.format_exc().rstrip())  # shown with -v
            return
        finally:
            if self.stop_event.is_set():  # stopped while this build ran: it wrote after the clean-up
                shutil.rmtree(self.workdir, ignore_errors=True)
        previous = self.live.root
        self.live.publish(destination, result)
        figures = result.figures
        ran = f", {figures.ran} figure(s) made" if figures.ran else ""
        self.report(f"{'rebuilt' if changes else 'built'} in {result.seconds:.2f} s{ran}{changes}")
        # A folder of the user's (`-d`) is written by whole builds only, which keep its record of
        # what is ours; the fast path is for the throwaway folder this server made itself.
        self.preview = Preview(config, result, self.memory) if not fixed else None
        if previous is not None and previous != destination:  # requests reading it finish first
            timer = threading.Timer(10, shutil.rmtree, args=(previous,), kwargs={"ignore_errors": True})
            timer.daemon = True
            timer.start()
            self.timers = [t for t in self.timers if t.is_alive()] + [timer]

    def _update(self, paths: list[Path], changes: str) -> bool:
        """The fast path (see builder.preview); False when the change needs a whole build."""
        try:
            result = self.preview.update(paths, self.live.files)
        except BuildError as err:
            self.live.fail(str(err))
            self.report(f"error: {err}")
            return True
        except Exception as err:  # noqa: BLE001 (a fault of the builder: the server carries on)
            self.preview = None  # what it holds may be half updated: the next save builds it whole
            message = f"the builder failed: {type(err).__name__}: {err}"
            self.live.fail(message)
            self.report(f"error: {message}")
            log.debug("%s", traceback.format_exc().rstrip())  # shown with -v
            return True
        if result is None:
            return False
        self.live.publish(self.live.root, result)
        self.report(f"rebuilt in {result.seconds:.2f} s, {result.written} file(s) written{changes}")
        return True

    def theme_error(self, error: str, has_build: bool) -> str:
        from builder import templates

        return templates.serve_error(self.theme, error, has_build)

    def theme_page(self) -> str:
        from builder import templates

        return templates.serve_no_build_page(self.theme)

    def _watch(self) -> None:
        import watchfiles

        figures = self.figures_dir  # inside a Jekyll site: watched with it
        paths = [p for p in (self.source, figures) if p.exists()
                 and (p == self.source or not p.resolve().is_relative_to(self.source.resolve()))]

        def relevant(change, path: str) -> bool:
            return _relevant(change, path) and not any(
                Path(path).resolve().is_relative_to(folder) for folder in self.written_folders)

        # yield_on_timeout: the first (empty) yield says the watches are in place.
        for changes in watchfiles.watch(*paths, stop_event=self.stop_event, debounce=DEBOUNCE_MS,
                                        step=STEP_MS, watch_filter=relevant, raise_interrupt=False,
                                        yield_on_timeout=True, rust_timeout=200):
            self.watching.set()
            if not changes:
                continue
            names = sorted({Path(path).name for _, path in changes})
            self.rebuild(f" ({', '.join(names[:3])}{'…' if len(names) > 3 else ''} changed)",
                         sorted({Path(path) for _, path in changes}))


def _theme(config):
    """The theme's templates for the overlay (the site's `_templates/` and language, when known)."""
    from builder import templates

    return templates.make_environment(config)


def _relevant(change, path: str) -> bool:
    parts = set(Path(path).parts)
    name = Path(path).name
    return not (parts & IGNORED_PARTS or name.startswith(".#") or name.endswith(("~", ".swp", ".tmp")))


class _QuietServer(ThreadingHTTPServer):
    """A client that goes away mid-response is one line under -v; any other failure of a
    request is one line (its traceback only under -v), never a raw traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        client = client_address[0] if isinstance(client_address, tuple) else client_address
        if isinstance(error, CLIENT_GONE):
            log.debug("%s went away before the answer was sent (%s)", client, type(error).__name__)
            return
        log.error("a request from %s failed: %s: %s", client, type(error).__name__, error)
        log.debug("%s", traceback.format_exc().rstrip())


def _handler_for(server: DevServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_SiteHandler):
        dev = server

    return Handler


class _SiteHandler(BaseHTTPRequestHandler):
    dev: DevServer
    server_version = "blog-serve"
    timeout = 30  # a silent client does not hold a thread forever

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the library's name)
        log.debug("%s %s", self.address_string(), format % args)

    def do_HEAD(self) -> None:  # noqa: N802 (the library's name)
        self._respond(head=True)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(head=False)

    def _respond(self, head: bool) -> None:
        url = urlsplit(self.path)
        if url.path == LIVERELOAD_PATH:
            return self._long_poll(url.query)
        live = self.dev.live
        root, baseurl = live.root, self.dev.baseurl
        if root is None:  # the first build failed: nothing to show but the error
            page = self.dev.theme_page().encode()
            return self._send(HTTPStatus.INTERNAL_SERVER_ERROR, page, "text/html", head,
                              overlay=True)
        path = url.path
        if baseurl and path in ("/", baseurl):
            return self._redirect(baseurl + "/")
        if baseurl:
            if not path.startswith(baseurl + "/"):
                return self._not_found(root, head)
            path = path[len(baseurl):]
        with live.files:  # a rebuild renames files into place only between two reads
            found = _find(root, path)
        if found is None:
            return self._send(HTTPStatus.FORBIDDEN, b"403 Forbidden\n", "text/plain", head)
        if isinstance(found, str):
            return self._redirect(baseurl + found)
        status, body, content_type, tag = found
        if tag and self.headers.get("If-None-Match") == tag:  # the browser's copy is this one
            return self._not_modified(tag)
        wanted = self.headers.get("Range")
        if status == HTTPStatus.OK and wanted and content_type != "text/html":
            return self._send_range(body, content_type, wanted, head)
        self._send(status, body, content_type, head, tag=tag)

    def _not_modified(self, tag: str) -> None:
        self.send_response(HTTPStatus.NOT_MODIFIED)
        self.send_header("ETag", tag)
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()

    def _send_range(self, body: bytes, content_type: str, wanted: str, head: bool) -> None:
        """One `bytes=a-b` range (what browsers ask for media); anything else gets the whole file."""
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted.strip())
        if not match or not any(match.groups()):
            return self._send(HTTPStatus.OK, body, content_type, head)
        first, last = match.groups()
        if first:
            start, end = int(first), min(int(last) if last else len(body) - 1, len(body) - 1)
        else:  # the last N bytes
            start, end = max(len(body) - int(last), 0), len(body) - 1
        if start >= len(body) or start > end:
            self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
            self.send_header("Content-Range", f"bytes */{len(body)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        part = body[start:end + 1]
        self.send_response(HTTPStatus.PARTIAL_CONTENT)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        self.send_header("Content-Length", str(len(part)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if not head:
            self.wfile.write(part)

    def _not_found(self, root: Path, head: bool) -> None:
        with self.dev.live.files:
            status, body, content_type, _ = _not_found_page(root)
        self._send(status, body, content_type, head)

    def _redirect(self, location: str) -> None:
        self.send_response(HTTPStatus.FOUND)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _long_poll(self, query: str) -> None:
        try:
            seen = int(parse_qs(query).get("v", ["-1"])[0])
        except ValueError:
            seen = -1
        version, error = self.dev.live.wait(seen, POLL_SECONDS)
        body = json.dumps({"version": version, "error": error}, ensure_ascii=False).encode()
        self._send(HTTPStatus.OK, body, "application/json", head=False)

    def _send(self, status: HTTPStatus, body: bytes, content_type: str, head: bool,
              overlay: bool = False, tag: str = "") -> None:
        if content_type == "text/html":
            body = self._decorate(body, overlay)
        if content_type.startswith(TEXT_TYPES):
            content_type += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if tag:  # kept, but asked about on every use: a reload gets "not modified", not the bytes
            self.send_header("Cache-Control", "no-cache")
            self.send_header("ETag", tag)
        else:
            self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _decorate(self, body: bytes, force_overlay: bool) -> bytes:
        """The reload script, and the error overlay while the last rebuild failed."""
        live = self.dev.live
        extra = RELOAD_SCRIPT % (live.version, LIVERELOAD_PATH)
        if live.error or force_overlay:
            extra = self.dev.theme_error(live.error or "", has_build=live.root is not None) + extra
        text = body.decode("utf-8", errors="replace")
        index = text.lower().rfind("</body>")
        text = text[:index] + extra + text[index:] if index >= 0 else text + extra
        return text.encode("utf-8")


def _find(root: Path, path: str) -> tuple[HTTPStatus, bytes, str, str] | str | None:
    """(status, body, type, ETag) for `path` (no ETag for pages, which get the reload script,
    nor for a missing file); a path to redirect to; None when it is forbidden."""
    target = _safe_target(root, path)
    if target is None:
        return None
    if target.is_dir():
        if not path.endswith("/"):
            return path + "/"
        target = target / "index.html"
    if not target.is_file() and target.with_name(target.name + ".html").is_file():
        target = target.with_name(target.name + ".html")  # /x serves x.html, as on GitHub Pages
    if not target.is_file():
        return _not_found_page(root)
    content_type = _content_type(target)
    stat = target.stat()
    tag = "" if content_type == "text/html" else f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    return HTTPStatus.OK, target.read_bytes(), content_type, tag


def _not_found_page(root: Path) -> tuple[HTTPStatus, bytes, str, str]:
    page = root / "404.html"
    if page.is_file():
        return HTTPStatus.NOT_FOUND, page.read_bytes(), "text/html", ""
    return HTTPStatus.NOT_FOUND, b"404 Not Found\n", "text/plain", ""


def _safe_target(root: Path, path: str) -> Path | None:
    """The file a URL path names inside `root`, or None if it would leave it in any way."""
    decoded = unquote(path)
    if "\x00" in decoded or "\\" in decoded:
        return None
    parts = [p for p in decoded.split("/") if p]
    if any(p in ("..", ".") for p in parts):
        return None
    target = root.joinpath(*parts) if parts else root
    try:
        resolved = target.resolve()
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()):
        return None  # a symlink pointing outside the output
    return target


def _content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    return MIME_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
