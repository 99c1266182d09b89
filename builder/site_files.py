"""The list of the site's files: every page, feed, stylesheet and copied file, by output path.

This is the one place that says what a built site consists of; the writer (`outputs`) puts
exactly this in the destination.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from builder import figures
from builder.model import Site, SiteFiles


def collect(site: Site) -> SiteFiles:
    """Made files (text, or pages rendered when they are written) and copied files (paths), by
    output path relative to the destination."""
    from builder import templates

    texts = made(site, render_pages=templates.deferred_pages, deferred=True)
    return SiteFiles(texts=texts, copies=copied(site))


def made(site: Site, env: Any = None, render_pages: Callable | None = None,
         deferred: bool = False) -> dict[str, Any]:
    """Every file the build makes (pages, feed, sitemap, stylesheets...), by output path.
    `env`: a Jinja2 environment to reuse; `render_pages(env, jobs)`: how pages are rendered
    (`blog serve`'s renders only the pages whose key changed, None for the others).
    `deferred`: the feed and the sitemap are made when they are written (by the writer's
    workers, beside the pages), not here."""
    from builder import feeds, templates  # Jinja2 and Pygments: only when pages are made

    env = env or templates.make_environment(site.config)
    jobs = templates.page_jobs(site, env)
    made: dict[str, Any] = (render_pages or templates.render_pages)(env, jobs)
    feed = partial(feeds.atom_feed, site)
    sitemap = partial(feeds.sitemap, site, [job.sitemap for job in jobs if job.sitemap])
    made["feed.xml"] = feed if deferred else feed()
    made["sitemap.xml"] = sitemap if deferred else sitemap()
    made["robots.txt"] = feeds.robots(site)
    made[templates.THEME_ASSET_URL.lstrip("/") + "code.css"] = templates.code_css()
    if site.has_typeset_math:
        from builder import mathjax

        chars = {rule for doc in site.documents for rule in doc.rendered.math_css}
        made[mathjax.STYLESHEET] = mathjax.stylesheet(site.config, chars)
    if site.figures.figures:
        made["figures.json"] = figures.manifest_json(site.figures)
    made[".nojekyll"] = ""  # GitHub Pages must not run Jekyll over the built site
    cname = str(site.config.site.get("cname") or "").strip()
    if cname:
        made["CNAME"] = cname + "\n"
    return made


def copied(site: Site) -> dict[str, Path]:
    """Every file copied as it is: output path -> source file."""
    from builder import templates

    copies = templates.theme_files()
    if site.has_typeset_math:
        from builder import mathjax

        copies.update(mathjax.font_files())
    copies.update({rel: site.config.source / rel for rel in site.static_files})
    copies.update({path.lstrip("/"): file for path, file in site.figures.files.items()})
    for variants in site.images.values():
        copies.update({path.lstrip("/"): file for path, file in variants.files.items()})
    if site.figures.figures:  # publish the scripts so every provenance note links to its source
        folder = site.config.figures_dir
        copies.update({f"figures/{p.name}": p for p in sorted(folder.glob("*.py"))})
    return copies
