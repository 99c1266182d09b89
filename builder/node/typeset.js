// Typesets TeX with MathJax for `blog build`: one process per build, one page per line.
//
//   node typeset.js '<options as JSON>' WORKERS
//
// First it prints one line describing the stylesheet every page shares:
//   {"version": "3.2.2", "base": "<css>", "wrappers": "<css>"}
// Then, for each line read from stdin,
//   {"page": ID, "items": [{"tex": "...", "display": true, "want": true}, ...]}
// it prints one line, in the order the pages came,
//   {"page": ID, "results": [{"html": "...", "chars": ["<css rule>", ...], "error": null, "width": 3.2}, null]}
// with a result for every item whose `want` is true (null for the others). All items of a line
// are one page: `\newcommand` and `\def` apply to the later formulas, `\label`/`\eqref` and
// equation numbers work across them (forward references too), and nothing carries over to the
// next page. Items with `want: false` are compiled only, for the state they leave behind.
//
// Pages are independent, so the process typesets them on one worker thread per core (each with
// its own MathJax), handing a worker its next page when it is done with one.
'use strict';

const readline = require('readline');
const {Worker, isMainThread, parentPort, workerData} = require('worker_threads');

function startMathJax(options) {
  const {mathjax} = require('mathjax-full/js/mathjax.js');
  const {TeX} = require('mathjax-full/js/input/tex.js');
  const {CHTML} = require('mathjax-full/js/output/chtml.js');
  const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
  const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
  const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
  const {CssStyles} = require('mathjax-full/js/util/StyleList.js');
  require('mathjax-full/js/input/tex/AllPackages.js');  // registers every standard package
  const {VERSION} = require('mathjax-full/js/components/version.js');

  const adaptor = liteAdaptor();
  AssistiveMmlHandler(RegisterHTMLHandler(adaptor));  // its stylesheet rules, and toMML()
  const chtml = new CHTML(options.chtml || {});
  // Metrics of a 16px font with an ex of 8px: the browser's defaults; with matchFontHeight off
  // (see the options) the scale does not depend on the reader's font, so the boxes match.
  const EM = 16, EX = 8;

  // The lite adaptor cannot measure text MathJax has no glyphs for (Vietnamese letters in
  // \text{}): it says 0. Estimate such a letter by the width of its base letter in MathJax's own
  // font ("ậ" as "a"), about what the reader's serif fallback shows. In ems, as a browser says.
  adaptor.nodeSize = (node) => {
    let width = 0;
    for (const char of adaptor.textContent(node)) {
      const base = char.normalize('NFD').codePointAt(0);
      width += (chtml.font.getChar('normal', base) || chtml.font.getChar('normal', 0x6F))[2];
    }
    return [width, 0];
  };

  // The box of the formula just typeset, kept from the wrapper tree MathJax builds anyway.
  let lastBox = null;
  chtml.processMath = function (math, parent) {
    const wrapper = this.factory.wrap(math);
    wrapper.toCHTML(parent);
    lastBox = wrapper.getOuterBBox();
  };

  // The parts of the stylesheet that do not depend on which characters are used: the common
  // rules, the hidden MathML's, @font-face, and every wrapper's rules (adaptive CSS would list
  // only the wrappers used, but a site-wide sheet must cover every page).
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

  // The stylesheet rule of each character (or stretchy delimiter part) the formula uses; the
  // same characters recur in every formula, so each rule is written once.
  const rules = new Map();
  function charRules(styles) {
    return Object.keys(styles).map((selector) => {
      if (!rules.has(selector)) rules.set(selector, new CssStyles({[selector]: styles[selector]}).cssText);
      return rules.get(selector);
    });
  }

  function escapeText(text) {
    return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }

  // The hidden MathML screen readers use, as MathJax's assistive-mml extension writes it, with
  // the TeX in the standard place: <math><semantics>…<annotation encoding="application/x-tex">.
  function assistiveMathML(doc, math) {
    const mml = doc.toMML(math.root).replace(/\n */g, '').replace(/<!--.*?-->/g, '');
    const open = mml.indexOf('>') + 1, close = mml.lastIndexOf('</math>');
    const annotation = `<annotation encoding="application/x-tex">${escapeText(math.math)}</annotation>`;
    const semantics = `<semantics><mrow>${mml.slice(open, close)}</mrow>${annotation}</semantics>`;
    const display = math.display ? 'block' : 'inline';
    return `<mjx-assistive-mml unselectable="on" display="${display}">${mml.slice(0, open)}${semantics}</math>`
      + '</mjx-assistive-mml>';
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
      const root = m.typesetRoot;
      // What the assistive-mml extension does to the visible part: hidden from screen readers,
      // which read the MathML instead; an \eqref link in it must then not take focus either.
      adaptor.setAttribute(adaptor.firstChild(root), 'aria-hidden', 'true');
      adaptor.setStyle(root, 'position', 'relative');
      for (const link of adaptor.tags(root, 'a')) {
        adaptor.setAttribute(link, 'tabindex', '-1');
      }
      const html = adaptor.outerHTML(root);
      const end = html.lastIndexOf('</mjx-container>');
      return {
        html: html.slice(0, end) + assistiveMathML(doc, m) + html.slice(end),
        chars: charRules(chtml.font.updateStyles({})),
        error: texError(m.root),
        width: item.display ? lastBox.w : 0,  // in ems of the math (before scaling)
      };
    });
  }

  return {stylebook, typesetPage};
}

