"""The Jekyll subset of Liquid, run on a document's raw text before Markdown.

python-liquid provides the language (output, filters, if/for/assign, raw, comments); this
module adds Jekyll's tags (`include` with `key="value"` arguments, `post_url`, `link`) and
its common filters, keeps code blocks and code spans untouched, and turns every Liquid
error into a `BuildError` naming the file and line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, tzinfo
from functools import partial
from html import escape
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

from builder.codeblocks import map_outside_code
from builder.config import LiquidOptions
from builder.errors import BuildError, line_of
from builder.model import LinkTables
from builder.text import slugify, vi_date


@contextmanager
def _pytz_list_as_shipped() -> Iterator[None]:
    """pytz's own switch PYTZ_SKIPEXISTSCHECK, on for the block. Importing python-liquid imports
    Babel, which looks the local time zone up in pytz, and pytz first makes its list of zones
    by opening each of its ~600 zone files to see that it is there (1,200 system calls, about
    10 ms before a cold build's workers start). With the switch pytz takes its list as shipped,
    which is what a pip installation holds; the list, once made, is kept for the process."""
    before = os.environ.get("PYTZ_SKIPEXISTSCHECK")
    os.environ["PYTZ_SKIPEXISTSCHECK"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTZ_SKIPEXISTSCHECK"]
        else:
            os.environ["PYTZ_SKIPEXISTSCHECK"] = before


with _pytz_list_as_shipped():
    from liquid import Environment, StrictUndefined, Undefined
    from liquid.ast import Node
    from liquid.builtin.expressions import FilteredExpression, tokenize
    from liquid.builtin.output import Output, OutputNode
    from liquid.exceptions import FilterArgumentError, LiquidError, LiquidSyntaxError, LiquidTypeError
    from liquid.lex import compile_liquid_rules, get_lexer
    from liquid.stream import TokenStream
    from liquid.tag import Tag
    from liquid.token import TOKEN_EXPRESSION, TOKEN_OUTPUT, TOKEN_TAG, Token

_INCLUDE_ARG = re.compile(
    r"""([\w-]+)\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[\w.\[\]-]+)""")
_HOLD = re.compile(r"\ue000(\d+)(\n*)\ue001")


class _JekyllEnvironment(Environment):
    """python-liquid with Jekyll's leniency: `liquid:` options, and a place for the warnings
    that what Jekyll tolerates gets here (file and line are added by the renderer)."""

    def __init__(self, options: LiquidOptions):
        super().__init__(undefined=StrictUndefined if options.strict_variables else Undefined)
        self.options = options
        self.notes: list[tuple[int | None, str]] = []  # (offset in the text, message)
        self.includes: dict[str, tuple[Any, list]] = {}  # include name -> (its template, parse notes)
        # `{{ ... }}` text -> its parsed expression, shared by every document of the build while
        # `reuse_expressions` is on (see LiquidRenderer.render for why errors turn it off).
        self.expressions: dict[str, Any] = {}
        self.reuse_expressions = False
        guarded = {name: _GuardedFilter(name, func) for name, func in self.filters.items()}
        self.filters = guarded if options.strict_filters else _SkipUnknownFilters(guarded, self.notes)

    def add_filter(self, name: str, func) -> None:
        super().add_filter(name, _GuardedFilter(name, func))

    def note(self, token: Token | None, message: str) -> None:
        self.notes.append((token.start_index if token is not None else None, message))

    def tokenizer(self) -> Callable[[str], Iterator[Token]]:
        return _tokenize  # python-liquid's tokens, found faster (see _fast_rules)


def _fast_rules() -> re.Pattern[str] | None:
    """python-liquid's lexer rules with a faster pattern for the text between tags.

    The library matches that text one character at a time (`.+?` with a look-ahead at every
    position), which is most of the lexing of a post. The pattern here takes whole runs
    without a `{` and stops at the same places, so the tokens, and with them whitespace
    control, stay exactly the library's. None if the library's pattern is not the one this
    was written against.
    """
    library = compile_liquid_rules()
    slow = r"(?P<content>.+?(?=((\{%|\{\{)(?P<rstrip>-?))|$))"
    fast = (r"(?P<content>[\s\S]"  # one character, whatever it is (as `.+?` takes one)
            r"(?:(?:[^{]+|\{(?![{%]))*"  # then up to the next `{{` or `{%`, or the end,
            r"(?!(?<=\n)\Z))?"  # but not over a newline that ends the text (`$` stops before it)
            r"(?=(?:\{[{%](?P<rstrip>-?))?))")  # `rstrip`: the next tag starts `{{-` or `{%-`
    if library.pattern.count(slow) != 1:
        return None
    return re.compile(library.pattern.replace(slow, fast), library.flags)


def _lexer() -> Callable[[str], Iterator[Token]]:
    """python-liquid's own tokenizer run with `_fast_rules`, or as it is if they don't apply."""
    try:
        from liquid.lex import _tokenize_template  # what get_lexer() binds to its rules
    except ImportError:
        return get_lexer()
    rules = _fast_rules()
    return get_lexer() if rules is None else partial(_tokenize_template, rules=rules)


_tokenize = _lexer()


class _SkipUnknownFilters(dict):
    """Jekyll (strict_filters off) skips a filter it does not know and keeps the value."""

    def __init__(self, filters: dict, notes: list):
        super().__init__(filters)
        self.notes = notes

    def announce(self, token: Token | None, name: str) -> None:
        self.notes.append((token.start_index if token else None, self._message(name)))

    def __missing__(self, name: str):
        if not any(message == self._message(name) for _, message in self.notes):
            self.announce(None, name)  # used where the statement was not seen (assign, include)
        return lambda value, *args, **kwargs: value

    @staticmethod
    def _message(name: str) -> str:
        return f"unknown filter {name!r} skipped, as Jekyll skips it"


class _GuardedFilter:
    """A filter whose failure, whatever the arguments, is a Liquid error python-liquid places at
    its statement (file and line), as Jekyll reports "Liquid Exception: ... in FILE": never a
    raw traceback. Everything else (`with_context`, `validate`...) is the filter's own."""

    def __init__(self, name: str, func):
        self._name = name
        self._func = func

    def __getattr__(self, attribute: str):
        return getattr(self._func, attribute)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return self._func(*args, **kwargs)
        except (LiquidTypeError, FilterArgumentError, TypeError):
            raise  # python-liquid gives these the statement's token itself
        except LiquidError as err:
            if err.token is not None:
                raise
            raise FilterArgumentError(f"{self._name}: {err.message}", token=None) from err
        except Exception as err:  # noqa: BLE001 (any fault of a filter is the template's to report)
            detail = str(err) or type(err).__name__
            raise FilterArgumentError(f"{self._name}: {detail}", token=None) from err


