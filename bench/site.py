"""Build speed at 1, 100 and 1000 posts: ours against Jekyll, Hugo and Pelican, in one run.

    python bench/site.py                 # all sizes, 3 runs each (medians)
    python bench/site.py --sizes 1000 --runs 5
    python bench/site.py --sizes 1000 --markdown kramdown --baseline ../main --no-pelican

Sites come from bench/corpus.py (the seed article, varied; every tenth post with math), with
figures already made (the project's .cache/ is copied in). For each size it times whole
processes: a build from scratch, a rebuild with nothing changed, and a rebuild after one post's
text changed; and the peak memory of the build from scratch (the process and its workers).
"From scratch" clears every cache on every side first: our `_site/`, `.cache/render` and
`.cache/outputs` (kept: the figures with their scans record, their image variants with the
SVGs' sizes, and the typeset formulas, which are records of computed results, not build caches;
an untimed build makes what the checkout keys by its own code first); Jekyll's `_site/` and
`.jekyll-cache`; Hugo's `public/`, `resources/` and its cache folder; Pelican's `output/` and
`__pycache__`. Kept on every side: each tool's own compiled code (Python's `__pycache__`, and
our theme's compiled templates in `builder/theme/__pycache__`), which depends on the installed
tool alone; every tool runs with bytecode written, as its users run it.

The peers build the same posts, each tool with what it needs and nothing more:
- Jekyll (Debian's `jekyll`, when installed): the same `site_src/` with a minimal layout that
  prints `{{ content }}` (no theme, no plugins) and the theme's `youtube.html` include;
- "Jekyll (theme)", when Debian's jekyll-theme-minima, ruby-jekyll-feed, ruby-jekyll-seo-tag,
  ruby-jekyll-sitemap and ruby-jekyll-paginate are installed: the same posts with a theme and
  the plugins that do what our build does besides the posts (feed, sitemap, a paginated home
  page, an archive page);
- Hugo (Debian's `hugo`, when installed): the posts converted to its content folder (front
  matter kept, Liquid resolved as our build resolves it), a minimal layout, raw HTML allowed;
- Pelican (installed with pip into .cache/bench-venv): the posts in its own metadata format.
Each run times every tool in turn (ours, the baseline, Jekyll, Hugo, Pelican), so all of them see
the same machine load; the table gives medians and, per tool, our time divided by theirs.
What a build from scratch clears is moved aside, not deleted, and deleted after the last run:
on ext4 without a journal (these machines' disks) each new file or folder skips over every inode
freed in the last minute, so a build right after the deletion of the previous run's 4,000 files
paid for them (the system time of the same build grew from 0.45 to 1.7 s over eight runs), and
the more so the more runs had come before. `--delete-between` deletes them as before.
`--markdown kramdown` reads the corpus as a Jekyll site (`markdown: kramdown`); `--baseline DIR`
also times the builder of another checkout (say, the main branch) on the same sites, each in
its own copy of the project (in one folder the two builders would undo each other's records of
computed results, and each build from scratch would compute them again).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from corpus import copy_computed, make_site, read_as_kramdown  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH_VENV = ROOT / ".cache" / "bench-venv"
TIME = Path("/usr/bin/time")  # GNU time: the peak memory of a process that is not ours
RUNNER = """
import os, resource, sys
from builder.cli import main


def peak():
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"PEAK_KB {own} {workers}", file=sys.stderr, flush=True)


# A finished build leaves with os._exit (no teardown): the peak is printed just before.
runner, leave = os.getpid(), os._exit
os._exit = lambda code: (peak() if os.getpid() == runner else None, leave(code))
sys.argv = ["blog", "build", "-s", sys.argv[1]]
try:
    main()
finally:
    peak()
