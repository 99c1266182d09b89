"""Math-heavy posts of the kinds machine-learning blogs carry, for the math fixture and benchmarks.

    python bench/mathcorpus.py > tests/sites/math/_posts/2024-05-01-toi-uu-va-hoc-may.md

`make_post(seed, formulas)` writes a Vietnamese post with exactly that many formulas: macros
defined once (`\\newcommand`, `\\def`, `\\DeclareMathOperator`) and used later, numbered equations
with `\\label` and `\\eqref` (one reference comes before its label), `\\tag`, aligned and cases
environments, matrices, norms, sets with `\\{ \\}`, sums and products, `\\text{}` in Vietnamese,
inline math in list items and tables. Different seeds give different formulas of the same kinds.
"""

from __future__ import annotations

import random
import sys

LETTERS = "abcdfghkmpqrstuvwxyz"
VECTORS = ["x", "w", "z", "u", "v", "h"]
GREEK = ["\\alpha", "\\beta", "\\gamma", "\\lambda", "\\mu", "\\eta", "\\theta", "\\sigma", "\\tau", "\\rho"]
TITLE = "Tối ưu và học máy: ghi chép có nhiều công thức"
MACROS = ("\\newcommand{\\R}{\\mathbb{R}} \\def\\E{\\mathbb{E}} \\DeclareMathOperator*{\\argmin}{arg\\,min}"
          " \\newcommand{\\norm}[1]{\\left\\lVert #1 \\right\\rVert} \\newcommand{\\vect}[1]{\\mathbf{#1}}")


class _Post:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.lines: list[str] = []
        self.count = 0
        self.labels: list[str] = []

    def pick(self, options):
        return self.rng.choice(options)

    def n(self, low: int = 2, high: int = 9) -> int:
        return self.rng.randint(low, high)

    def inline(self, tex: str) -> str:
        self.count += 1
        return f"${tex}$"

    def display(self, tex: str) -> None:
        self.count += 1
        self.lines += ["", f"$${tex}$$", ""]

    def para(self, text: str) -> None:
        self.lines += ["", text, ""]


def _inline_sentence(p: _Post) -> None:
    v, g, k = p.pick(VECTORS), p.pick(GREEK), p.n()
    space = p.inline(f"\\vect{{{v}}} \\in \\R^{{{k}}}")
    positive = p.inline(f"{g} > 0")
    norm = p.inline(f"\\norm{{\\vect{{{v}}}}}_2^2 = \\sum_{{i=1}}^{{{k}}} {v}_i^2")
    vector = p.inline(f"\\vect{{{v}}}")
    p.para(f"Với {space} và {positive}, ta xét {norm}, tức là bình phương độ dài của {vector}.")


def _least_squares(p: _Post) -> None:
    w, lam = p.pick(["w", "\\theta", "\\beta"]), p.pick(GREEK)
    p.para("Bài toán bình phương tối thiểu có điều chuẩn:")
    p.display(f"\\hat{{{w}}} = \\argmin_{{{w} \\in \\R^d}} \\frac{{1}}{{2n}} \\sum_{{i=1}}^{{n}} "
              f"\\left( y_i - {w}^\\top x_i \\right)^2 + \\frac{{{lam}}}{{2}} \\norm{{{w}}}_2^2")


def _aligned(p: _Post) -> None:
    a, b = p.n(), p.n()
    p.para("Khai triển từng bước:")
    p.display(f"\\begin{{aligned}} \\nabla_w \\mathcal{{L}}(w) &= \\frac{{1}}{{n}} X^\\top (X w - y) + "
              f"{a}\\lambda w \\\\ &= \\frac{{1}}{{n}} \\left( X^\\top X + {a} n \\lambda I \\right) w - "
              f"\\frac{{1}}{{n}} X^\\top y \\\\ &\\approx {b} \\cdot 10^{{-{a}}} \\end{{aligned}}")


def _cases(p: _Post) -> None:
    t = p.n(0, 3)
    p.para("Hàm kích hoạt được định nghĩa theo từng khúc:")
    p.display(f"f(x) = \\begin{{cases}} x & \\text{{nếu }} x > {t} \\\\ {t} & \\text{{ngược lại, "
              f"khi }} x \\le {t} \\end{{cases}}")


def _matrix(p: _Post) -> None:
    a, b, c = p.n(), p.n(), p.n()
    kind = p.pick(["pmatrix", "bmatrix", "vmatrix"])
    p.para("Ma trận Hessian của hàm bậc hai này là")
    p.display(f"H = \\begin{{{kind}}} {a} & {b} & 0 \\\\ {b} & {c} & \\frac{{1}}{{{a}}} \\\\ 0 & "
              f"\\frac{{1}}{{{a}}} & {a + c} \\end{{{kind}}}, \\quad \\det H = {a * c - b * b}")


