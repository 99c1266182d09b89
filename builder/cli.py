"""The `blog` command: build, serve, figures, new, check, deploy.

This is the one error boundary: a `BuildError` from any stage becomes one line naming the file
and line, and exit status 1; any other failure (a fault of the builder itself) is one line too.
`-v` adds the traceback.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback
from pathlib import Path

import click

from builder import __version__
from builder.errors import NOTICE, BuildError


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = {NOTICE: "note: ", logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(
            record.levelno, "")
        return prefix + record.getMessage()


def _setup_logging(verbose: bool) -> None:
    context = click.get_current_context(silent=True)
    if context is not None:
        context.meta[_VERBOSE] = verbose  # for the error boundary
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    root = logging.getLogger("builder")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else NOTICE)
    root.propagate = False


_VERBOSE = "blog.verbose"


class _Blog(click.Group):
    """Every command runs inside this group's `invoke`: the one place errors become messages."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except BuildError as err:
            _fail(err, ctx.meta.get(_VERBOSE, False))
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as err:  # noqa: BLE001 (a fault of the builder: still one line)
            _fail(err, ctx.meta.get(_VERBOSE, False))


@click.group(cls=_Blog, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="blog")
def cli() -> None:
    """Build, preview and publish the blog."""


@cli.command()
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"),
              show_default=True, help="Folder holding _config.yml, _posts/ and the rest.")
@click.option("-d", "--destination", type=click.Path(path_type=Path), default=None,
              help="Output folder  [default: _site beside the source]")
@click.option("--baseurl", default=None, help="Serve the site under this path, e.g. /blog.")
@click.option("--drafts", is_flag=True, default=None, help="Include unpublished posts and _drafts/.")
@click.option("--future", is_flag=True, default=None, help="Include posts dated in the future.")
@click.option("--strict", is_flag=True, default=None, help="Treat warnings as errors (for CI).")
@click.option("--quick", is_flag=True, default=None,
              help="Make stale figures with small settings (tests, drafts).")
@click.option("--device", default=None, help="Run figures on cuda, mps or cpu  [default: the best]")
@click.option("--force", is_flag=True,
              help="Build into a folder holding files this tool did not write: keep_files stay, "
                   "the rest is moved to .cache/trash/.")
@click.option("-v", "--verbose", is_flag=True, help="Say more about what happens.")
def build(source: Path, destination: Path | None, baseurl: str | None, drafts: bool | None,
          future: bool | None, strict: bool | None, quick: bool | None, device: str | None,
          force: bool, verbose: bool) -> None:
    """Build the site from SOURCE into DESTINATION, making stale figures first."""
    from builder.build import build as run_build
    from builder.config import load_config

    _setup_logging(verbose)
    config = load_config(source, destination=destination, baseurl=baseurl, drafts=drafts,
                         future=future, strict=strict, quick=quick, device=device)
    result = run_build(config, progress=_FigureProgress(), force=force)
    if result.figures.figures:
        click.echo(_figure_summary(result.figures))
    written = f"{_count(result.written, 'file')} written" if result.written else "nothing changed"
    future_note = (f"{_count(result.future_skipped, 'future post')} skipped (use --future), "
                   if result.future_skipped else "")
    click.echo(
        f"built {config.destination}: {_count(result.posts, 'post')}, {_count(result.pages, 'page')}, "
        f"{_count(result.static, 'static file')}, {_count(len(result.warnings), 'warning')}, "
        f"{future_note}{written} in {result.seconds:.2f} s")
    if result.moved:
        click.echo(_moved_aside(result.moved, result.trash))


@cli.command()
@click.argument("names", nargs=-1)
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"),
              show_default=True, help="Site folder (figures/ and .cache/ live beside it).")
@click.option("--force", is_flag=True, help="Make the figures again even if cached.")
@click.option("--device", default=None, help="cuda, mps or cpu  [default: the best available]")
@click.option("--list", "list_only", is_flag=True, help="List the figures and their state; run nothing.")
@click.option("--quick", is_flag=True, default=None, help="Small settings (for tests).")
@click.option("--verify", is_flag=True,
              help="Make the figures again in a temporary folder; compare with the cache and the bars.")
@click.option("-v", "--verbose", is_flag=True, help="Say more about what happens.")
def figures(names: tuple[str, ...], source: Path, force: bool, device: str | None, list_only: bool,
            quick: bool | None, verify: bool, verbose: bool) -> None:
    """Make the figures (all, or the NAMES given) whose inputs changed."""
    from builder import figures as figure_module
    from builder.build import make_figures
    from builder.config import load_config
    from builder.destinations import check_cache

    _setup_logging(verbose)
    config = load_config(source, quick=quick, device=device)
    check_cache(config)
    if list_only:
        _list_figures(figure_module, config)
        return
    if verify:
        _verify_figures(figure_module, config, list(names) or None)
        return
    figure_set = make_figures(config, names=list(names) or None, force=force, progress=_FigureProgress())
    click.echo(_figure_summary(figure_set))


