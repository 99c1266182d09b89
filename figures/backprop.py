"""Backpropagation and gradient descent on a loss surface small enough to see.

A two-parameter network y = w2 * tanh(w1 * x) is fitted to generated data. The surface is
the real mean squared error over a grid of (w1, w2); the path is gradient descent whose
gradients come from autograd, i.e. backpropagation through the network. It runs until its loss
is within 1 % of the grid's minimum (checked every CHECK_EVERY steps, the only time the loop
waits for the device), or stops at MAX_STEPS and says so on the figure.
Metric `minimum_reached`: the grid's minimum loss over the final loss (1 = at the minimum).
"""

import _style as S
import numpy as np
import torch

OUTPUTS = {"/images/post2/6.jpg": "Mặt mất mát của một mạng hai tham số và đường đi của thuật toán hạ "
                                  "gradient tới cực tiểu, với gradient tính bằng lan truyền ngược"}
SEED = 6
BARS = {"minimum_reached": 0.9524}  # final loss within 5 % of the grid's minimum (1 / 1.05)
QUICK_BARS = {"minimum_reached": 0.9524}
TRUE_W = (1.2, 2.0)
START = (2.7, -1.2)
LEARNING_RATE, MAX_STEPS, CHECK_EVERY, GOAL = 0.1, 3000, 50, 1.01


def loss_fn(w1, w2, x, y):
    return ((w2 * torch.tanh(w1 * x) - y) ** 2).mean(-1)


def descend(x, y, target: float, device):
    """Gradient descent from START until the loss is within GOAL × target; returns the path
    (steps + 1, 2) and the losses along it, read from the device once."""
    w = torch.tensor(START, device=device, requires_grad=True)
    path = torch.empty(MAX_STEPS + 1, 2, device=device)
    losses = torch.empty(MAX_STEPS + 1, device=device)
    steps = MAX_STEPS
    for step in range(MAX_STEPS + 1):
        loss = loss_fn(w[0], w[1], x, y)
        path[step] = w.detach()
        losses[step] = loss.detach()
        if step % CHECK_EVERY == 0 and loss.item() <= GOAL * target:
            steps = step
            break
        if step == MAX_STEPS:
            break
        loss.backward()  # backpropagation: d loss / d w1 and d loss / d w2
        with torch.no_grad():
            w -= LEARNING_RATE * w.grad
        w.grad = None
    return path[:steps + 1].cpu().numpy(), losses[:steps + 1].cpu().numpy(), steps


def make(ctx):
    device = ctx.device
    x = torch.tensor(ctx.rng.uniform(-2, 2, 200), dtype=torch.float32, device=device)
    y = TRUE_W[1] * torch.tanh(TRUE_W[0] * x) + 0.15 * torch.tensor(ctx.rng.standard_normal(200),
                                                                     dtype=torch.float32, device=device)
    n = 120 if ctx.quick else 300
    grid = torch.linspace(-3, 3, n, device=device)
    w1, w2 = torch.meshgrid(grid, grid, indexing="xy")
    surface = loss_fn(w1[..., None], w2[..., None], x, y).cpu().numpy()
    grid_minimum = float(surface.min())
    path, losses, steps = descend(x, y, grid_minimum, device)
    reached = grid_minimum / float(losses[-1])

    best = np.unravel_index(surface.argmin(), surface.shape)
    w_best = (float(grid[best[1]]), float(grid[best[0]]))
    # Drawn from every third grid point: the same contours to the eye, a ninth of the outline
    # points in the SVG. The minimum and the metrics above use the full grid.
    shown = slice(None, None, 3)
    ctx.save(S.themed(draw, grid.cpu().numpy()[shown], surface[shown, shown], path, losses, steps, reached,
                      grid_minimum, w_best), "/images/post2/6.jpg")
    return {"steps": steps, "learning_rate": LEARNING_RATE, "start_loss": float(losses[0]),
            "final_loss": float(losses[-1]), "final_w": path[-1].tolist(), "grid_minimum": list(w_best),
            "grid_minimum_loss": grid_minimum, "minimum_reached": reached}


def draw(grid, surface, path, losses, steps, reached, grid_minimum, w_best):
    title = "Lan truyền ngược + hạ gradient: tìm cực tiểu"
    ending = (f"Đường cam: {steps} bước hạ gradient, tới khi mất mát chỉ còn cách cực tiểu trên lưới "
              "1\u00a0%."
              if reached >= 1 / GOAL else
              f"Đường cam: dừng sau {steps} bước (giới hạn của script), mất mát còn gấp "
              f"{S.number(1 / reached, 2)} lần cực tiểu trên lưới.")
    subtitle = ("Bài toán cực trị theo kiểu đạo hàm, ở đây chỉ hai chiều để nhìn thấy được: mạng "
                "y = w₂·tanh(w₁·x) khớp 200 điểm sinh ngẫu nhiên. Màu: hàm mất mát thật (càng nhạt càng "
                f"nhỏ); gradient do autograd của PyTorch tính, tức là lan truyền ngược. {ending}")
    head = S.header_height_px(title, subtitle)
    plot_px = 860
    height_px = head + 20 + plot_px + 130
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    ax = L.axes(150, head + 20, S.WIDTH_PX - 150 - S.MARGIN_PX - 10, plot_px, off=False)
    levels = np.geomspace(surface.min(), surface.max(), 16)  # loss spans decades: log-spaced contours
    ax.contourf(grid, grid, surface, levels=levels, cmap=S.surface_map(), norm="log")
    ax.contour(grid, grid, surface, levels=levels, colors=S.PAPER, linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "-", color=S.ORANGE, linewidth=3)
    marks = path[::max(1, steps // 25)]  # a dot every few steps shows where descent slows down
    ax.plot(marks[:, 0], marks[:, 1], "o", color=S.ORANGE, markersize=6)
    label = {"fontsize": S.SMALL, "color": S.INK, "textcoords": "offset points",
             "bbox": {"facecolor": S.PAPER, "alpha": 0.9, "edgecolor": "none", "pad": 4}}
    ax.annotate(f"bắt đầu\nloss {S.number(float(losses[0]), 2)}", path[0], xytext=(-24, -10), ha="right",
                va="top", **label)
    ax.annotate(f"sau {steps} bước\nloss {S.number(float(losses[-1]), 4)}", path[-1], xytext=(-26, -28),
                ha="right", va="top", fontweight="bold", **label)
    # The loss is symmetric, L(w1, w2) = L(-w1, -w2) since tanh is odd: the grid's minimum and its mirror.
    ax.plot([-w_best[0]], [-w_best[1]], "*", color=S.PAPER, markersize=22, markeredgecolor=S.INK)
    ax.plot([w_best[0]], [w_best[1]], "*", color=S.PAPER, markersize=22, markeredgecolor=S.INK, zorder=1)
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_xticks([-2, 0, 2])
    ax.set_yticks([-2, 0, 2])
    ax.set_yticklabels(["−2", "0", "2"])
    ax.set_xticklabels(["−2", "0", "2"])
    ax.text(0.03, 0.97, f"★ hai cực tiểu (đối xứng), loss {S.number(grid_minimum, 4)}",
            transform=ax.transAxes, fontsize=S.SMALL, va="top", bbox=label["bbox"])
    return fig


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