def _set(p: _Post) -> None:
    t = p.n(1, 5)
    ball = p.inline(f"\\{{ x \\in \\R^d : \\norm{{x}}_1 \\le {t} \\}}")
    cube = p.inline("\\{ 0, 1 \\}^d")
    p.para(f"Tập ràng buộc là {ball}, một đa diện lồi; còn {cube} thì không lồi.")


def _numbered(p: _Post) -> None:
    label = f"eq:{len(p.labels) + 1}"
    p.labels.append(label)
    k = p.n()
    p.para("Ta có đẳng thức được đánh số sau:")
    p.display(f"\\begin{{equation}} \\E_{{x \\sim p}} \\left[ \\log \\frac{{p(x)}}{{q(x)}} \\right] = "
              f"\\sum_{{j=1}}^{{{k}}} p_j \\log \\frac{{p_j}}{{q_j}} \\ge 0 \\label{{{label}}} "
              f"\\end{{equation}}")
    reference = p.inline(f"\\eqref{{{label}}}")
    p.para(f"Theo {reference}, phân kỳ KL không âm.")


def _align_numbered(p: _Post) -> None:
    first = f"eq:{len(p.labels) + 1}"
    p.labels.append(first)
    p.para("Hai bước của thuật toán EM:")
    p.display(f"\\begin{{align}} Q(\\theta \\mid \\theta^{{(t)}}) &= \\E_{{z \\mid x, \\theta^{{(t)}}}} "
              f"\\left[ \\log p(x, z \\mid \\theta) \\right] \\label{{{first}}} \\\\ \\theta^{{(t+1)}} &= "
              f"\\argmin_\\theta -Q(\\theta \\mid \\theta^{{(t)}}) \\notag \\end{{align}}")


def _softmax(p: _Post) -> None:
    k = p.n(3, 12)
    p.para("Xác suất theo softmax và hàm mất mát entropy chéo:")
    p.display(f"p(y = c \\mid x) = \\frac{{\\exp(z_c)}}{{\\sum_{{j=1}}^{{{k}}} \\exp(z_j)}}, \\qquad "
              f"\\mathcal{{L}} = -\\sum_{{c=1}}^{{{k}}} y_c \\log p(y = c \\mid x)")


def _attention(p: _Post) -> None:
    d = p.pick([32, 64, 128])
    p.para("Cơ chế chú ý (attention) tính")
    p.display(f"\\operatorname{{Attention}}(Q, K, V) = \\operatorname{{softmax}} \\left( "
              f"\\frac{{Q K^\\top}}{{\\sqrt{{d_k}}}} \\right) V, \\quad d_k = {d}")


def _gaussian(p: _Post) -> None:
    m = p.pick(["\\mu", "m", "\\mu_k"])
    p.para("Mật độ của phân phối chuẩn nhiều chiều:")
    p.display(f"\\mathcal{{N}}(x \\mid {m}, \\Sigma) = \\frac{{1}}{{(2\\pi)^{{d/2}} |\\Sigma|^{{1/2}}}} "
              f"\\exp\\left( -\\frac{{1}}{{2}} (x - {m})^\\top \\Sigma^{{-1}} (x - {m}) \\right)")


def _list(p: _Post) -> None:
    eta, b = p.pick(["0.1", "0.01", "10^{-3}"]), p.pick([16, 32, 64, 128])
    rate, batch = p.inline(f"\\eta = {eta}"), p.inline(f"B = {b}")
    steps = p.inline(f"T = {p.n(10, 99)} \\cdot 10^3")
    beta1, beta2 = p.inline("\\beta_1 = 0.9"), p.inline("\\beta_2 = 0.999")
    p.lines += ["", "Các siêu tham số:", "", f"- tốc độ học {rate};",
                f"- kích thước lô {batch}, số bước {steps};", f"- hệ số quán tính {beta1} và {beta2}.", ""]


def _table(p: _Post) -> None:
    rows = [("bình phương", "\\frac{1}{2}(y - \\hat y)^2", "\\hat y - y"),
            ("logistic", "\\log(1 + e^{-y f})", "\\frac{-y}{1 + e^{y f}}"),
            ("hinge", "\\max(0, 1 - y f)", "-y \\, \\mathbb{1}[y f < 1]")]
    p.lines += ["", "| Hàm mất mát | Công thức | Đạo hàm |", "|---|---|---|"]
    p.lines += [f"| {name} | {p.inline(loss)} | {p.inline(grad)} |" for name, loss, grad in rows]
    p.lines.append("")


