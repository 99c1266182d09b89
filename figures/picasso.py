"""The "Picasso problem": a CNN that tells faces from non-faces also calls a face whose eyes
and mouth have swapped places a face, because nothing it was shown made the arrangement
matter. The control, the same architecture trained with such rearranged faces among its
negatives, rejects that image: the failure comes from the data, not from convolution as such.

All images are 32×32 and generated here: faces (light oval, two dark eyes, a nose stroke,
a mouth; everything jittered, on a noisy background) and non-faces (blank ovals, random
ellipses, smoothed noise, and loose face parts on light blobs that are not ovals). The
negatives of network A never contain a face with its parts moved. Every batch is drawn on the
device in a few whole-batch operations, and the training loops never wait for the device.
"""

import math

import _style as S
import numpy as np
import torch
import torch.nn.functional as F
from _train import LossLog
from torch import nn

OUTPUTS = {"/images/post2/8.jpg": "Một khuôn mặt và cùng khuôn mặt đó với mắt và miệng đổi chỗ, kèm xác "
                                  "suất là mặt mà hai CNN huấn luyện trong script gán cho từng ảnh"}
SEED = 8
BARS = {"face_probability": 0.9, "scrambled_probability": 0.9, "control_face_probability": 0.9}
QUICK_BARS = {}
SIZE = 32


def grid(n, device):
    r = torch.arange(SIZE, device=device, dtype=torch.float32)
    y, x = torch.meshgrid(r, r, indexing="ij")
    return x.expand(n, SIZE, SIZE), y.expand(n, SIZE, SIZE)


def ellipse(x, y, cx, cy, rx, ry):
    """Soft-edged ellipse masks, one per sample (parameters are (n,) tensors)."""
    cx, cy, rx, ry = (v[:, None, None] for v in (cx, cy, rx, ry))
    d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
    return torch.sigmoid((1 - d) * 6)


def uniform(g, n, low, high, device):
    return torch.rand(n, generator=g, device=device) * (high - low) + low


def background(g, n, device):
    noise = torch.rand(n, 1, 8, 8, generator=g, device=device)
    smooth = F.interpolate(noise, size=(SIZE, SIZE), mode="bilinear", align_corners=False)[:, 0]
    return 0.15 + 0.35 * smooth + 0.04 * torch.randn(n, SIZE, SIZE, generator=g, device=device)


def paint(image, mask, value):
    return image * (1 - mask) + value[:, None, None] * mask


def face_parts(g, n, device):
    """Jittered positions and sizes of a face: oval centre/radii, eyes, nose, mouth offsets."""
    u = lambda lo, hi: uniform(g, n, lo, hi, device)  # noqa: E731
    return {"cx": u(14.5, 17.5), "cy": u(14.5, 17.5), "rx": u(9, 11), "ry": u(11.5, 13.5),
            "tone": u(0.72, 0.95), "eye_dx": u(3.5, 5), "eye_dy": u(-4.5, -3), "eye_r": u(1.4, 2.1),
            "mouth_dy": u(5, 6.5), "mouth_w": u(2.8, 4), "mouth_h": u(0.9, 1.4), "ink": u(0.02, 0.2),
            "nose_len": u(1.5, 2.5)}


def draw_face(g, p, device, swap=False):
    """A face; with swap=True the eyes sit where the mouth was and the mouth where the eyes were."""
    n = p["cx"].shape[0]
    x, y = grid(n, device)
    img = background(g, n, device)
    img = paint(img, ellipse(x, y, p["cx"], p["cy"], p["rx"], p["ry"]), p["tone"])
    eye_y = p["cy"] + (p["mouth_dy"] if swap else p["eye_dy"])
    mouth_y = p["cy"] + (p["eye_dy"] if swap else p["mouth_dy"])
    for side in (-1, 1):
        img = paint(img, ellipse(x, y, p["cx"] + side * p["eye_dx"], eye_y, p["eye_r"], p["eye_r"]), p["ink"])
    img = paint(img, ellipse(x, y, p["cx"], p["cy"] + 0.5, 0.7 + 0 * p["cx"], p["nose_len"]), p["ink"] + 0.1)
    img = paint(img, ellipse(x, y, p["cx"], mouth_y, p["mouth_w"], p["mouth_h"]), p["ink"])
    return img.clamp(0, 1)


