"""Learned first-layer filters and their feature maps on a real photograph.

A small CNN (conv 7×7 stride 2 with 16 filters + BatchNorm, then three 3×3 convolutions,
global average pooling, 4 outputs) learns, from scratch, to tell by how much a crop of a
photograph was rotated (0°, 90°, 180° or 270°). Nothing labels the crops but the rotation
itself. Strong weight decay on the first layer alone washes out the random initialisation
(BatchNorm makes that layer's scale irrelevant), leaving the structure the task needs.

Structure measure ("spectral concentration"): for each filter, remove each colour channel's
mean, take the power of its 2-D FFT zero-padded to 16×16 and summed over channels, and keep
the share of power in the strongest 5% of frequency bins; average over filters. Random
filters spread their power evenly (≈0.12); oriented edges and colour blobs concentrate it.
Metrics: `structure` (learned), `structure_at_init` (the same layer before training).
"""

import _photos as P
import _style as S
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

OUTPUTS = {"/images/post2/3.jpg": "16 bộ lọc 7×7 của lớp tích chập đầu tiên do một CNN nhỏ tự học, và "
                                  "các bản đồ đặc trưng của chúng trên ảnh con mèo"}
SEED = 3
BARS = {"structure_ratio": 1.5}
QUICK_BARS = {"structure_ratio": 1.05}
FILTERS, CROP, BATCH = 16, 48, 64


def network() -> nn.Sequential:
    def block(i, o):
        return [nn.Conv2d(i, o, 3, 2, 1), nn.BatchNorm2d(o), nn.ReLU()]

    return nn.Sequential(nn.Conv2d(3, FILTERS, 7, 2, 3, bias=False), nn.BatchNorm2d(FILTERS), nn.ReLU(),
                         *block(FILTERS, 32), *block(32, 64), *block(64, 64),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 4))


def structure(weights: torch.Tensor) -> float:
    """Spectral concentration (see the module docstring)."""
    w = weights - weights.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(w, s=(16, 16)).abs().pow(2).sum(1).flatten(1)
    top = max(1, int(0.05 * power.shape[1]))
    return (power.topk(top, dim=1).values.sum(1) / power.sum(1)).mean().item()


def rotated_crops(photos, generator, device):
    """A batch of random crops (random scale), each rotated by a random multiple of 90°."""
    crops = []
    for _ in range(BATCH):
        image = photos[int(torch.randint(len(photos), (1,), generator=generator))]
        _, h, w = image.shape
        side = int(torch.randint(CROP, min(h, w) // 2, (1,), generator=generator))
        y = int(torch.randint(0, h - side, (1,), generator=generator))
        x = int(torch.randint(0, w - side, (1,), generator=generator))
        crops.append(F.interpolate(image[None, :, y:y + side, x:x + side], size=(CROP, CROP),
                                   mode="bilinear", align_corners=False, antialias=True)[0])
    turns = torch.randint(4, (BATCH,), generator=generator)
    batch = torch.stack([torch.rot90(c, int(k), dims=(1, 2)) for c, k in zip(crops, turns, strict=True)])
    batch = batch - batch.mean(dim=(1, 2, 3), keepdim=True)  # brightness says nothing about rotation
    return batch.to(device), turns.to(device)


def train(ctx, steps: int) -> tuple[nn.Sequential, float, list[float]]:
    torch.manual_seed(ctx.seed)
    model = network().to(ctx.device)
    at_init = structure(model[0].weight.detach())
    first, rest = list(model[0].parameters()), list(model.parameters())[1:]
    optimizer = torch.optim.AdamW([{"params": first, "weight_decay": 2.0},
                                   {"params": rest, "weight_decay": 1e-4}], lr=3e-3)
    photos = [P.photo(name) for name in P.TRAINING_PHOTOS if name != "chelsea"]  # the cat is unseen
    losses = []
    for _ in range(steps):
        x, y = rotated_crops(photos, ctx.generator, ctx.device)
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model.eval(), at_init, losses


def show_filter(ax, w: np.ndarray) -> None:
    w = w - w.mean()
    ax.imshow(np.clip(w / (2 * np.abs(w).max() + 1e-8) + 0.5, 0, 1), interpolation="nearest")
    ax.axis("off")


def make(ctx):
    steps = 40 if ctx.quick else 400
    model, at_init, losses = train(ctx, steps)
    weights = model[0].weight.detach()
    learned = structure(weights)
    cat = P.photo("chelsea")
    with torch.no_grad():
        maps = F.relu(model[1](model[0]((cat - cat.mean())[None].to(ctx.device))))[0].cpu().numpy()
    order = np.argsort([-m.std() for m in maps])[:8]  # the eight most active maps

    title = "Lớp tích chập đầu tiên học được gì?"
    subtitle = (f"16 bộ lọc 7×7 của một CNN nhỏ tự học trong script ({steps} bước): mạng đoán góc xoay "
                "của các mảnh cắt từ ba ảnh của scikit-image. Đây là bộ lọc của chúng tôi, không phải "
                "của AlexNet.")
    head = S.header_height_px(title, subtitle)
    height_px = head + 60 + 2 * 140 + 110 + 360 + 70 + 2 * 200 + 90
    fig = S.figure(height_px / S.DPI)
    frac = lambda px: px / height_px  # noqa: E731
    S.title_block(fig, title, subtitle)
    y = head
    bold = {"fontsize": S.SMALL, "fontweight": "bold", "va": "top"}
    fig.text(0.04, 1 - frac(y), "Bộ lọc (màu: kênh RGB; xám: 0)", **bold)
    y += 60
    w = weights.permute(0, 2, 3, 1).cpu().numpy()
    for i in range(FILTERS):
        r, c = divmod(i, 8)
        ax = fig.add_axes([0.04 + c * 0.115, 1 - frac(y + (r + 1) * 140), 0.105, frac(126)])
        show_filter(ax, w[i])
    y += 2 * 140 + 20
    ratio = learned / at_init
    fig.text(0.04, 1 - frac(y), S.wrap(f"Độ tập trung phổ: {learned:.2f}, lúc khởi tạo {at_init:.2f} "
                                       f"(gấp {ratio:.1f} lần)".replace(".", ","), 48),
             fontsize=S.SMALL, va="top", color=S.MUTED)
    y += 110
    ax = fig.add_axes([0.04, 1 - frac(y + 360), 0.45, frac(340)])
    ax.imshow(cat.permute(1, 2, 0).numpy())
    ax.axis("off")
    fig.text(0.52, 1 - frac(y + 20), "Ảnh mèo chelsea của\nscikit-image: mạng\nchưa thấy nó khi học",
             fontsize=S.SMALL, va="top", linespacing=1.3)
    y += 360 + 10
    fig.text(0.04, 1 - frac(y), "8 bản đồ đặc trưng mạnh nhất trên ảnh đó", **bold)
    y += 70
    for i, index in enumerate(order):
        r, c = divmod(i, 4)
        ax = fig.add_axes([0.04 + c * 0.235, 1 - frac(y + (r + 1) * 200), 0.225, frac(185)])
        ax.imshow(maps[index], cmap=S.MAPS)
        ax.axis("off")
    ctx.save(fig, "/images/post2/3.jpg")
    return {"structure": learned, "structure_at_init": at_init, "structure_ratio": ratio, "steps": steps,
            "final_loss": float(np.mean(losses[-20:]))}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
