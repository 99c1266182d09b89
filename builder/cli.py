"""The `blog` command: build (and, as they land, serve, figures, new, check, deploy)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from builder import __version__
from builder.errors import BuildError


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = {logging.WARNING: "warning: ", logging.ERROR: "error: "}.get(record.levelno, "")
        return prefix + record.getMessage()


def _setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine())
    root = logging.getLogger("builder")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
@click.option("-v", "--verbose", is_flag=True, help="Say more about what happens.")
def build(source: Path, destination: Path | None, baseurl: str | None, drafts: bool | None,
          future: bool | None, strict: bool | None, verbose: bool) -> None:
    """Build the site from SOURCE into DESTINATION."""
    from builder.build import build as run_build
    from builder.config import load_config

    _setup_logging(verbose)
    try:
        config = load_config(source, destination=destination, baseurl=baseurl, drafts=drafts,
                             future=future, strict=strict)
        result = run_build(config)
    except BuildError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    site = result.site
    click.echo(
        f"built {config.destination}: {_count(len(site.posts), 'post')}, "
        f"{_count(result.pages_written - len(site.posts), 'page')}, "
        f"{_count(result.static_copied, 'static file')}, "
        f"{_count(len(result.warnings), 'warning')} in {result.seconds:.2f} s")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def main() -> None:
    cli(prog_name="blog")