class LiquidRenderer:
    """One Liquid environment per build, rendering many documents."""

    def __init__(self, tables: LinkTables, baseurl: str = "", url: str = "",
                 options: LiquidOptions | None = None, theme_strings: dict[str, Any] | None = None,
                 tz: tzinfo | None = None):
        self.tables = tables
        env = _JekyllEnvironment(options or LiquidOptions())
        env.globals["theme"] = theme_strings or {}  # the interface strings the theme's includes show
        env.add_tag(_LenientOutput)
        env.add_tag(_IncludeTag)
        env.add_tag(_PostUrlTag)
        env.add_tag(_LinkTag)
        env.add_tag(_HighlightTag)
        for name, func in _jekyll_filters(baseurl, url, tz).items():
            env.add_filter(name, func)
        self.env = env
        self.warnings: list[str] = []  # what the last render tolerated, with file and line

    def render(self, text: str, context: dict[str, Any], path: Path, first_line: int = 1,
               protect_code: bool = True) -> str:
        """Render `text` (from `path`, starting at `first_line`) with `context`."""
        self.warnings = []
        if "{{" not in text and "{%" not in text:
            return text
        held: list[str] = []
        if protect_code:
            text = _hold_code(text, held)
        # First with the `{{ ... }}` expressions other documents already parsed (most repeat from
        # post to post). Their tokens point into those documents, so if anything goes wrong,
        # render again parsing everything afresh: the error then names this file and line.
        try:
            out = self._render_once(text, context, path, first_line, reuse=True)
        except Exception:  # noqa: BLE001 (reported by the second rendering, as it is)
            out = self._render_once(text, context, path, first_line, reuse=False)
        return _HOLD.sub(lambda m: held[int(m.group(1))], out) if held else out

    def _render_once(self, text: str, context: dict[str, Any], path: Path, first_line: int,
                     reuse: bool) -> str:
        self.env.notes.clear()
        self.env.reuse_expressions = reuse
        try:
            template = self.env.from_string(text, path=str(path))
            return template.render(**context, _jekyll=self.tables)
        except LiquidError as err:
            raise _as_build_error(err, path, first_line) from None
        except BuildError as err:
            if err.line is not None and err.path == path:
                err.line += first_line - 1
            raise
        finally:
            self.env.reuse_expressions = False
            self.warnings = list(dict.fromkeys(
                f"{path}{'' if at is None else f':{line_of(text, at) + first_line - 1}'}: Liquid: {message}"
                for at, message in self.env.notes))


