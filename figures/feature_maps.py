"""Learned first-layer filters, like the first layer of AlexNet, and what they extract from a
photograph the network never saw.

A small CNN (one convolution of 12 filters 11×11, stride 2, as AlexNet's first layer, then
BatchNorm, ReLU, the mean over the image and a linear layer to 4 outputs) learns from scratch to
tell the dominant orientation of the edges in a crop of a photograph (0°, 45°, 90° or 135°,
from the crop's own structure tensor; each crop weighted by how clearly it has one). With
nothing after the convolution but a mean, each filter must itself respond to oriented
structure. The crops come from four photographs that ship with scikit-image, band-passed
(lightly smoothed, less a 7×7 local mean, as early CNNs normalised their input), cut, scaled
and rotated by a random angle for a whole batch in one `grid_sample` on the device.

The filters are trained by SGD with momentum (as AlexNet's were), from a start 100 times smaller
than PyTorch's default (BatchNorm makes the layer's scale irrelevant, so the random start fades
at once): Adam would rescale every weight's step to about the same size, turning the smooth
gradient of a first layer (a weighted sum of image patches) into pixel noise. The rest of the
network uses AdamW.

Metrics:
- `structure` / `structure_at_init` ("spectral concentration"): for each filter, remove each
  channel's mean, take the power of its 2-D FFT zero-padded to 16×16 and summed over
  channels, keep the share of power in the strongest 5 % of frequency bins; mean over filters.
- `oriented_fraction`: the share of filters whose spectral power lies along one orientation.
  Orientation concentration is the length of the power-weighted mean of e^{2iθ} over the
  frequency bins (θ: the bin's angle; DC left out): 0 for a round blob, about 0.6-0.9 for an
  edge or a Gabor filter, below 0.22 for 99 % of random filters. A filter counts as oriented
  from ORIENTED = 0.4.
- `smoothness` / `smoothness_at_init`: the share of each filter's spectral power (channel means
  removed, zero-padded to 32×32) at spatial frequencies up to 0.25 cycles per pixel (wavelengths
  of 4 pixels or more); mean over filters. White noise: about 0.2; a smooth edge or bar: 0.8.
"""

import math

import _photos as P
import _style as S
import numpy as np
import torch
import torch.nn.functional as F
from _train import LossLog, cross_entropy
from matplotlib.patches import Rectangle
from torch import nn

OUTPUTS = {"/images/post2/3.jpg": "12 bộ lọc 11×11 của lớp tích chập đầu tiên do một CNN nhỏ tự học, phần "
                                  "lớn là bộ lọc cạnh có hướng như ở lớp đầu của AlexNet, và các bản đồ đặc "
                                  "trưng của chúng trên ảnh con mèo"}
SEED = 3
BARS = {"structure_ratio": 1.5, "oriented_fraction": 0.5, "smoothness": 0.6}
QUICK_BARS = {"structure_ratio": 1.05}
FILTERS, SIZE, CROP, BATCH, ORIENTATIONS = 12, 11, 32, 64, 4
SHRINK = 4  # photos at a quarter of their size: edges a pixel or two wide, as in a 224 px input
ORIENTED = 0.4
SOBEL = [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]


class GlobalMean(nn.Module):
    def forward(self, x):
        return x.mean(dim=(2, 3))  # not AdaptiveAvgPool2d: its CUDA backward is nondeterministic


def network() -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(3, FILTERS, SIZE, 2, SIZE // 2, bias=False), nn.BatchNorm2d(FILTERS),
                         nn.ReLU(), GlobalMean(), nn.Linear(FILTERS, ORIENTATIONS))


def structure(weights: torch.Tensor) -> float:
    """Spectral concentration (see the module docstring)."""
    w = weights - weights.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(w, s=(16, 16)).abs().pow(2).sum(1).flatten(1)
    top = max(1, int(0.05 * power.shape[1]))
    return (power.topk(top, dim=1).values.sum(1) / power.sum(1)).mean().item()


