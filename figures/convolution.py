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


CELL, GAP = 76, 56  # px: a cell; the space between two grids


def grid(ax, values, x0, y0, face, highlight=None, edge=None, out: float = 2) -> None:
    """Numbers in cells, in pixel coordinates (y grows downwards). The highlight's frame is drawn
    just outside the cells it surrounds, so it never runs through a number."""
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            ax.add_patch(Rectangle((x0 + c * CELL, y0 + r * CELL), CELL, CELL, facecolor=face(v),
                                   edgecolor=S.PAPER, linewidth=1))
            ax.text(x0 + (c + 0.5) * CELL, y0 + (r + 0.5) * CELL, f"{v:g}".replace("-", "−"), ha="center",
                    va="center", fontsize=S.SMALL)
    if highlight:
        (r0, c0), (h, w) = highlight
        ax.add_patch(Rectangle((x0 + c0 * CELL - out, y0 + r0 * CELL - out), w * CELL + 2 * out,
                               h * CELL + 2 * out, fill=False, edgecolor=edge or S.ORANGE, linewidth=3.5))


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
    photo, edges = edge_photo(ctx.device)
    ctx.save(S.themed(draw, data, photo, edges), "/images/post2/2.jpg")
    return data


def draw(data, photo, edges):
    title = "Tích chập (convolution)"
    subtitle = ("Bộ lọc 3×3 trượt trên lưới số; mỗi ô đầu ra là tổng các tích từng cặp. Số do F.conv2d "
                "của PyTorch tính. Dưới cùng: cùng bộ lọc tách cạnh dọc từ ảnh skimage.data.camera().")
    head = S.header_height_px(title, subtitle)
    sums = arithmetic(data)
    sums_px = S.line_px(S.SMALL, 1.35) * (sums.count("\n") + 1)
    side = (S.WIDTH_PX - 2 * S.MARGIN_PX - 40) / 2
    label_px, grid_px = 64, 6 * CELL
    height_px = head + label_px + grid_px + 50 + 60 + sums_px + 50 + label_px + side + 40
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    ax = L.canvas(S.MARGIN_PX, head + label_px, width, grid_px)
    plain = S.tint(S.MUTED, 0.12)
    warm = lambda v: S.tint(S.ORANGE) if v >= 5 else plain  # noqa: E731
    signed = lambda v: S.tint(S.BLUE) if v > 0 else (S.tint(S.RED) if v < 0 else plain)  # noqa: E731
    big = lambda v: S.tint(S.GREEN) if v > 5 else plain  # noqa: E731
    x_in = (width - 13 * CELL - 2 * GAP) / 2
    x_kernel = x_in + 6 * CELL + GAP
    x_out = x_kernel + 3 * CELL + GAP
    grid(ax, data["input"], x_in, 0, warm, highlight=(tuple(data["window"]), (3, 3)))
    grid(ax, data["kernel"], x_kernel, 1.5 * CELL, signed, highlight=((0, 0), (3, 3)), edge=S.BLUE, out=4)
    grid(ax, data["output"], x_out, CELL, big, highlight=(tuple(data["window"]), (1, 1)))
    for x, symbol in [((x_in + 6 * CELL + x_kernel) / 2, "∗"), ((x_kernel + 3 * CELL + x_out) / 2, "=")]:
        L.text(S.MARGIN_PX + x, head + label_px + 3 * CELL, symbol, fontsize=S.BODY, ha="center", va="center")
    for x, label in [(x_in + 3 * CELL, "Đầu vào 6×6"), (x_kernel + 1.5 * CELL, "Bộ lọc"),
                     (x_out + 2 * CELL, "Đầu ra 4×4")]:
        L.text(S.MARGIN_PX + x, head, label, ha="center", fontweight="bold")
    y = head + label_px + grid_px + 50
    L.text(S.MARGIN_PX, y, "Ô đầu ra có viền cam:", color=S.MUTED)
    L.text(S.MARGIN_PX, y + 60, sums, family="DejaVu Sans Mono", linespacing=1.35)
    y += 60 + sums_px + 50
    for i, (image, label) in enumerate([(photo, "Ảnh gốc"), (edges, "Sau bộ lọc cạnh dọc")]):
        left = S.MARGIN_PX + i * (side + 40)
        L.text(left + side / 2, y, label, ha="center")
        pax = L.axes(left, y + label_px, side, side)
        pax.imshow(image, cmap="gray" if i == 0 else S.MAPS, interpolation="lanczos")
    return fig


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