"""
PELICAN_CONF = """
SITENAME = "Bench"
PATH = "content"
TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_LANG = "vi"
RELATIVE_URLS = True
FEED_ALL_ATOM = "feeds/all.atom.xml"
ARTICLE_URL = ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{date:%d}/{slug}/index.html"
"""
JEKYLL_LAYOUT = "{{ content }}\n"
HUGO_CONFIG = """baseURL = "https://example.org/"
title = "Bench"
languageCode = "vi"
timeZone = "Asia/Ho_Chi_Minh"
[permalinks]
posts = "/:year/:month/:day/:slug/"
[markup.goldmark.renderer]
unsafe = true
"""
HUGO_LINK = '<a href="{{ .RelPermalink }}">{{ .Title }}</a>\n'
HUGO_LAYOUTS = {"_default/single.html": "{{ .Content }}\n",
                "_default/list.html": "{{ range .Pages }}" + HUGO_LINK + "{{ end }}",
                "index.html": "{{ range .Site.RegularPages }}" + HUGO_LINK + "{{ end }}"}
EDIT = re.compile(r"Nay(?: \(sửa[^)]*\))? được")
# Every tool runs as its users run it: Python writes its bytecode (a development shell's
# PYTHONDONTWRITEBYTECODE=1 would make each Python tool compile its own modules every run).
AS_USERS_RUN = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=AS_USERS_RUN)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout[-1000:]}\n{done.stderr[-2000:]}")
    return elapsed, done.stderr


def with_peak(command: list[str]) -> list[str]:
    return [str(TIME), "-f", "PEAK_KB %M 0", *command] if TIME.exists() else command


def peak_mb(log: str) -> float:
    lines = [line.split() for line in log.splitlines() if line.startswith("PEAK_KB")]
    return (int(lines[-1][1]) + int(lines[-1][2])) / 1024 if lines else float("nan")


def edit(path: Path, label: str) -> None:
    """A new edit of the post's first paragraph, also where an earlier run edited it."""
    text = path.read_text(encoding="utf-8")
    changed = EDIT.sub(f"Nay (sửa {label}) được", text, count=1)
    path.write_text(changed if changed != text else text + f"\nsửa {label}\n", encoding="utf-8")


class Tool:
    """One builder on its copy of the corpus: `scratch`, `unchanged`, `edited` are whole-process
    wall times; `peaks` the memory of the builds from scratch."""

    name = ""

    def __init__(self, project: Path):
        self.project = project
        self.times: dict[str, list[float]] = {"scratch": [], "unchanged": [], "one edited": []}
        self.peaks: list[float] = []

    def command(self) -> list[str]:
        raise NotImplementedError

    def cwd(self) -> Path:
        raise NotImplementedError

    def caches(self) -> list[Path]:
        raise NotImplementedError

    def posts(self) -> list[Path]:
        raise NotImplementedError

    def run(self, number: int) -> None:
        for stale in self.caches():
            clear(stale)
        ours = isinstance(self, Blog)  # our runner reports its own peak, workers included
        seconds, log = timed(self.command() if ours else with_peak(self.command()), self.cwd())
        self.times["scratch"].append(seconds)
        self.peaks.append(peak_mb(log))
        self.times["unchanged"].append(timed(self.command(), self.cwd())[0])
        posts = self.posts()
        edit(posts[(number * 7919) % len(posts)], f"{number} {self.name}")
        self.times["one edited"].append(timed(self.command(), self.cwd())[0])

    def medians(self) -> dict[str, float]:
        return {key: statistics.median(values) for key, values in self.times.items()}