def _as_build_error(err: LiquidError, path: Path, first_line: int) -> BuildError:
    message = str(err.message)
    where = err.context()
    name = err.template_name
    if name and Path(str(name)) != path:  # the error is inside an include file
        return BuildError(f"Liquid: {message}", Path(str(name)), where[0] if where else None)
    line = where[0] + first_line - 1 if where else None
    return BuildError(f"Liquid: {message}", path, line)


# --- output statements as Jekyll's Liquid reads them -----------------------------------

_LAX_NAME = re.compile(r"""\s*("[^"]*"|'[^']*'|[^\s,|'"]+)""")


class _EmptyOutput(Node):
    __slots__ = ()

    def __str__(self) -> str:
        return "{{ }}"

    def render_to_output(self, context, buffer: TextIO) -> int:
        return 0


class _LenientOutput(Output):
    """`{{ ... }}`. Jekyll renders `{{}}` empty in every mode, and under its default
    `error_mode: warn` reads a malformed statement laxly (`{{ a b }}` is `{{ a }}`)."""

    def parse(self, stream: TokenStream) -> Node:
        token = stream.eat(TOKEN_OUTPUT)
        if stream.current.kind != TOKEN_EXPRESSION or not stream.current.value.strip():
            self.env.note(token, "empty {{ }} renders nothing, as in Jekyll")
            return _EmptyOutput(token)
        expr_token = stream.expect(TOKEN_EXPRESSION)
        try:
            expression = _reused_expression(self.env, expr_token)
            for name in getattr(expression, "filters", None) or ():
                if isinstance(self.env.filters, _SkipUnknownFilters) and name.name not in self.env.filters:
                    self.env.filters.announce(token, name.name)
            return OutputNode(token, expression)
        except LiquidSyntaxError:
            if self.env.options.error_mode == "strict":
                raise
        self.env.note(token, f"malformed {{{{ {expr_token.value.strip()} }}}} read laxly, as Jekyll reads it")
        for attempt in _lax_forms(expr_token.value):
            try:
                return OutputNode(token, _parse_expression(self.env, attempt, expr_token))
            except LiquidSyntaxError:
                continue
        return _EmptyOutput(token)


def _reused_expression(env: _JekyllEnvironment, token: Token):
    """The parsed expression of `token`, parsed once per build while the renderer allows it."""
    if not env.reuse_expressions:
        return _parse_expression(env, token.value, token)
    expression = env.expressions.get(token.value)
    if expression is None:
        expression = env.expressions[token.value] = _parse_expression(env, token.value, token)
    return expression


def _parse_expression(env, text: str, token: Token):
    return FilteredExpression.parse(env, TokenStream(tokenize(text, token)))


def _lax_forms(text: str) -> list[str]:
    """Ruby Liquid's lax reading: the first fragment, then the filters after the first `|`."""
    match = _LAX_NAME.match(text)
    if not match:
        return []
    name, rest = match.group(1), text[match.end():]
    filters = rest.split("|", 1)[1] if "|" in rest else ""
    return [f"{name} | {filters}", name] if filters.strip() else [name]


# --- keeping code untouched -------------------------------------------------------------

# A line indented as code, after any line break `str.splitlines` knows (the first line is
# checked apart): searched from the break, which is rare, where `codeblocks`' one pattern
# tries every position of the text.
_BREAK_THEN_INDENT = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029](?: {4}|\t)")


def _may_hold_code(text: str) -> bool:
    """`codeblocks.map_outside_code`'s test for text that may hold code, done faster."""
    if "`" in text or "~~~" in text:
        return True
    if "    " not in text and "\t" not in text:  # substring scans are the fastest
        return False
    return text.startswith(("    ", "\t")) or _BREAK_THEN_INDENT.search(text) is not None