def non_faces(g, n, device):
    """Four kinds of negatives in equal parts; none is a face with its parts moved. Each kind is
    drawn as one batch whose size is known beforehand (no masks read back from the device)."""
    counts = [len(range(kind, n, 4)) for kind in range(4)]
    return torch.cat([draw(g, k, device) for draw, k in zip(NEGATIVES, counts, strict=True) if k]).clamp(0, 1)


def _blank_ovals(g, n, device):
    x, y = grid(n, device)
    u = lambda lo, hi: uniform(g, n, lo, hi, device)  # noqa: E731
    oval = ellipse(x, y, u(14, 18), u(14, 18), u(9, 11), u(11, 14))
    return paint(background(g, n, device), oval, u(0.7, 0.95))


def _random_ellipses(g, n, device):
    x, y = grid(n, device)
    u = lambda lo, hi: uniform(g, n, lo, hi, device)  # noqa: E731
    img = background(g, n, device)
    for _ in range(4):
        img = paint(img, ellipse(x, y, u(4, 28), u(4, 28), u(1.5, 8), u(1.5, 8)), u(0, 1))
    return img


def _smoothed_noise(g, n, device):
    return background(g, n, device) * 1.8


def _loose_parts(g, n, device):
    """Eye, mouth and nose shapes scattered on light blobs that are not face ovals."""
    x, y = grid(n, device)
    u = lambda lo, hi: uniform(g, n, lo, hi, device)  # noqa: E731
    img = background(g, n, device)
    for _ in range(2):
        img = paint(img, ellipse(x, y, u(6, 26), u(6, 26), u(4, 9), u(2.5, 6)), u(0.65, 0.95))
    for rx, ry in ((1.8, 1.8), (1.8, 1.8), (3.5, 1.1), (0.7, 2.0)):
        img = paint(img, ellipse(x, y, u(5, 27), u(5, 27), torch.full((n,), rx, device=device),
                                 torch.full((n,), ry, device=device)), u(0.02, 0.2))
    return img


NEGATIVES = (_blank_ovals, _random_ellipses, _smoothed_noise, _loose_parts)