class Blog(Tool):
    name = "blog"

    def __init__(self, project: Path, checkout: Path | None = None):
        if checkout is not None:
            # Its own copy of the project: the two builders' records of computed results (the
            # figure scans, the SVG sizes) are stamped with their own code version, and in one
            # folder each build would find the other's and compute them again.
            copy = project / "baseline"
            shutil.copytree(project, copy, ignore=shutil.ignore_patterns("baseline", "_site"))
            project = copy
        super().__init__(project)
        self.checkout = checkout
        if checkout is not None:
            self.name = "blog (baseline)"

    def command(self) -> list[str]:
        runner = RUNNER
        if self.checkout is not None:  # that checkout's `builder` package first on the path
            runner = f"import sys; sys.path.insert(0, {str(self.checkout)!r})\n" + RUNNER
        return [sys.executable, "-c", runner, str(self.project / "site_src")]

    def cwd(self) -> Path:
        return self.project

    def caches(self) -> list[Path]:
        cache = self.project / ".cache"
        return [self.project / "_site", cache / "render", cache / "outputs"]

    def posts(self) -> list[Path]:
        return sorted((self.project / "site_src" / "_posts").glob("*.md"))



class Jekyll(Tool):
    name = "Jekyll"

    def __init__(self, project: Path):
        super().__init__(project)
        self.site = project / "jekyll"
        shutil.copytree(project / "site_src", self.site)
        shutil.copytree(ROOT / "builder" / "theme" / "_includes", self.site / "_includes", dirs_exist_ok=True)
        (self.site / "_layouts").mkdir()
        for name in ("default", "post", "page", "home"):
            (self.site / "_layouts" / f"{name}.html").write_text(JEKYLL_LAYOUT, encoding="utf-8")

    def command(self) -> list[str]:
        return ["jekyll", "build", "-q"]

    def cwd(self) -> Path:
        return self.site

    def caches(self) -> list[Path]:
        return [self.site / "_site", self.site / ".jekyll-cache"]

    def posts(self) -> list[Path]:
        return sorted((self.site / "_posts").glob("*.md"))


JEKYLL_THEMED_CONFIG = """
# What our build does besides the posts, done by Jekyll's own theme and plugins.
theme: minima
plugins: [jekyll-feed, jekyll-seo-tag, jekyll-sitemap, jekyll-paginate]
paginate: 10
paginate_path: "/page/:num/"
"""
JEKYLL_THEMED_INDEX = """---
layout: default
---
<ol class="post-list">{% for post in paginator.posts %}
<li><span class="post-meta">{{ post.date | date: "%b %-d, %Y" }}</span>
<h2><a class="post-link" href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></h2>
<p>{{ post.excerpt | strip_html | truncatewords: 45 }}</p></li>{% endfor %}</ol>
{% if paginator.previous_page %}
<a rel="prev" href="{{ paginator.previous_page_path | relative_url }}">Newer</a>{% endif %}
{% if paginator.next_page %}
<a rel="next" href="{{ paginator.next_page_path | relative_url }}">Older</a>{% endif %}
"""
JEKYLL_THEMED_ARCHIVE = """---
layout: page
title: Archive
permalink: /archive/
---
{% assign years = site.posts | group_by_exp: "post", "post.date | date: '%Y'" %}{% for year in years %}
<h2>{{ year.name }}</h2><ul>{% for post in year.items %}
<li><a href="{{ post.url | relative_url }}">{{ post.title | escape }}</a></li>{% endfor %}</ul>{% endfor %}
"""
JEKYLL_THEME_CHECK = ("Gem::Specification.find_by_name('minima'); "
                      "%w[jekyll-feed jekyll-seo-tag jekyll-sitemap jekyll-paginate].each { |g| require g }")


class JekyllThemed(Jekyll):
    """Jekyll doing more of what our build does: Debian's minima theme (its layouts, includes and
    Sass), an Atom feed, SEO tags, a sitemap, the home page 10 posts at a time, an archive by
    year. (Not category pages: Jekyll needs a plugin Debian does not package for those.)"""

    name = "Jekyll (theme)"

    def __init__(self, project: Path):
        Tool.__init__(self, project)
        self.site = project / "jekyll-theme"
        shutil.copytree(project / "site_src", self.site)
        shutil.copytree(ROOT / "builder" / "theme" / "_includes", self.site / "_includes", dirs_exist_ok=True)
        with (self.site / "_config.yml").open("a", encoding="utf-8") as config:
            config.write(JEKYLL_THEMED_CONFIG)
        (self.site / "index.html").write_text(JEKYLL_THEMED_INDEX, encoding="utf-8")
        (self.site / "archive.html").write_text(JEKYLL_THEMED_ARCHIVE, encoding="utf-8")

    @staticmethod
    def available() -> bool:
        return subprocess.run(["ruby", "-e", JEKYLL_THEME_CHECK], capture_output=True).returncode == 0