def smoothness(weights: torch.Tensor, size: int = 32) -> float:
    """Share of spectral power at up to 0.25 cycles per pixel (see the module docstring)."""
    w = weights.detach().float().cpu()
    w = w - w.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(w, s=(size, size)).abs().pow(2).sum(1)
    f = torch.fft.fftfreq(size)
    fy, fx = torch.meshgrid(f, f, indexing="ij")
    low = (fx**2 + fy**2) <= 0.25**2
    return ((power * low).sum((1, 2)) / power.sum((1, 2)).clamp_min(1e-12)).mean().item()


def orientedness(weights: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Orientation concentration of each filter, 0-1 (see the module docstring)."""
    w = weights.detach().float().cpu()
    w = w - w.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(w, s=(size, size)).abs().pow(2).sum(1)
    f = torch.fft.fftfreq(size)
    fy, fx = torch.meshgrid(f, f, indexing="ij")
    power = power * ((fx**2 + fy**2) > 0)
    doubled = torch.polar(torch.ones_like(fx), 2 * torch.atan2(fy, fx))
    return (power * doubled).sum((1, 2)).abs() / power.sum((1, 2)).clamp_min(1e-12)


def high_pass(image: torch.Tensor) -> torch.Tensor:
    """A band-pass copy: lightly smoothed (3×3 binomial) less its 7×7 local mean, so edges and
    texture stay while shading, colour casts and pixel noise go."""
    padded = F.pad(image[:, None], (3, 3, 3, 3), mode="reflect")
    binomial = torch.tensor([1.0, 2.0, 1.0])
    smooth = F.conv2d(padded, (binomial[:, None] * binomial[None, :] / 16)[None, None])[:, :, 2:-2, 2:-2]
    local_mean = F.avg_pool2d(padded, 7, stride=1)
    return (smooth - local_mean)[:, 0]


def atlas(names, device) -> tuple[torch.Tensor, torch.Tensor]:
    """The photos, shrunk and high-passed, side by side in one tensor (1, 3, H, W) on the device,
    and each photo's box (x, y, width, height) in it."""
    shrunk = [high_pass(F.interpolate(P.photo(n)[None], scale_factor=1 / SHRINK, mode="bilinear",
                                      antialias=True, align_corners=False)[0]) for n in names]
    height = max(p.shape[1] for p in shrunk)
    sheet = torch.zeros(3, height, sum(p.shape[2] for p in shrunk))
    boxes, x = [], 0
    for p in shrunk:
        sheet[:, :p.shape[1], x:x + p.shape[2]] = p
        boxes.append((x, 0, p.shape[2], p.shape[1]))
        x += p.shape[2]
    return sheet[None].to(device), torch.tensor(boxes, dtype=torch.float32, device=device)


def random_crops(sheet, boxes, generator, n: int = BATCH) -> torch.Tensor:
    """n crops (CROP×CROP) at random places, sizes (1-1.5× CROP) and angles, all sampled in one
    call: each crop's affine map goes from its own square to a rotated square inside one photo."""
    device = sheet.device
    _, _, height, width = sheet.shape
    u = lambda: torch.rand(n, generator=generator, device=device)  # noqa: E731
    which = torch.randint(len(boxes), (n,), generator=generator, device=device)
    bx, by, bw, bh = boxes[which].unbind(1)
    reach = torch.minimum(CROP * (1 + 0.5 * u()) / math.sqrt(2), torch.minimum(bw, bh) / 2)
    side = reach * math.sqrt(2)  # the rotated square's corners stay inside the photo
    cx, cy = bx + reach + u() * (bw - 2 * reach), by + reach + u() * (bh - 2 * reach)
    angle = u() * math.pi
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.stack([torch.stack([cos * side / width, -sin * side / width, 2 * cx / width - 1], 1),
                         torch.stack([sin * side / height, cos * side / height, 2 * cy / height - 1], 1)], 1)
    grid = F.affine_grid(theta, [n, 3, CROP, CROP], align_corners=False)
    crops = F.grid_sample(sheet, grid.reshape(1, n * CROP, CROP, 2), mode="bilinear", align_corners=False)
    crops = crops.reshape(3, n, CROP, CROP).transpose(0, 1)
    return crops - crops.mean(dim=(1, 2, 3), keepdim=True)


def edge_orientation(crops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each crop's dominant edge orientation (0°, 45°, 90° or 135°) from its structure tensor,
    and how clearly it has one (coherence, 0-1)."""
    sobel = torch.tensor(SOBEL, device=crops.device)
    gradient = F.conv2d(crops.mean(1, keepdim=True), torch.stack([sobel, sobel.T])[:, None])
    gx, gy = gradient[:, 0], gradient[:, 1]
    jxx, jyy, jxy = (gx * gx).mean((1, 2)), (gy * gy).mean((1, 2)), (gx * gy).mean((1, 2))
    angle = 0.5 * torch.atan2(2 * jxy, jxx - jyy)
    coherence = ((jxx - jyy) ** 2 + 4 * jxy**2).sqrt() / (jxx + jyy + 1e-8)
    label = torch.round(angle / (math.pi / ORIENTATIONS)).long() % ORIENTATIONS
    return label, coherence


def train(ctx, steps: int) -> tuple[nn.Sequential, torch.Tensor, list[float]]:
    torch.manual_seed(ctx.seed)
    model = network().to(ctx.device)
    with torch.no_grad():
        model[0].weight.mul_(0.01)  # negligible next to what is learned (see the module docstring)
    at_init = model[0].weight.detach().clone()
    first, rest = list(model[0].parameters()), list(model.parameters())[1:]
    sgd = torch.optim.SGD(first, lr=0.1, momentum=0.9, weight_decay=1e-3)
    adam = torch.optim.AdamW(rest, lr=3e-3, weight_decay=1e-4)
    schedules = [torch.optim.lr_scheduler.CosineAnnealingLR(o, steps) for o in (sgd, adam)]  # ends calm
    sheet, boxes = atlas([n for n in P.TRAINING_PHOTOS if n != "chelsea"], ctx.device)  # the cat is unseen
    log = LossLog(every=25)
    for step in range(steps):
        with torch.no_grad():
            crops = random_crops(sheet, boxes, ctx.generator)
            label, coherence = edge_orientation(crops)
        loss = cross_entropy(model(crops), label, weight=coherence)
        sgd.zero_grad(set_to_none=True)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        for optimizer, schedule in zip((sgd, adam), schedules, strict=True):
            optimizer.step()
            schedule.step()
        log.add(step, loss)
    return model.eval(), at_init, log.values()


def filter_tile(w: np.ndarray) -> np.ndarray:
    """A filter (11, 11, 3) as colours: grey is 0, each channel scaled by the filter's largest weight."""
    w = w - w.mean()
    return np.clip(w / (2 * np.abs(w).max() + 1e-8) + 0.5, 0, 1)


def make(ctx):
    steps = 30 if ctx.quick else 300
    model, at_init, losses = train(ctx, steps)
    weights = model[0].weight.detach()
    learned, initial = structure(weights), structure(at_init)
    concentration = orientedness(weights)
    oriented = concentration >= ORIENTED
    oriented_at_init = float((orientedness(at_init) >= ORIENTED).float().mean())
    smooth, smooth_at_init = smoothness(weights), smoothness(at_init)
    cat = P.photo("chelsea")
    small_cat = F.interpolate(cat[None], scale_factor=1 / 3, mode="bilinear", antialias=True,
                              align_corners=False)[0]
    with torch.no_grad():
        maps = F.relu(model[1](model[0](high_pass(small_cat)[None].to(ctx.device))))[0].cpu().numpy()
    strongest = np.argsort([-m.std() for m in maps])[:MAPS_SHOWN]
    numbers = {"steps": steps, "filters": weights.permute(0, 2, 3, 1).cpu().numpy(),
               "oriented": oriented.tolist(), "count": int(oriented.sum()),
               "at_start": round(oriented_at_init * FILTERS), "smoothness": smooth,
               "smoothness_at_init": smooth_at_init, "cat": cat.permute(1, 2, 0).numpy(),
               "maps": maps[strongest]}
    ctx.save(S.themed(draw, numbers), "/images/post2/3.jpg")
    return {"structure": learned, "structure_at_init": initial, "structure_ratio": learned / initial,
            "oriented_fraction": float(oriented.float().mean()),
            "oriented_fraction_at_init": oriented_at_init,
            "orientation_concentration": concentration.tolist(), "smoothness": smooth,
            "smoothness_at_init": smooth_at_init, "steps": steps, "final_loss": float(np.mean(losses[-4:]))}


MAPS_SHOWN, TILE, GAP = 6, 164, 24  # px: a filter, six to a row


def draw(n):
    title = "Bộ lọc như lớp đầu của AlexNet, tự học ở đây"
    subtitle = (f"Không phải bộ lọc của AlexNet: {FILTERS} bộ lọc {SIZE}×{SIZE} (cỡ của AlexNet) của lớp "
                f"tích chập đầu tiên trong một CNN nhỏ, học từ đầu trong script ({n['steps']} bước) bằng "
                "cách đoán hướng của các cạnh trong mảnh cắt từ bốn ảnh chụp của scikit-image.")
    head = S.header_height_px(title, subtitle)
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    note = S.wrap(f"Viền cam: {n['count']}/{FILTERS} bộ lọc có hướng rõ (lúc khởi tạo: "
                  f"{n['at_start']}/{FILTERS}). Độ trơn {S.number(n['smoothness'], 2)} (lúc khởi tạo, nhiễu "
                  f"ngẫu nhiên: {S.number(n['smoothness_at_init'], 2)}).", width)
    note_px = S.line_px(S.SMALL, 1.3) * (note.count("\n") + 1)
    cat_w = 420
    cat_h = cat_w * n["cat"].shape[0] / n["cat"].shape[1]
    maps = n["maps"]
    map_w = (width - 2 * GAP) / 3
    map_h = map_w * maps.shape[1] / maps.shape[2]
    rows = (FILTERS + 5) // 6
    filters_px = rows * TILE + (rows - 1) * GAP
    height_px = head + 60 + filters_px + 24 + note_px + 40 + cat_h + 40 + 60 + 2 * map_h + GAP + 40
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    y = head
    L.text(S.MARGIN_PX, y, "Bộ lọc (màu: kênh RGB; xám: 0)", fontweight="bold")
    y += 60
    ax = L.canvas(S.MARGIN_PX, y, width, rows * TILE + (rows - 1) * GAP)
    for i in range(FILTERS):
        r, c = divmod(i, 6)
        x0, y0 = c * (TILE + GAP), r * (TILE + GAP)
        ax.imshow(filter_tile(n["filters"][i]), extent=(x0, x0 + TILE, y0 + TILE, y0),
                  interpolation="nearest")
        if n["oriented"][i]:
            ax.add_patch(Rectangle((x0 - 5, y0 - 5), TILE + 10, TILE + 10, fill=False, edgecolor=S.ORANGE,
                                   linewidth=2.5))
    y += rows * TILE + (rows - 1) * GAP + 24
    L.text(S.MARGIN_PX, y, note, color=S.MUTED, linespacing=1.3)
    y += note_px + 40
    ax = L.axes(S.MARGIN_PX, y, cat_w, cat_h)
    ax.imshow(n["cat"])
    L.text(S.MARGIN_PX + cat_w + 36, y, S.wrap("Ảnh mèo chelsea của scikit-image: mạng chưa thấy nó khi học.",
                                                width - cat_w - 36), linespacing=1.3)
    y += cat_h + 40
    L.text(S.MARGIN_PX, y, f"{MAPS_SHOWN} bản đồ đặc trưng mạnh nhất trên ảnh đó", fontweight="bold")
    y += 60
    ax = L.canvas(S.MARGIN_PX, y, width, 2 * map_h + GAP)
    for i, feature_map in enumerate(maps):
        r, c = divmod(i, 3)
        x0, y0 = c * (map_w + GAP), r * (map_h + GAP)
        peak = max(float(np.percentile(feature_map, 99.5)), 1e-6)  # each map on its own scale
        ax.imshow(feature_map, cmap=S.MAPS, extent=(x0, x0 + map_w, y0 + map_h, y0),
                  interpolation="bilinear", vmin=0, vmax=peak)
    return fig


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