def _text_vi(p: _Post) -> None:
    n = p.n(2, 20)
    p.display(f"\\text{{độ chính xác}} = \\frac{{\\text{{số mẫu đoán đúng}}}}{{\\text{{tổng số mẫu}}}} "
              f"\\approx {n / 21:.3f}")
    sample, pair = p.inline("\\text{mẫu}"), p.inline("(x_i, y_i)")
    p.para(f"Ở đây {sample} nghĩa là một cặp {pair} trong tập kiểm thử.")


def _underbrace(p: _Post) -> None:
    p.para("Sai số kỳ vọng tách thành ba phần:")
    p.display("\\E\\left[ (y - \\hat f(x))^2 \\right] = \\underbrace{\\left( \\E[\\hat f(x)] - f(x) "
              "\\right)^2}_{\\text{độ lệch}^2} + \\underbrace{\\operatorname{Var}[\\hat f(x)]}"
              "_{\\text{phương sai}} + \\sigma^2")


def _tag(p: _Post) -> None:
    g = p.pick(GREEK)
    p.display(f"w_{{t+1}} = w_t - {g} \\, \\nabla \\mathcal{{L}}(w_t) \\tag{{GD}}")


def _product_integral(p: _Post) -> None:
    n = p.n(3, 9)
    count = p.inline(f"n = {n}")
    p.para(f"Hợp lý cực đại với {count} mẫu độc lập, và chuẩn hoá bằng tích phân:")
    p.display(f"L(\\theta) = \\prod_{{i=1}}^{{{n}}} p(x_i \\mid \\theta), \\qquad "
              f"\\int_{{-\\infty}}^{{\\infty}} p(x \\mid \\theta) \\, dx = 1")


def _gradient_partial(p: _Post) -> None:
    v = p.pick(LETTERS)
    variable = p.inline(f"{v}_j")
    partial = p.inline(f"\\frac{{\\partial f}}{{\\partial {v}_j}}")
    gradient = p.inline(f"\\nabla_{{{v}}} f = \\left( \\frac{{\\partial f}}{{\\partial {v}_1}}, \\dots, "
                        f"\\frac{{\\partial f}}{{\\partial {v}_d}} \\right)^\\top")
    p.para(f"Đạo hàm riêng theo {variable} là {partial}, còn gradient {gradient}.")


SECTIONS = [_inline_sentence, _least_squares, _aligned, _cases, _matrix, _set, _numbered, _softmax,
            _list, _attention, _gaussian, _table, _text_vi, _align_numbered, _underbrace, _tag,
            _product_integral, _gradient_partial]


def make_post(seed: int = 0, formulas: int = 250, title: str = TITLE) -> str:
    """A post with exactly `formulas` formulas (at least 40)."""
    p = _Post(seed)
    macros, forward = p.inline(MACROS), p.inline("\\eqref{eq:cuoi}")
    p.para(f"Các ký hiệu dùng trong bài {macros} được định nghĩa một lần ở đây; phương trình "
           f"{forward} ở cuối bài được nhắc tới trước khi xuất hiện.")
    section = 0
    while True:
        before = (list(p.lines), p.count, list(p.labels))
        p.lines += ["", f"## Phần {section + 1}: {HEADINGS[section % len(HEADINGS)]}", ""]
        for make in SECTIONS[section % 3::3]:
            make(p)
        if p.count > formulas - 1:
            p.lines, p.count, p.labels = before
            break
        section += 1
    while p.count < formulas - 1:
        symbol = p.inline(f"{p.pick(GREEK)}_{{{p.count}}}")
        p.para(f"Thêm một ký hiệu: {symbol}.")
    p.display("\\begin{equation} \\mathcal{L}_{\\text{tổng}} = \\mathcal{L}_{\\text{dữ liệu}} + "
              "\\lambda \\, \\Omega(\\theta) \\label{eq:cuoi} \\end{equation}")
    front = f'---\ntitle: "{title}"\ncategories: [Học máy, Tối ưu]\nmathjax: true\n---\n'
    body = "\n".join(p.lines)
    while "\n\n\n" in body:
        body = body.replace("\n\n\n", "\n\n")
    return front + body.strip() + "\n"


HEADINGS = ["Ký hiệu", "Hồi quy", "Tối ưu lồi", "Xác suất", "Mạng nơ-ron", "Điều chuẩn", "Phân loại",
             "Mô hình sinh"]


if __name__ == "__main__":
    sys.stdout.write(make_post(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