def _hold_code(text: str, held: list[str]) -> str:
    """Replace fenced/indented code blocks and code spans by placeholders.

    A placeholder keeps the newlines of what it replaces so that Liquid's line numbers
    still match the source file.
    """
    if not _may_hold_code(text):  # most prose
        return text

    def hold(chunk: str) -> str:
        held.append(chunk)
        return f"\ue000{len(held) - 1}{chunk.count(chr(10)) * chr(10)}\ue001"

    return map_outside_code(text, lambda chunk: chunk, hold)


# --- Jekyll's tags ----------------------------------------------------------------------


class _ExpressionNode(Node):
    __slots__ = ("expression", "render_with")

    def __init__(self, token: Token, expression: str, render_with):
        super().__init__(token)
        self.expression = expression
        self.render_with = render_with
        self.blank = False

    def __str__(self) -> str:
        return f"{{% {self.token.value} {self.expression} %}}"

    def render_to_output(self, context, buffer: TextIO) -> int:
        return self.render_with(self, context, buffer)


class _RawExpressionTag(Tag):
    """A tag whose argument text is read as Jekyll does, not as a Liquid expression."""

    block = False

    def parse(self, stream):
        token = stream.eat(TOKEN_TAG)
        expression = stream.current.value if stream.current.kind == TOKEN_EXPRESSION else ""
        return _ExpressionNode(token, expression.strip(), type(self).render_node)

    @staticmethod
    def render_node(node: _ExpressionNode, context, buffer: TextIO) -> int:
        raise NotImplementedError


def _fail(node: _ExpressionNode, message: str, context) -> BuildError:
    source = node.token.source
    return BuildError(message, Path(str(context.template.path)),
                      line_of(source, node.token.start_index))


class _IncludeTag(_RawExpressionTag):
    name = "include"

    @staticmethod
    def render_node(node: _ExpressionNode, context, buffer: TextIO) -> int:
        tables: LinkTables = context.resolve("_jekyll")
        file_name, _, arg_text = node.expression.partition(" ")
        if not file_name:
            raise _fail(node, "include needs a file name", context)
        env = context.env
        if file_name in env.includes:  # found, read and parsed once per build, not once per use
            template, notes = env.includes[file_name]
            env.notes.extend(notes)  # what its parsing tolerated is said for every use
        else:
            path = _find_include(file_name, tables.site_includes)
            if path is None:
                if _leaves_includes(file_name):
                    raise _fail(node, f"include path {file_name!r} leaves _includes/", context)
                raise _fail(node, f"include {file_name!r} not found in _includes/", context)
            before, reuse = len(env.notes), env.reuse_expressions
            env.reuse_expressions = False  # kept for the build: its errors must name its own lines
            try:
                template = env.from_string(path.read_text(encoding="utf-8"), path=str(path))
            finally:
                env.reuse_expressions = reuse
            env.includes[file_name] = (template, env.notes[before:])
        params = {key: _argument_value(value, context) for key, value in
                  _INCLUDE_ARG.findall(arg_text)}
        with context.extend({"include": params}, template=template):
            template.render_with_context(context, buffer, partial=True)
        return 1


def _leaves_includes(name: str) -> bool:
    return name.startswith("/") or ".." in Path(name).parts


def _find_include(name: str, site_includes: Path) -> Path | None:
    from builder.templates import THEME_INCLUDES

    if _leaves_includes(name):
        return None
    for folder in (site_includes, THEME_INCLUDES):
        candidate = (folder / name).resolve()
        if candidate.is_relative_to(folder.resolve()) and candidate.is_file():
            return candidate
    return None


def _argument_value(raw: str, context) -> Any:
    if raw[:1] in "\"'":
        return raw[1:-1].replace("\\" + raw[0], raw[0])
    value: Any = context.resolve(raw.split(".")[0], default=None)
    for part in raw.split(".")[1:]:
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return "" if value is None else value


class _PostUrlTag(_RawExpressionTag):
    name = "post_url"

    @staticmethod
    def render_node(node: _ExpressionNode, context, buffer: TextIO) -> int:
        tables: LinkTables = context.resolve("_jekyll")
        url = tables.post_urls.get(node.expression)
        if url is None:
            raise _fail(node, f"post_url: no post named {node.expression!r}", context)
        return buffer.write(url)


class _LinkTag(_RawExpressionTag):
    name = "link"

    @staticmethod
    def render_node(node: _ExpressionNode, context, buffer: TextIO) -> int:
        tables: LinkTables = context.resolve("_jekyll")
        url = tables.file_urls.get(node.expression.strip("/"))
        if url is None:
            raise _fail(node, f"link: no file {node.expression!r} in the site", context)
        return buffer.write(url)