@cli.command()
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"),
              show_default=True, help="Site folder to build and watch.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 shows the site to your network).")
@click.option("--port", default=4000, show_default=True, type=int)
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option("--drafts", is_flag=True, default=None, help="Include unpublished posts and _drafts/.")
@click.option("--future", is_flag=True, default=None, help="Include posts dated in the future.")
@click.option("--quick", is_flag=True, default=None, help="Make stale figures with small settings.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def serve(source: Path, host: str, port: int, open_browser: bool, drafts: bool | None, future: bool | None,
          quick: bool | None, verbose: bool) -> None:
    """Preview the site: rebuild on every change and reload open pages."""
    from builder.serve import DevServer

    _setup_logging(verbose)
    if verbose:
        logging.getLogger("builder.serve").setLevel(logging.DEBUG)
    # A closed terminal (SIGHUP) or a service manager (SIGTERM) stops it as Ctrl-C does, so
    # the temporary folder is removed in every case.
    with _signals_interrupt(signal_names=("SIGTERM", "SIGHUP")):
        server = DevServer(source, host, port, {"drafts": drafts, "future": future, "quick": quick},
                           report=lambda line: click.echo(line, err=line.startswith("error")),
                           progress=_FigureProgress())
        try:
            server.start()
            click.echo(f"serving {server.address}  (Ctrl-C stops; the output lives in a temporary folder)")
            if open_browser:
                import webbrowser

                webbrowser.open(server.address)
            # Wake up now and then: a signal that reaches another thread (the file watcher's, say)
            # runs its Python handler only when the main thread runs, and a wait without a
            # timeout may never return to let it.
            while not server.stop_event.wait(0.25):
                pass
        except KeyboardInterrupt:
            click.echo("stopping")
        finally:
            server.stop()


@cli.command()
@click.argument("title")
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"), show_default=True)
@click.option("--date", "day", default=None, help="YYYY-MM-DD  [default: today]")
def new(title: str, source: Path, day: str | None) -> None:
    """Start a new post called TITLE in _posts/."""
    from datetime import date

    from builder.content import new_post

    try:
        when = date.fromisoformat(day) if day else date.today()
    except ValueError:
        raise BuildError(f"--date must look like 2026-11-29, not {day!r}") from None
    click.echo(new_post(source, title, when, _language_of(source)))


@cli.command()
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"), show_default=True)
@click.option("--quick", is_flag=True, default=None, help="Make stale figures with small settings.")
def check(source: Path, quick: bool | None) -> None:
    """Build into a temporary folder, then check every internal link, anchor and image."""
    import dataclasses
    import tempfile

    from builder.build import build as run_build
    from builder.check import check_site
    from builder.config import load_config

    _setup_logging(False)
    with tempfile.TemporaryDirectory(prefix="blog-check-") as tmp:
        config = dataclasses.replace(load_config(source, quick=quick), destination=Path(tmp) / "site")
        result = run_build(config, progress=_FigureProgress(), incremental=False)
        problems = check_site(result.site, config.destination)
    errors = [p for p in problems if not p.warning]
    for problem in problems:
        click.echo(f"{'warning' if problem.warning else 'error'}: {problem}", err=True)
    click.echo(f"checked {result.posts + result.pages} pages: {len(errors)} broken, "
               f"{len(problems) - len(errors)} warning(s)")
    if errors:
        sys.exit(1)


@cli.command()
@click.option("-s", "--source", type=click.Path(path_type=Path), default=Path("site_src"), show_default=True)
@click.option("--remote", default="origin", show_default=True)
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("-m", "--message", default=None, help="Commit message  [default: the source commit]")
@click.option("--force", is_flag=True,
              help="Publish over a branch holding files this tool did not write: keep_files are "
                   "carried over, the rest stays only in the branch's history.")
def deploy(source: Path, remote: str, branch: str, message: str | None, force: bool) -> None:
    """Build strictly and publish the site to a branch for GitHub Pages."""
    from builder.deploy import deploy as run_deploy

    _setup_logging(False)
    done = run_deploy(source, remote, branch, message, progress=_FigureProgress(), force=force)
    if done.carried:
        click.echo(f"kept {_count(len(done.carried), 'file')} of {done.remote}/{done.branch} that match "
                   f"keep_files: {_names(done.carried)}")
    if done.left_out:
        click.echo(f"left out {_count(len(done.left_out), 'file')} of {done.remote}/{done.branch} this "
                   f"tool did not write; they stay in its history (commit {done.previous}): "
                   f"{_names(done.left_out)}")
    click.echo(f"published {done.commit} to {done.remote}/{done.branch}: {done.url}")


