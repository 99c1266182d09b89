"""The `blog` command: build, serve, figures, new, check, deploy.

This is the one error boundary: a `BuildError` from any stage becomes one line naming the file
and line, and exit status 1; any other failure (a fault of the builder itself) is one line too.
`-v` adds the traceback.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
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
    """Build, preview and publish the blog.

    Every command finds the site from the current folder upwards (the folder holding
    site_src/, or a Jekyll site's folder with _config.yml); -s names it instead.
    """


def _source_option(function):
    return click.option(
        "-s", "--source", type=click.Path(path_type=Path), default=None,
        help="Site folder (with _config.yml, _posts/)  [default: site_src/ or the folder with "
             "_config.yml, looked for here and in the folders above]")(function)


def _site(source: Path | None) -> Path:
    """The -s folder as given, or the site found from the current folder upwards."""
    from builder.locate import find_source

    return source if source is not None else find_source()


_DRAFTS_HELP = "Include _drafts/ and posts with published: false."
_FUTURE_HELP = "Include posts dated in the future."
_DEVICE_HELP = "Run figure scripts on cuda, mps or cpu  [default: the best there is]"
_QUICK_HELP = "Make stale figures with small settings (tests, drafts)."
_VERBOSE_HELP = "Say more about what happens (and show tracebacks)."


@cli.command(short_help="Build the site into _site/, making stale figures first.")
@_source_option
@click.option("-d", "--destination", type=click.Path(path_type=Path), default=None,
              help="Output folder  [default: _site beside the site folder]")
@click.option("--baseurl", default=None, help="Serve the site under this path, e.g. /blog.")
@click.option("--drafts", is_flag=True, default=None, help=_DRAFTS_HELP)
@click.option("--future", is_flag=True, default=None, help=_FUTURE_HELP)
@click.option("--strict", is_flag=True, default=None, help="Treat warnings as errors (for CI).")
@click.option("--quick", is_flag=True, default=None, help=_QUICK_HELP)
@click.option("--device", default=None, help=_DEVICE_HELP)
@click.option("--force", is_flag=True,
              help="Build into a folder holding files this tool did not write: keep_files stay, "
                   "the rest is moved to .cache/trash/.")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def build(source: Path | None, destination: Path | None, baseurl: str | None, drafts: bool | None,
          future: bool | None, strict: bool | None, quick: bool | None, device: str | None,
          force: bool, verbose: bool) -> None:
    """Build the site from the site folder into DESTINATION, making stale figures first."""
    from builder.build import build as run_build
    from builder.config import load_config

    _setup_logging(verbose)
    config = load_config(_site(source), destination=destination, baseurl=baseurl, drafts=drafts,
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
    if isinstance(process := click.get_current_context().obj, _Process):
        process.built = True


@cli.command(short_help="Make the figures whose inputs changed.")
@click.argument("names", nargs=-1)
@_source_option
@click.option("--force", is_flag=True, help="Make the figures again even if cached.")
@click.option("--device", default=None, help=_DEVICE_HELP)
@click.option("--list", "list_only", is_flag=True, help="List the figures and their state; run nothing.")
@click.option("--quick", is_flag=True, default=None, help="Small settings (for tests).")
@click.option("--verify", is_flag=True,
              help="Make the figures again in a temporary folder; compare with the cache and the bars.")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def figures(names: tuple[str, ...], source: Path | None, force: bool, device: str | None,
            list_only: bool, quick: bool | None, verify: bool, verbose: bool) -> None:
    """Make the figures (all, or the NAMES given) whose inputs changed."""
    from builder import figures as figure_module
    from builder.build import make_figures
    from builder.config import load_config
    from builder.destinations import check_cache

    _setup_logging(verbose)
    config = load_config(_site(source), quick=quick, device=device)
    check_cache(config)
    if list_only:
        _list_figures(figure_module, config)
        return
    if verify:
        _verify_figures(figure_module, config, list(names) or None)
        return
    figure_set = make_figures(config, names=list(names) or None, force=force, progress=_FigureProgress())
    click.echo(_figure_summary(figure_set))


@cli.command(short_help="Preview the site; rebuild and reload on every change.")
@_source_option
@click.option("-d", "--destination", type=click.Path(path_type=Path), default=None,
              help="Build into this folder and serve it  [default: a temporary folder, removed on exit]")
@click.option("--baseurl", default=None, help="Serve the site under this path, e.g. /blog.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 shows the site to your network).")
@click.option("-p", "--port", default=4000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0 picks a free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option("--drafts", is_flag=True, default=None, help=_DRAFTS_HELP)
@click.option("--future", is_flag=True, default=None, help=_FUTURE_HELP)
@click.option("--quick", is_flag=True, default=None, help=_QUICK_HELP)
@click.option("--device", default=None, help=_DEVICE_HELP)
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def serve(source: Path | None, destination: Path | None, baseurl: str | None, host: str, port: int,
          open_browser: bool, drafts: bool | None, future: bool | None, quick: bool | None,
          device: str | None, verbose: bool) -> None:
    """Preview the site: rebuild on every change and reload open pages."""
    from builder.serve import DevServer

    _setup_logging(verbose)
    if verbose:
        logging.getLogger("builder.serve").setLevel(logging.DEBUG)
    overrides = {"drafts": drafts, "future": future, "quick": quick, "device": device,
                 "baseurl": baseurl, "destination": destination}
    # A closed terminal (SIGHUP) or a service manager (SIGTERM) stops it as Ctrl-C does, so
    # the temporary folder is removed in every case.
    with _signals_interrupt(signal_names=("SIGTERM", "SIGHUP")):
        server = DevServer(_site(source), host, port, overrides,
                           report=lambda line: click.echo(line, err=line.startswith("error")),
                           progress=_FigureProgress())
        try:
            server.start()
            output = destination or "a temporary folder"
            click.echo(f"serving {server.address}  (Ctrl-C stops; the output lives in {output})")
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


@cli.command(short_help="Start a new draft (or with --publish, a post).")
@click.argument("title")
@_source_option
@click.option("--publish", is_flag=True,
              help="Write a post in _posts/ (dated) instead of a draft in _drafts/.")
@click.option("--date", "day", default=None,
              help="The post's date, YYYY-MM-DD (with --publish)  [default: today]")
@click.option("--slug", default=None,
              help="The file name's slug  [default: made from TITLE, transliterated to ASCII]")
def new(title: str, source: Path | None, publish: bool, day: str | None, slug: str | None) -> None:
    """Start a draft called TITLE in _drafts/ (built with --drafts), or with --publish a post in
    _posts/; prints the file's path."""
    from datetime import date

    from builder.content import new_post

    if day and not publish:
        raise BuildError("--date goes with --publish: a draft takes its date when it moves to _posts/")
    try:
        when = date.fromisoformat(day) if day else date.today()
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", day or ""):
            raise BuildError(f"--date {day} is not a date that exists") from None
        raise BuildError(f"--date must look like 2026-11-29, not {day!r}") from None
    site = _site(source)
    click.echo(new_post(site, title, when, _language_of(site), draft=not publish, slug=slug))


@cli.command(short_help="Check every internal link, anchor and image.")
@_source_option
@click.option("--drafts", is_flag=True, default=None, help=_DRAFTS_HELP)
@click.option("--future", is_flag=True, default=None, help=_FUTURE_HELP)
@click.option("--strict", is_flag=True, default=None, help="Fail on warnings too (for CI).")
@click.option("--quick", is_flag=True, default=None, help=_QUICK_HELP)
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def check(source: Path | None, drafts: bool | None, future: bool | None, strict: bool | None,
          quick: bool | None, verbose: bool) -> None:
    """Build into a temporary folder, then check every internal link, anchor and image."""
    import dataclasses
    import tempfile

    from builder.build import build as run_build
    from builder.check import check_site
    from builder.config import load_config

    _setup_logging(verbose)
    config = load_config(_site(source), quick=quick, drafts=drafts, future=future, strict=strict)
    with tempfile.TemporaryDirectory(prefix="blog-check-") as tmp:
        # Built without --strict so that every problem is found and listed, then judged here.
        built = dataclasses.replace(config, destination=Path(tmp) / "site", strict=False)
        result = run_build(built, progress=_FigureProgress(), incremental=False)
        problems = check_site(result.site, built.destination)
    errors = [p for p in problems if not p.warning]
    for problem in problems:
        click.echo(f"{'warning' if problem.warning else 'error'}: {problem}", err=True)
    warnings = len(result.warnings) + len(problems) - len(errors)
    summary = (f"checked {_count(result.posts + result.pages, 'page')}: {len(errors)} broken, "
               f"{_count(warnings, 'warning')}")
    failed = bool(errors) or (config.strict and warnings > 0)
    if config.strict and warnings:
        summary += " (--strict: warnings fail the check)"
    click.echo(summary)
    if failed:
        sys.exit(1)


@cli.command(short_help="Build strictly and publish the site to GitHub Pages.")
@_source_option
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option("--branch", default="gh-pages", show_default=True, help="The branch GitHub Pages serves.")
@click.option("-m", "--message", default=None, help="Commit message  [default: the source commit]")
@click.option("--dry-run", is_flag=True,
              help="Build and show what would be committed and pushed; commit nothing.")
@click.option("--force", is_flag=True,
              help="Publish over a branch holding files this tool did not write: keep_files are "
                   "carried over, the rest stays only in the branch's history.")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def deploy(source: Path | None, remote: str, branch: str, message: str | None, dry_run: bool,
           force: bool, verbose: bool) -> None:
    """Build strictly and publish the site to a branch for GitHub Pages."""
    from builder.deploy import deploy as run_deploy

    _setup_logging(verbose)
    done = run_deploy(_site(source), remote, branch, message, progress=_FigureProgress(), force=force,
                      dry_run=dry_run, report=lambda line: click.echo(line, err=True))
    if done.carried:
        click.echo(f"{'would keep' if dry_run else 'kept'} {_count(len(done.carried), 'file')} of "
                   f"{done.remote}/{done.branch} that match keep_files: {_names(done.carried)}")
    if done.left_out:
        click.echo(f"{'would leave' if dry_run else 'left'} out {_count(len(done.left_out), 'file')} of "
                   f"{done.remote}/{done.branch} this tool did not write; they stay in its history "
                   f"(commit {done.previous}): {_names(done.left_out)}")
    if dry_run:
        click.echo(_dry_run_summary(done))
    elif not done.commit:
        click.echo(f"nothing changed since {done.remote}/{done.branch} ({done.previous}): no commit "
                   f"made, nothing pushed; the site is at {done.url}")
    else:
        click.echo(f"published {done.commit} to {done.remote}/{done.branch}: {done.url}")


@cli.command(short_help="Remove the built site and the caches it was made from.")
@_source_option
@click.option("-d", "--destination", type=click.Path(path_type=Path), default=None,
              help="The output folder to empty  [default: _site beside the site folder]")
@click.option("--figures", "with_figures", is_flag=True,
              help="Remove the made figures too (.cache/figures: they take minutes to make again).")
@click.option("-v", "--verbose", is_flag=True, help=_VERBOSE_HELP)
def clean(source: Path | None, destination: Path | None, with_figures: bool, verbose: bool) -> None:
    """Remove what `blog build` wrote: the site's files and the render, image, math and output
    caches; the figures only with --figures. Nothing this tool did not write is touched."""
    from builder.clean import clean as run_clean
    from builder.config import load_config

    _setup_logging(verbose)
    config = load_config(_site(source), destination=destination)
    done = run_clean(config, figures=with_figures)
    site = (f"{_count(done.site_files, 'file')} of {config.destination}" if done.site_files
            else f"nothing in {config.destination}")
    caches = ", ".join(done.caches) or "none"
    click.echo(f"removed {site}; caches: {caches}")
    if done.site_kept:
        click.echo(f"kept {_count(len(done.site_kept), 'file')} in {config.destination} this tool did not "
                   f"write (or that was edited by hand): {_names(done.site_kept)}")
    if done.caches_kept:
        click.echo(f"kept in the caches what no build makes (someone else's): {_names(done.caches_kept)}")
    if not with_figures and done.figures_kept:
        click.echo(f"kept the figures in {config.cache_dir / 'figures'} (--figures removes them)")


def _dry_run_summary(done) -> str:
    where = f"{done.remote}/{done.branch}"
    if not done.changes:
        return f"dry run: nothing would change on {where}; no commit would be made"
    added, changed, removed = (sorted(p for p, kind in done.changes.items() if kind == k) for k in "+~-")
    parts = [f"{len(added)} added", f"{len(changed)} changed", f"{len(removed)} removed"]
    lines = [f"dry run: would commit to {where} and push to {done.remote_url}: {', '.join(parts)}"]
    for sign, names in (("+", added), ("~", changed), ("-", removed)):
        lines += [f"  {sign} {name}" for name in names[:20]]
        if len(names) > 20:
            lines.append(f"  {sign} ... and {len(names) - 20} more")
    lines += [("message: " if i == 0 else "         ") + text if text else ""
              for i, text in enumerate(done.message.splitlines())]
    lines.append("nothing was committed or pushed")
    return "\n".join(lines)


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
    """The `blog` process (tests call `cli` itself). After a build that succeeded, the process
    leaves without the interpreter's teardown: freeing a large site's objects one by one costs
    0.07-0.1 s at 1,000 posts and helps nobody. Everything it wrote is closed by then; what
    is still buffered is flushed first."""
    process = _Process()
    try:
        cli(prog_name="blog", obj=process)
    except SystemExit as done:
        if done.code not in (0, None) or not process.built:
            raise
    if process.built:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


class _Process:
    """What a command tells `main` about how the process may end."""

    built = False  # a build finished: nothing is left to close