def converted_posts(project: Path) -> list[tuple[str, dict[str, str], str]]:
    """(file name, title/date/category, body with Liquid resolved as our build resolves it)."""
    posts = []
    for path in sorted((project / "site_src" / "_posts").glob("*.md")):
        front, body = path.read_text(encoding="utf-8").split("---\n", 2)[1:]
        title = next(line for line in front.splitlines() if line.startswith("title:"))[6:].strip().strip('"')
        categories = front.split("categories: [", 1)[1].split("]")[0]
        body = body.replace("{{ site.baseurl }}", "").replace(
            '{% include youtube.html id="rTawFwUvnLE" %}', '<a href="https://youtu.be/rTawFwUvnLE">video</a>')
        posts.append((path.name, {"title": title, "date": path.name[:10], "categories": categories}, body))
    return posts


class Hugo(Tool):
    name = "Hugo"

    def __init__(self, project: Path):
        super().__init__(project)
        self.site = project / "hugo"
        (self.site / "content" / "posts").mkdir(parents=True)
        (self.site / "config.toml").write_text(HUGO_CONFIG, encoding="utf-8")
        for rel, text in HUGO_LAYOUTS.items():
            (self.site / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.site / "layouts" / rel).write_text(text, encoding="utf-8")
        for name, front, body in converted_posts(project):
            title = front["title"].replace('"', '\\"')
            (self.site / "content" / "posts" / name).write_text(
                f'---\ntitle: "{title}"\ndate: {front["date"]}\nslug: {name[11:-3]}\n'
                f'categories: [{front["categories"]}]\n---\n{body}', encoding="utf-8")

    def command(self) -> list[str]:
        return ["hugo", "--quiet", "--cacheDir", str(self.site / "cache")]

    def cwd(self) -> Path:
        return self.site

    def caches(self) -> list[Path]:
        return [self.site / "public", self.site / "resources", self.site / "cache"]

    def posts(self) -> list[Path]:
        return sorted((self.site / "content" / "posts").glob("*.md"))


class Pelican(Tool):
    name = "Pelican"

    def __init__(self, project: Path):
        super().__init__(project)
        self.site = project / "pelican"
        content = self.site / "content"
        content.mkdir(parents=True)
        (self.site / "pelicanconf.py").write_text(PELICAN_CONF, encoding="utf-8")
        for name, front, body in converted_posts(project):
            category = front["categories"].split(",")[0].strip()
            head = f"Title: {front['title']}\nDate: {front['date']}\nCategory: {category}\n"
            head += f"Slug: {name[11:-3]}\n"
            (content / name).write_text(f"{head}\n{body}", encoding="utf-8")
        self.pelican = str(pelican_python().parent / "pelican")

    def command(self) -> list[str]:
        return [self.pelican, "content", "-o", "output", "-s", "pelicanconf.py", "-q"]

    def cwd(self) -> Path:
        return self.site

    def caches(self) -> list[Path]:
        return [self.site / "output", self.site / "__pycache__"]

    def posts(self) -> list[Path]:
        return sorted((self.site / "content").glob("*.md"))


def pelican_python() -> Path:
    python = BENCH_VENV / "bin" / "python"
    if not (BENCH_VENV / "bin" / "pelican").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "pelican", "markdown"], check=True)
    return python


