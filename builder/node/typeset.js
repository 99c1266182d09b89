// Typesets TeX with MathJax for `blog build`: one process per build, one page per line.
//
//   node typeset.js '<options as JSON>'
//
// First it prints one line describing the stylesheet every page shares:
//   {"version": "3.2.2", "base": "<css>", "wrappers": "<css>"}
// Then, for each line read from stdin,
//   {"page": ID, "items": [{"tex": "...", "display": true, "want": true}, ...]}
// it prints one line
//   {"page": ID, "results": [{"html": "...", "chars": ["<css rule>", ...], "error": null, "width": 3.2}, null]}
// with a result for every item whose `want` is true (null for the others). All items of a line
// are one page: `\newcommand` and `\def` apply to the later formulas, `\label`/`\eqref` and
// equation numbers work across them (forward references too), and nothing carries over to the
// next page. Items with `want: false` are compiled only, for the state they leave behind.
'use strict';

const readline = require('readline');
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {CHTML} = require('mathjax-full/js/output/chtml.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
const {CssStyles} = require('mathjax-full/js/util/StyleList.js');
require('mathjax-full/js/input/tex/AllPackages.js');  // registers every standard package
const {VERSION} = require('mathjax-full/js/components/version.js');

const options = JSON.parse(process.argv[2] || '{}');
const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
const chtml = new CHTML(options.chtml || {});
// Metrics of a 16px font with an ex of 8px: the browser's defaults; with matchFontHeight off
// (see the options) the scale does not depend on the reader's font, so the boxes match.
const EM = 16, EX = 8;

// The lite adaptor cannot measure text MathJax has no glyphs for (Vietnamese letters in \text{}):
// it says 0. Estimate such a letter by the width of its base letter in MathJax's own font
// ("ậ" as "a"), which is what the reader's serif fallback shows, give or take its diacritics.
adaptor.nodeSize = (node) => {  // in ems, as the browser adaptor answers
  let width = 0;
  for (const char of adaptor.textContent(node)) {
    const base = char.normalize('NFD').codePointAt(0);
    const data = chtml.font.getChar('normal', base) || chtml.font.getChar('normal', 0x6F);  // else an "o"
    width += data[2];
  }
  return [width, 0];
};

function styleRules(styles) {
  return new CssStyles(styles).getStyleRules();
}

// The stylesheet parts that do not depend on which characters are used: the common rules,
// the hidden MathML's, @font-face, and every wrapper's rules (the adaptive CSS would list only
// the wrappers used, but a site-wide sheet must cover every page).
function stylebook() {
  const doc = mathjax.document('', {InputJax: new TeX({packages: ['base']}), OutputJax: chtml});
  chtml.clearCache();
  const base = adaptor.textContent(chtml.styleSheet(doc));
  const wrappers = new CssStyles();
  for (const kind of chtml.factory.getKinds()) {
    chtml.addClassStyles(chtml.factory.getNodeClass(kind), wrappers);
  }
  chtml.clearCache();
  return {version: VERSION, base, wrappers: wrappers.cssText};
}

// The first error message in a compiled formula, or null.
function texError(root) {
  let message = null;
  root.walkTree((node) => {
    if (message === null && node.isKind('merror')) {
      message = node.attributes.get('data-mjx-error') || node.attributes.get('title') || 'TeX error';
    }
  });
  return message;
}

// The TeX source in the standard place: <math><semantics>…<annotation encoding="application/x-tex">.
function annotate(container, tex) {
  const assistive = adaptor.tags(container, 'mjx-assistive-mml')[0];
  const math = assistive && adaptor.firstChild(assistive);
  if (!math) return;
  const children = [...adaptor.childNodes(math)];
  children.forEach((child) => adaptor.remove(child));
  const presentation = children.length === 1 ? children[0] : adaptor.node('mrow', {}, children);
  const annotation = adaptor.node('annotation', {encoding: 'application/x-tex'}, [adaptor.text(tex)]);
  adaptor.append(math, adaptor.node('semantics', {}, [presentation, annotation]));
}

// MathJax hides its visual output from screen readers (aria-hidden), which read the MathML
// instead; an \eqref link inside it must then not take keyboard focus either.
function unfocusLinks(container) {
  for (const link of adaptor.tags(container, 'a')) {
    adaptor.setAttribute(link, 'tabindex', '-1');
  }
}

function typesetPage(items) {
  // A fresh input jax per page: its macros, labels and equation counter start empty.
  const tex = new TeX(options.tex || {});
  const doc = mathjax.document('', {InputJax: tex, OutputJax: chtml});
  const body = adaptor.body(doc.document);
  const math = items.map((item) => {
    const m = new doc.options.MathItem(item.tex, tex, item.display);
    m.start.node = body;
    m.setMetrics(EM, EX, 80 * EX, 1000000, 1);
    doc.math.push(m);
    return m;
  });
  doc.compile();  // all items, in order; those with forward references are compiled again
  return items.map((item, i) => {
    if (!item.want) return null;
    const m = math[i];
    chtml.font.clearCache();
    m.typeset(doc);
    m.assistiveMml(doc, true);
    annotate(m.typesetRoot, item.tex);
    unfocusLinks(m.typesetRoot);
    const html = adaptor.outerHTML(m.typesetRoot);
    return {
      html,
      chars: styleRules(chtml.font.updateStyles({})),
      error: texError(m.root),
      width: item.display ? chtml.getBBox(m, doc).w : 0,  // in ems of the math (before scaling)
    };
  });
}

process.stdout.write(JSON.stringify(stylebook()) + '\n');
const input = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
input.on('line', (line) => {
  if (!line.trim()) return;
  const job = JSON.parse(line);
  let results;
  try {
    results = typesetPage(job.items);
  } catch (err) {
    process.stdout.write(JSON.stringify({page: job.page, failure: String(err && err.stack || err)}) + '\n');
    return;
  }
  process.stdout.write(JSON.stringify({page: job.page, results}) + '\n');
});