class _HighlightNode(Node):
    __slots__ = ("language", "line_numbers", "block")

    def __init__(self, token: Token, language: str, line_numbers: bool, block):
        super().__init__(token)
        self.language, self.line_numbers, self.block = language, line_numbers, block
        self.blank = False

    def __str__(self) -> str:
        return f"{{% highlight {self.language} %}}{self.block}{{% endhighlight %}}"

    def render_to_output(self, context, buffer: TextIO) -> int:
        inner = context.get_buffer(buffer)
        self.block.render(context, inner)
        return buffer.write(highlight_block(inner.getvalue(), self.language, self.line_numbers))


class _HighlightTag(Tag):
    """Jekyll's `{% highlight LANG [linenos] %}...{% endhighlight %}`, coloured by Pygments."""

    name = "highlight"
    end = "endhighlight"

    def parse(self, stream):
        from liquid.parser import get_parser
        from liquid.token import TOKEN_EOF

        token = stream.eat(TOKEN_TAG)
        words = []
        if stream.current.kind == TOKEN_EXPRESSION:
            words = stream.current.value.split()
            next(stream)
        block = get_parser(self.env).parse_block(stream, frozenset(("endhighlight", TOKEN_EOF)))
        stream.expect(TOKEN_TAG, value="endhighlight")
        return _HighlightNode(token, words[0] if words else "text", "linenos" in words[1:], block)


def highlight_block(code: str, language: str, line_numbers: bool) -> str:
    """A raw HTML block (blank lines around it, so Markdown passes it through untouched), shaped
    as Jekyll's: `<figure class="highlight"><pre><code class="language-x" data-lang="x">`."""
    from html import escape

    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    if line_numbers:
        formatter = HtmlFormatter(cssclass="highlight", linenos="table")
    else:
        formatter = HtmlFormatter(nowrap=True)
    code_html = highlight(code.strip("\n") + "\n", lexer, formatter).strip("\n")
    name = escape(language)
    return (f'\n\n<figure class="highlight"><pre><code class="language-{name}" data-lang="{name}">'
            f"{code_html}</code></pre></figure>\n\n")


# --- Jekyll's filters -------------------------------------------------------------------

def _jekyll_filters(baseurl: str, url: str, tz: tzinfo | None = None) -> dict[str, Any]:
    def relative_url(value: Any) -> str:
        path = str(value or "")
        if re.match(r"^[a-z][a-z0-9+.-]*:", path):
            return path
        return baseurl + "/" + path.lstrip("/") if path else baseurl + "/"

    def absolute_url(value: Any) -> str:
        path = str(value or "")
        return path if re.match(r"^[a-z][a-z0-9+.-]*:", path) else url + relative_url(path)

    def date_filter(name: str, show):
        def apply(value: Any) -> Any:
            if value is None or isinstance(value, Undefined) or value == "":
                return value  # Jekyll: "nothing" stays nothing
            return show(_as_date(value, name, tz))

        return apply

    return {
        "relative_url": relative_url,
        "absolute_url": absolute_url,
        "xml_escape": lambda v: escape(str(v if v is not None else ""), quote=False),
        "cgi_escape": lambda v: quote_plus(str(v)),
        "uri_escape": lambda v: quote(str(v), safe="/:?#[]@!$&'()*+,;="),
        "jsonify": lambda v: json.dumps(v, ensure_ascii=False, default=str),
        "number_of_words": lambda v: len(str(v).split()),
        "slugify": lambda v: slugify(str(v)),
        "date_to_xmlschema": date_filter("date_to_xmlschema", lambda d: d.isoformat()),
        "date_to_string": date_filter("date_to_string", lambda d: d.strftime("%d %b %Y")),
        "date_to_long_string": date_filter("date_to_long_string", lambda d: d.strftime("%d %B %Y")),
        "date_to_vi": date_filter("date_to_vi", vi_date),
    }


def _as_date(value: Any, name: str, tz: tzinfo | None) -> date:
    """Jekyll's reading of a date: a date or time as it is, an integer as a Unix time, a string
    in ISO form ("2018-06-28", "2018-06-28 10:00:00 +0700"); anything else is an error."""
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, tz)
        except (OverflowError, OSError, ValueError):
            pass
    elif isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise FilterArgumentError(f"{name}: {_shown(value)} is not a valid date or time", token=None)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
