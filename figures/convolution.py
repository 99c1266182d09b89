"""Convolution: a 3x3 vertical-edge kernel slides over an integer grid (numbers from
`F.conv2d`), and the same kernel applied to a real photograph shipped with scikit-image."""

import _style as S
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle
from skimage import data as skdata

OUTPUTS = {"/images/post2/2.jpg": "Tích chập: lưới số 6×6 nhân với bộ lọc cạnh dọc 3×3 cho ra lưới 4×4, "
                                  "kèm phép tính của một ô; bên dưới là cùng bộ lọc áp lên ảnh chụp"}
SEED = 2
KERNEL = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]  # responds to bright-left / dark-right edges
WINDOW = (1, 1)  # top-left corner of the highlighted window


def compute(rng) -> dict:
    # Bright left half, dark right half: the kernel should light up along the boundary.
    grid = np.where(np.arange(6)[None, :] < 3, rng.integers(5, 10, (6, 6)), rng.integers(0, 4, (6, 6)))
    x = torch.tensor(grid, dtype=torch.float32)[None, None]
    k = torch.tensor(KERNEL, dtype=torch.float32)[None, None]
    out = F.conv2d(x, k)[0, 0]
    r, c = WINDOW
    return {"input": grid.tolist(), "kernel": KERNEL, "output": out.int().tolist(),
            "window": list(WINDOW), "window_value": int(out[r, c])}


def grid(ax, values, x0, y0, cell, face, highlight=None, edge=S.ORANGE, size=S.SMALL) -> None:
    rows = len(values)
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            y = y0 + (rows - 1 - r) * cell
            ax.add_patch(Rectangle((x0 + c * cell, y), cell, cell, facecolor=face(v), edgecolor="white",
                                   linewidth=2))
            ax.text(x0 + (c + 0.5) * cell, y + cell / 2, f"{v:g}".replace("-", "−"), ha="center",
                    va="center", fontsize=size)
    if highlight:
        (r0, c0), (h, w) = highlight
        ax.add_patch(Rectangle((x0 + c0 * cell, y0 + (rows - r0 - h) * cell), w * cell, h * cell,
                               fill=False, edgecolor=edge, linewidth=5))


def arithmetic(data) -> str:
    r0, c0 = data["window"]
    lines = []
    for i, krow in enumerate(data["kernel"]):
        terms = [f"{data['input'][r0 + i][c0 + j]}×{k}".replace("×-1", "×(−1)")
                 for j, k in enumerate(krow)]
        lines.append(("   " if i == 0 else "+ ") + " + ".join(terms))
    return "\n".join(lines) + f"  =  {data['window_value']}"


def edge_photo(device) -> tuple[np.ndarray, np.ndarray]:
    photo = torch.tensor(skdata.camera()[::2, ::2] / 255.0, dtype=torch.float32, device=device)
    kernel = torch.tensor(KERNEL, dtype=torch.float32, device=device)[None, None]
    response = F.conv2d(photo[None, None], kernel)[0, 0].abs()  # no padding: no false border edge
    return photo[1:-1, 1:-1].cpu().numpy(), (response / response.max()).cpu().numpy()


def make(ctx):
    data = compute(ctx.rng)
    fig = S.figure(11.5)
    top = S.title_block(fig, "Tích chập (convolution)",
                        "Bộ lọc 3×3 trượt trên lưới số; mỗi ô đầu ra là tổng các tích từng cặp. "
                        "Số do F.conv2d của PyTorch tính; ảnh dưới: skimage.data.camera().")
    ax = fig.add_axes([0.02, top - 0.30, 0.96, 0.29])
    ax.set_xlim(0, 14.8)
    ax.set_ylim(-0.2, 6.9)
    ax.set_aspect("equal")
    ax.axis("off")
    warm = lambda v: "#fde3c4" if v >= 5 else "#eef0f3"  # noqa: E731
    signed = lambda v: "#d6e6f7" if v > 0 else ("#f5d5d2" if v < 0 else "#eef0f3")  # noqa: E731
    grid(ax, data["input"], 0, 0, 1, warm, highlight=(tuple(data["window"]), (3, 3)))
    ax.text(6.4, 3, "∗", fontsize=S.TITLE, ha="center", va="center")
    grid(ax, data["kernel"], 6.8, 1.5, 1, signed, highlight=((0, 0), (3, 3)), edge=S.BLUE)
    ax.text(10.2, 3, "=", fontsize=S.TITLE, ha="center", va="center")
    big = lambda v: "#d5efdf" if v > 5 else "#eef0f3"  # noqa: E731
    grid(ax, data["output"], 10.7, 1, 1, big, highlight=(tuple(data["window"]), (1, 1)))
    for x, label in [(3, "Đầu vào 6×6"), (8.3, "Bộ lọc"), (12.7, "Đầu ra 4×4")]:
        ax.text(x, 6.3, label, ha="center", fontsize=S.SMALL, fontweight="bold")
    fig.text(0.04, top - 0.31, "Ô đầu ra có viền cam:", fontsize=S.SMALL, va="top", color=S.MUTED)
    fig.text(0.04, top - 0.345, arithmetic(data), fontsize=S.SMALL, va="top", family="DejaVu Sans Mono",
             linespacing=1.35)
    photo, edges = edge_photo(ctx.device)
    for i, (image, label) in enumerate([(photo, "Ảnh gốc"), (edges, "Sau bộ lọc cạnh dọc")]):
        pax = fig.add_axes([0.03 + i * 0.49, 0.015, 0.45, 0.30])
        pax.imshow(image, cmap="gray" if i == 0 else S.MAPS, interpolation="lanczos")
        pax.set_title(label, fontsize=S.SMALL, pad=8)
        pax.axis("off")
    ctx.save(fig, "/images/post2/2.jpg")
    return data


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
