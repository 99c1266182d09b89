"""Max pooling 2x2 with stride 2 on a 4x4 map: each coloured region keeps its largest value.

The input is a random integer grid; the output and the positions of the maxima come from
`torch.nn.functional.max_pool2d`, and those are the numbers drawn.
"""

import _style as S
import torch
import torch.nn.functional as F
from matplotlib.patches import FancyArrowPatch, Rectangle

OUTPUTS = {"/images/post2/4.jpg": "Max pooling 2×2: lưới 4×4 chia thành bốn vùng màu, mỗi vùng giữ "
                                  "lại số lớn nhất, cho ra lưới 2×2"}
SEED = 4


def region_edges() -> list[str]:
    """One hue per pooling region, from the palette in use."""
    return [S.BLUE, S.ORANGE, S.GREEN, S.RED]


def compute(rng) -> dict:
    # Sixteen different numbers, so every region has exactly one maximum.
    grid = torch.tensor(rng.choice(range(1, 21), size=16, replace=False).reshape(4, 4),
                        dtype=torch.float32)
    pooled, indices = F.max_pool2d(grid[None, None], kernel_size=2, stride=2, return_indices=True)
    return {"input": grid.int().tolist(), "output": pooled[0, 0].int().tolist(),
            "argmax": indices[0, 0].tolist()}


CELL = 112  # px
LINE = 3.5  # pt, the border of a kept maximum


def draw_grid(ax, values, x0, y0, colour_of, bold=()) -> None:
    """A grid of numbers in pixel coordinates (y grows downwards); cells in `bold` are the maxima:
    framed inside their cell, with room between the frame and the number."""
    edges = region_edges()
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            region = colour_of(r, c)
            x, y = x0 + c * CELL, y0 + r * CELL
            ax.add_patch(Rectangle((x, y), CELL, CELL, facecolor=S.tint(edges[region]), edgecolor=S.PAPER,
                                   linewidth=3))
            strong = (r, c) in bold
            if strong:
                inset = 0.09 * CELL
                ax.add_patch(Rectangle((x + inset, y + inset), CELL - 2 * inset, CELL - 2 * inset, fill=False,
                                       edgecolor=edges[region], linewidth=LINE))
            ax.text(x + CELL / 2, y + CELL / 2, str(value), ha="center", va="center", fontsize=S.BODY,
                    fontweight="bold" if strong else "normal", color=S.INK if strong else S.MUTED)


def make(ctx):
    data = compute(ctx.rng)
    ctx.save(S.themed(draw, data), "/images/post2/4.jpg")
    return data


def draw(data):
    title = "Max pooling 2×2, bước trượt 2"
    subtitle = ("Mỗi vùng màu 2×2 chỉ giữ lại số lớn nhất (ô có viền): lưới 4×4 còn 2×2, số chiều giảm bốn "
                "lần. Các số do F.max_pool2d của PyTorch tính từ một lưới ngẫu nhiên.")
    head = S.header_height_px(title, subtitle)
    label_px = 70
    height_px = head + label_px + 4 * CELL + 50
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    ax = L.canvas(S.MARGIN_PX, head + label_px, width, 4 * CELL)
    left_in, left_out = 40, width - 40 - 2 * CELL
    maxima = {(i // 4, i % 4) for row in data["argmax"] for i in row}
    draw_grid(ax, data["input"], left_in, 0, lambda r, c: (r // 2) * 2 + c // 2, maxima)
    draw_grid(ax, data["output"], left_out, CELL, lambda r, c: r * 2 + c,
              bold={(r, c) for r in range(2) for c in range(2)})
    arrow_y, start, end = 2 * CELL, left_in + 4 * CELL + 50, left_out - 50
    ax.add_patch(FancyArrowPatch((start, arrow_y), (end, arrow_y), arrowstyle="-|>", mutation_scale=40,
                                 linewidth=3, color=S.MUTED))
    L.text(S.MARGIN_PX + (start + end) / 2, head + label_px + arrow_y - 90, "max", ha="center",
           fontsize=S.BODY, color=S.MUTED)
    L.text(S.MARGIN_PX + left_in + 2 * CELL, head, "Đầu vào 4×4", ha="center", fontsize=S.BODY,
           fontweight="bold")
    L.text(S.MARGIN_PX + left_out + CELL, head + label_px + CELL - label_px, "Đầu ra 2×2", ha="center",
           fontsize=S.BODY, fontweight="bold")
    return fig


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