function workerMain() {
  const mathjax = startMathJax(workerData.options);
  if (workerData.stylebook) parentPort.postMessage({stylebook: mathjax.stylebook()});
  parentPort.on('message', (job) => {
    try {
      parentPort.postMessage({page: job.page, results: mathjax.typesetPage(job.items)});
    } catch (err) {
      parentPort.postMessage({page: job.page, failure: String((err && err.stack) || err)});
    }
  });
}

function main() {
  const options = JSON.parse(process.argv[2] || '{}');
  const count = Math.max(1, parseInt(process.argv[3], 10) || 1);
  const waiting = [];       // pages read, not yet handed to a worker
  const idle = [];          // workers with nothing to do (a new one queues its page until loaded)
  const order = [];         // page ids in the order they came
  const done = new Map();   // page id -> its line, until the pages before it are written
  let written = 0, closed = false, stylebook = false;

  const write = () => {
    if (!stylebook) return;  // the stylebook line comes first
    while (written < order.length && done.has(order[written])) {
      process.stdout.write(done.get(order[written]) + '\n');
      done.delete(order[written++]);
    }
    if (closed && written === order.length) workers.forEach((worker) => worker.terminate());
  };
  const dispatch = () => {
    while (idle.length && waiting.length) idle.pop().postMessage(waiting.shift());
  };
  const workers = Array.from({length: count}, (_, i) => {
    const worker = new Worker(__filename, {workerData: {options, stylebook: i === 0}});
    worker.on('message', (message) => {
      if (message.stylebook) {
        process.stdout.write(JSON.stringify(message.stylebook) + '\n');
        stylebook = true;
      } else {
        done.set(message.page, JSON.stringify(message));
        idle.push(worker);
      }
      write();
      dispatch();
    });
    worker.on('error', (err) => {
      process.stderr.write(`MathJax worker failed: ${(err && err.stack) || err}\n`);
      process.exit(1);
    });
    idle.push(worker);
    return worker;
  });
  const input = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
  input.on('line', (line) => {
    if (!line.trim()) return;
    const job = JSON.parse(line);
    order.push(job.page);
    waiting.push(job);
    dispatch();
  });
  input.on('close', () => {
    closed = true;
    write();
  });
}

if (isMainThread) {
  main();
} else {
  workerMain();
}