def tools_for(project: Path, args: argparse.Namespace) -> list[Tool]:
    tools: list[Tool] = [Blog(project)]
    if args.baseline is not None:
        tools.append(Blog(project, args.baseline.resolve()))
    if not args.no_jekyll and shutil.which("jekyll"):
        tools.append(Jekyll(project))
        if JekyllThemed.available():
            tools.append(JekyllThemed(project))
    if not args.no_hugo and shutil.which("hugo"):
        tools.append(Hugo(project))
    if not args.no_pelican:
        tools.append(Pelican(project))
    return tools


def report(size: int, tools: list[Tool]) -> None:
    ours = tools[0].medians()
    for tool in tools:
        row = tool.medians()
        peak = max(tool.peaks)
        peak_text = "" if math.isnan(peak) else f"{peak:.0f}"
        print(f"| {size} | {tool.name} | {row['scratch']:.2f} | {row['unchanged']:.2f} | "
              f"{row['one edited']:.2f} | {peak_text} |")
    for tool in tools[1:]:
        row = tool.medians()
        ratio = {key: ours[key] / row[key] for key in ours}
        print(f"| {size} | blog ÷ {tool.name} | {ratio['scratch']:.2f}× | {ratio['unchanged']:.2f}× | "
              f"{ratio['one edited']:.2f}× | |")


# Where what a build from scratch clears goes (see the module's docstring); None: deleted.
SET_ASIDE: Path | None = None


def clear(stale: Path) -> None:
    """`stale` gone from where the build looks: moved aside (deleted at the end), or deleted."""
    if SET_ASIDE is None:
        shutil.rmtree(stale, ignore_errors=True)
    elif stale.exists():
        stale.rename(SET_ASIDE / str(len(os.listdir(SET_ASIDE))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 100, 1000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pelican", action="store_true")
    parser.add_argument("--no-jekyll", action="store_true")
    parser.add_argument("--no-hugo", action="store_true")
    parser.add_argument("--markdown", choices=["python-markdown", "kramdown"], default="python-markdown")
    parser.add_argument("--baseline", type=Path, help="another checkout whose builder is timed too")
    parser.add_argument("--delete-between", action="store_true",
                        help="delete what a build from scratch clears right before it (not at the end)")
    args = parser.parse_args()
    global SET_ASIDE
    if not args.delete_between:
        SET_ASIDE = Path(tempfile.mkdtemp(prefix="bench-set-aside-"))
    try:
        measure(args)
    finally:
        if SET_ASIDE is not None:
            shutil.rmtree(SET_ASIDE, ignore_errors=True)


def measure(args: argparse.Namespace) -> None:
    machine = platform.processor() or platform.machine()
    print(f"{platform.node()}: {machine}, Python {platform.python_version()}, "
          f"medians of {args.runs} runs, whole-process wall time in seconds\n")
    if not (ROOT / ".cache" / "figures" / "manifest.json").exists():  # a fresh clone: make them once
        subprocess.run([sys.executable, "-m", "builder", "build", "-s", str(ROOT / "site_src")], cwd=ROOT,
                       check=True, capture_output=True)
    print("| posts | tool | from scratch | nothing changed | one post edited | peak memory (MB) |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in args.sizes:
        # Each size's project too is deleted at the end, when things are set aside: the next
        # size is not timed right after 10,000 deletions.
        with (tempfile.TemporaryDirectory(prefix=f"bench-{size}-") if SET_ASIDE is None
              else contextlib.nullcontext(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=SET_ASIDE))) as tmp:
            project = Path(tmp)
            source = make_site(project, size)
            if args.markdown == "kramdown":
                read_as_kramdown(source)
            copy_computed(project, names=("figures", "images"))  # formulas: typeset by the first build
            tools = tools_for(project, args)
            for tool in tools:  # untimed: the formulas, and what each checkout keys by its own code
                if isinstance(tool, Blog):  # (image variants, compiled templates and bytecode)
                    timed(tool.command(), tool.cwd())
            for number in range(args.runs):
                for tool in tools:
                    tool.run(number)
            report(size, tools)


if __name__ == "__main__":
    main()
