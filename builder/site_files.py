"""The list of the site's files: every page, feed, stylesheet and copied file, by output path.

This is the one place that says what a built site consists of; the writer (`outputs`) puts
exactly this in the destination.
"""

from __future__ import annotations

from pathlib import Path

from builder import figures
from builder.model import Site, SiteFiles


def collect(site: Site) -> SiteFiles:
    """Made files (text) and copied files (paths), by output path relative to the destination."""
    return SiteFiles(texts=_made(site), copies=_copied(site))


def _made(site: Site) -> dict[str, str]:
    from builder import feeds, templates  # Jinja2 and Pygments: only when pages are made

    env = templates.make_environment(site.config)
    made = templates.render_site(site, env)
    made["feed.xml"] = feeds.atom_feed(site)
    extra = [c.url for c in site.categories]
    figures_page = templates.figures_page_path(site)
    if figures_page and all(page.url != figures_page for page in site.pages):
        extra.append(figures_page)
    made["sitemap.xml"] = feeds.sitemap(site, extra)
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


def _copied(site: Site) -> dict[str, Path]:
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