class FaceNet(nn.Module):
    """Three 3×3 convolutions with max pooling, then a fully connected head: P(face)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.head(self.features(x[:, None])).squeeze(1)


def batch_of(g, n, with_swapped_negatives: bool, device):
    """Half faces (label 1), half negatives (label 0); for the control a quarter of the batch is
    faces with eyes and mouth swapped, among the negatives."""
    half = n // 2
    faces = draw_face(g, face_parts(g, half, device), device)
    if with_swapped_negatives:
        quarter = half // 2
        negatives = torch.cat([non_faces(g, half - quarter, device),
                               draw_face(g, face_parts(g, quarter, device), device, swap=True)])
    else:
        negatives = non_faces(g, half, device)
    labels = torch.cat([torch.ones(half, device=device), torch.zeros(n - half, device=device)])
    return torch.cat([faces, negatives]), labels


def train(ctx, with_swapped_negatives: bool, steps: int, batch: int = 64) -> FaceNet:
    torch.manual_seed(ctx.seed + with_swapped_negatives)
    g = torch.Generator(device=ctx.device).manual_seed(ctx.seed + 100 * with_swapped_negatives)
    net = FaceNet().to(ctx.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=3e-3)
    log = LossLog(every=25)
    for step in range(steps):
        with torch.no_grad():
            x, y = batch_of(g, batch, with_swapped_negatives, ctx.device)
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        log.add(step, loss)
    return net.eval()


def shown(p: float) -> str:
    """A probability as written on the figure, never rounded up to a certainty it is not."""
    if p > 0.9999:
        return "> 0,9999"
    if p < 0.0001:
        return "< 0,0001"
    return f"{p:.4f}".replace(".", ",")


@torch.no_grad()
def probability(net, images) -> list[float]:
    return torch.sigmoid(net(images)).cpu().tolist()


def make(ctx):
    steps = 40 if ctx.quick else 100
    net = train(ctx, with_swapped_negatives=False, steps=steps)
    control = train(ctx, with_swapped_negatives=True, steps=steps)
    g = torch.Generator(device=ctx.device).manual_seed(ctx.seed + 7)
    parts = face_parts(g, 1, ctx.device)
    state = g.get_state()
    face = draw_face(g, parts, ctx.device)
    g.set_state(state)  # the same background noise for both pictures
    scrambled = draw_face(g, parts, ctx.device, swap=True)
    pair = torch.cat([face, scrambled])
    p_net, p_control = probability(net, pair), probability(control, pair)
    # How general the control's lesson is: many fresh faces and swapped faces, not just this pair.
    test = face_parts(g, 400, ctx.device)
    accepted = lambda images: float(np.mean(np.array(probability(net, images)) > 0.5))  # noqa: E731
    rates = {"net_faces": accepted(draw_face(g, test, ctx.device)),
             "net_swapped": accepted(draw_face(g, test, ctx.device, swap=True)),
             "net_non_faces": accepted(non_faces(g, 400, ctx.device))}

    def draw():  # called once per colour scheme, from the numbers above
        # The headline follows what network A actually said about the swapped face.
        title = ("Đổi chỗ mắt và miệng, CNN vẫn thấy “mặt”" if p_net[1] >= 0.5 else
                 "Đổi chỗ mắt và miệng: lần này CNN không nhận là mặt")
        subtitle = ("Hai CNN cùng kiến trúc, học trong script trên ảnh 32×32 tự sinh. Mạng A chỉ được "
                    "xem mặt và vật không phải mặt, chưa từng thấy mặt bị xáo trộn, nên nó không kiểm tra "
                    "vị trí các bộ phận. "
                    "Mạng B được xem thêm mặt xáo trộn như mẫu âm và từ chối chúng.")
        rate = lambda v: f"{S.number(math.floor(v * 1000) / 10).removesuffix(',0')}\u00a0%"  # noqa: E731  (never rounded up)
        summary = S.wrap(f"Trên 400 khuôn mặt mới, mạng A nhận {rate(rates['net_faces'])} là mặt, và "
                         f"{rate(rates['net_swapped'])} khi mắt và miệng đổi chỗ; với 400 vật không "
                         f"phải mặt: {rate(rates['net_non_faces'])}.", S.WIDTH_PX - 2 * S.MARGIN_PX)
        summary_px = S.line_px(S.SMALL, 1.25) * (summary.count("\n") + 1)
        head = S.header_height_px(title, subtitle)
        picture, label_px, row_px = 430, 70, 200
        height_px = head + label_px + picture + 40 + 2 * row_px + summary_px + 50
        fig = S.figure(height_px / S.DPI)
        L = S.Layout(fig, height_px)
        S.title_block(fig, title, subtitle)
        centres = [S.WIDTH_PX * 0.28, S.WIDTH_PX * 0.73]
        pictures = [(face, "Khuôn mặt"), (scrambled, "Mắt ↔ miệng")]
        for centre, (image, label) in zip(centres, pictures, strict=True):
            L.text(centre, head, label, ha="center", fontsize=S.BODY, fontweight="bold")
            ax = L.axes(centre - picture / 2, head + label_px, picture, picture)
            ax.imshow(image[0].cpu().numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        y = head + label_px + picture + 40
        rows = [("Mạng A: P(mặt)", p_net, S.ORANGE), ("Mạng B, đối chứng: P(mặt)", p_control, S.BLUE)]
        for name, probs, colour in rows:
            L.text(S.MARGIN_PX, y, name, fontweight="bold")
            for centre, p in zip(centres, probs, strict=True):
                ax = L.axes(centre - picture / 2, y + 62, picture, 40)
                ax.barh([0], [1], color=S.RULE, height=1)
                ax.barh([0], [p], color=colour, height=1)
                ax.set_xlim(0, 1)
                ax.set_ylim(-0.5, 0.5)
                L.text(centre, y + 112, shown(p), ha="center", fontsize=S.BODY, fontweight="bold")
            y += row_px
        L.text(S.MARGIN_PX, y, summary, color=S.MUTED, linespacing=1.25)
        return fig

    ctx.save(S.themed(draw), "/images/post2/8.jpg")
    return {"face_probability": p_net[0], "scrambled_probability": p_net[1],
            "control_face_probability": p_control[0], "control_scrambled_probability": p_control[1],
            "steps": steps, **{f"accept_rate_{k}": float(v) for k, v in rates.items()}}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