def _language_of(source: Path) -> str:
    """The site's `lang:` (for the example text of a new post); the default when unreadable."""
    from builder.config import Config, load_config

    try:
        return load_config(source).lang
    except BuildError:
        return Config.lang


def _list_figures(figure_module, config) -> None:
    found = figure_module.discover(config.figures_dir, config.quick)
    manifest = figure_module.load_manifest(config.cache_dir)
    for figure in found:
        record = manifest.get(figure.name)
        fresh = figure_module.is_fresh(figure, record, config.cache_dir)
        made = f"{record.seconds:.1f} s on {record.device}" if fresh else ""
        click.echo(f"{figure.name:<16} {'cached' if fresh else 'stale ':<7} "
                   f"{', '.join(figure.outputs)}  {made}".rstrip())


def _verify_figures(figure_module, config, names: list[str] | None) -> None:
    settings = figure_module.settings_of(config)
    report = figure_module.verify(settings, names)
    for item in report:
        if item.mean_difference is None:
            same = "not compared"
        else:
            same = f"mean |Δ| {item.mean_difference:.2f}, max {item.max_difference:.0f} (0-255)"
            if not item.reproducible:
                same += ", a measurement: may differ"
        state = "ok" if item.ok else "PROBLEM"
        click.echo(f"{item.name:<16} {state:<8} {same}")
        for problem in item.problems:
            click.echo(f"  - {problem}")
    failed = [item.name for item in report if not item.ok]
    click.echo(f"verified {len(report)} figure(s): {len(report) - len(failed)} ok, "
               f"{len(failed)} with problems")
    if failed:
        sys.exit(1)


class _FigureProgress:
    """A progress bar on a terminal; one line per figure otherwise (logs, CI)."""

    def __init__(self) -> None:
        self.bar = None

    def start(self, names: list[str]) -> None:
        click.echo(f"figures: making {len(names)}: {', '.join(names)}", err=True)
        if sys.stderr.isatty():
            from rich.progress import Progress

            self.bar = Progress(transient=True)
            self.bar.start()
            self.task = self.bar.add_task("figures", total=len(names))

    def done(self, name: str, result: dict) -> None:
        state = f"{result['seconds']:.1f} s" if result.get("ok") else "FAILED"
        if self.bar is not None:
            self.bar.advance(self.task)
            if self.bar.finished:
                self.bar.stop()
        click.echo(f"  {name}: {state}", err=True)


def _figure_summary(figure_set) -> str:
    device = f" on {figure_set.device}" if figure_set.device else ""
    return (f"figures: {figure_set.ran} run, {figure_set.cached} cached, {figure_set.failed} failed "
            f"in {figure_set.seconds:.1f} s{device}")


def _moved_aside(moved: tuple[str, ...], trash) -> str:
    return (f"moved {_count(len(moved), 'file')} this tool did not write (or that was edited by hand) "
            f"aside to {_relative(trash)}/: {_names(moved)}")


def _names(paths: tuple[str, ...]) -> str:
    return ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Interrupted(KeyboardInterrupt):
    """A stop signal, handled like Ctrl-C."""


@contextlib.contextmanager
def _signals_interrupt(signal_names: tuple[str, ...]):
    import signal

    def interrupt(signum, frame) -> None:
        for sig in wanted:  # a second signal must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        raise _Interrupted(signal.Signals(signum).name)

    wanted = [getattr(signal, name) for name in signal_names if hasattr(signal, name)]
    previous = {sig: signal.signal(sig, interrupt) for sig in wanted}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _fail(err: Exception, verbose: bool) -> None:
    """One line (after the figures' summary when figures failed); the traceback only with -v."""
    figure_set = getattr(err, "figure_set", None)
    if figure_set is not None:
        click.echo(_figure_summary(figure_set), err=True)
    if isinstance(err, BuildError):
        click.echo(f"error: {err}", err=True)
    else:
        hint = "" if verbose else " (run again with -v for the traceback)"
        click.echo(f"error: the builder failed: {type(err).__name__}: {err}{hint}", err=True)
    if verbose:
        click.echo("".join(traceback.format_exception(err)).rstrip(), err=True)
    sys.exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def main() -> None:
    cli(prog_name="blog")
