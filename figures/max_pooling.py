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
REGION_COLOURS = ["#d6e6f7", "#fde3c4", "#d5efdf", "#f5d5d2"]
REGION_EDGES = [S.BLUE, S.ORANGE, S.GREEN, S.RED]


def compute(rng) -> dict:
    # Sixteen different numbers, so every region has exactly one maximum.
    grid = torch.tensor(rng.choice(range(1, 21), size=16, replace=False).reshape(4, 4),
                        dtype=torch.float32)
    pooled, indices = F.max_pool2d(grid[None, None], kernel_size=2, stride=2, return_indices=True)
    return {"input": grid.int().tolist(), "output": pooled[0, 0].int().tolist(),
            "argmax": indices[0, 0].tolist()}


def draw_grid(ax, values, x0, y0, cell, colour_of, bold=()) -> None:
    rows = len(values)
    for r, row in enumerate(values):
        for c, value in enumerate(row):
            region = colour_of(r, c)
            x, y = x0 + c * cell, y0 + (rows - 1 - r) * cell
            ax.add_patch(Rectangle((x, y), cell, cell, facecolor=REGION_COLOURS[region],
                                   edgecolor="white", linewidth=3))
            strong = (r, c) in bold
            if strong:
                ax.add_patch(Rectangle((x + 0.08 * cell, y + 0.08 * cell), 0.84 * cell, 0.84 * cell,
                                       fill=False, edgecolor=REGION_EDGES[region], linewidth=4))
            ax.text(x + cell / 2, y + cell / 2, str(value), ha="center", va="center",
                    fontsize=S.BODY + 4 if strong else S.BODY,
                    fontweight="bold" if strong else "normal", color=S.INK if strong else S.MUTED)


def make(ctx):
    data = compute(ctx.rng)
    fig = S.figure(5.2)
    top = S.title_block(fig, "Max pooling 2×2, bước trượt 2",
                        "Mỗi vùng màu giữ lại số lớn nhất (ô có viền). Các số do "
                        "F.max_pool2d của PyTorch tính từ một lưới ngẫu nhiên.")
    ax = fig.add_axes([0.02, 0.1, 0.96, top - 0.12])
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4.6)
    ax.set_aspect("equal")
    ax.axis("off")
    width = 4
    maxima = {(i // width, i % width) for row in data["argmax"] for i in row}
    draw_grid(ax, data["input"], 0.2, 0.3, 1.0, lambda r, c: (r // 2) * 2 + c // 2, maxima)
    draw_grid(ax, data["output"], 6.6, 1.3, 1.0, lambda r, c: r * 2 + c,
              bold={(r, c) for r in range(2) for c in range(2)})
    ax.add_patch(FancyArrowPatch((4.45, 2.3), (6.35, 2.3), arrowstyle="-|>", mutation_scale=40,
                                 linewidth=3, color=S.MUTED))
    ax.text(5.4, 2.75, "max", ha="center", fontsize=S.BODY, color=S.MUTED)
    ax.text(2.2, 4.45, "Đầu vào 4×4", ha="center", fontsize=S.BODY, fontweight="bold")
    ax.text(7.6, 3.45, "Đầu ra 2×2", ha="center", fontsize=S.BODY, fontweight="bold")
    ctx.save(fig, "/images/post2/4.jpg")
    return data


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
