"""Backpropagation and gradient descent on a loss surface small enough to see.

A two-parameter network y = w2 * tanh(w1 * x) is fitted to generated data. The surface is
the real mean squared error over a grid of (w1, w2); the path is gradient descent whose
gradients come from autograd, i.e. backpropagation through the network.
"""

import _style as S
import numpy as np
import torch

OUTPUTS = {"/images/post2/6.jpg": "Mặt mất mát của một mạng hai tham số và đường đi của thuật toán hạ "
                                  "gradient, với gradient tính bằng lan truyền ngược"}
SEED = 6
TRUE_W = (1.2, 2.0)
START = (2.7, -1.2)


def loss_fn(w1, w2, x, y):
    return ((w2 * torch.tanh(w1 * x) - y) ** 2).mean(-1)


def make(ctx):
    device = ctx.device
    x = torch.tensor(ctx.rng.uniform(-2, 2, 200), dtype=torch.float32, device=device)
    y = TRUE_W[1] * torch.tanh(TRUE_W[0] * x) + 0.15 * torch.tensor(ctx.rng.standard_normal(200),
                                                                     dtype=torch.float32, device=device)
    steps, lr = (20, 0.1) if ctx.quick else (200, 0.1)
    w = torch.tensor(START, device=device, requires_grad=True)
    path, losses = [], []
    for _ in range(steps + 1):
        loss = loss_fn(w[0], w[1], x, y)
        path.append(w.detach().cpu().numpy().copy())
        losses.append(loss.item())
        loss.backward()  # backpropagation: d loss / d w1 and d loss / d w2
        with torch.no_grad():
            w -= lr * w.grad
        w.grad = None
    path = np.array(path)

    n = 120 if ctx.quick else 300
    grid = torch.linspace(-3, 3, n, device=device)
    w1, w2 = torch.meshgrid(grid, grid, indexing="xy")
    surface = loss_fn(w1[..., None], w2[..., None], x, y).cpu().numpy()

    fig = S.figure(10.2)
    top = S.title_block(fig, "Lan truyền ngược + hạ gradient",
                        "Mạng y = w₂·tanh(w₁·x) khớp 200 điểm sinh ngẫu nhiên. Màu: hàm mất mát thật "
                        f"(càng nhạt càng nhỏ). Đường cam: {steps} bước hạ gradient; gradient do "
                        "autograd của PyTorch tính, tức là lan truyền ngược.")
    ax = fig.add_axes([0.13, 0.09, 0.8, top - 0.14])
    levels = np.geomspace(surface.min(), surface.max(), 16)  # loss spans decades: log-spaced contours
    ax.contourf(grid.cpu(), grid.cpu(), surface, levels=levels, cmap="Blues", norm="log")
    ax.contour(grid.cpu(), grid.cpu(), surface, levels=levels, colors="white", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "-o", color=S.ORANGE, markersize=5, linewidth=2.5)
    start_loss = f"{losses[0]:.2f}".replace(".", ",")
    end_loss = f"{losses[-1]:.3f}".replace(".", ",")
    label = {"fontsize": S.SMALL, "color": S.INK, "textcoords": "offset points",
             "bbox": {"facecolor": "white", "alpha": 0.85, "edgecolor": "none", "pad": 4}}
    ax.annotate(f"bắt đầu\nloss {start_loss}", path[0], xytext=(-15, -20), ha="right", va="top", **label)
    ax.annotate(f"sau {steps} bước\nloss {end_loss}", path[-1], xytext=(-30, -40), ha="right", va="top",
                fontweight="bold", **label)
    # The loss is symmetric, L(w1, w2) = L(-w1, -w2) since tanh is odd: the grid's minimum and its mirror.
    best = np.unravel_index(surface.argmin(), surface.shape)
    w_best = (float(grid[best[1]]), float(grid[best[0]]))
    ax.plot([w_best[0], -w_best[0]], [w_best[1], -w_best[1]], "*", color="white", markersize=22,
            markeredgecolor=S.INK)
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_xticks([-3, 0, 3])
    ax.set_yticks([-3, 0, 3])
    ax.text(0.03, 0.97, "★ hai cực tiểu (đối xứng)", transform=ax.transAxes, fontsize=S.SMALL, va="top",
            bbox=label["bbox"])
    ctx.save(fig, "/images/post2/6.jpg")
    return {"steps": steps, "learning_rate": lr, "start_loss": losses[0], "final_loss": losses[-1],
            "final_w": path[-1].tolist(),
            "grid_minimum": list(w_best), "grid_minimum_loss": float(surface.min())}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
