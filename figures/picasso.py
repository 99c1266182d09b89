"""The "Picasso problem": a CNN that tells faces from non-faces also calls a face whose eyes
and mouth have swapped places a face, because nothing it was shown made the arrangement
matter. The control, the same architecture trained with such rearranged faces among its
negatives, rejects that image: the failure comes from the data, not from convolution as such.

All images are 32×32 and generated here: faces (light oval, two dark eyes, a nose stroke,
a mouth; everything jittered, on a noisy background) and non-faces (blank ovals, random
ellipses, smoothed noise, and loose face parts on light blobs that are not ovals). The
negatives of network A never contain a face with its parts moved.
"""

import _style as S
import numpy as np
import torch
import torch.nn.functional as F
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
    return (torch.rand(n, generator=g) * (high - low) + low).to(device)


def background(g, n, device):
    noise = torch.rand(n, 1, 8, 8, generator=g).to(device)
    smooth = F.interpolate(noise, size=(SIZE, SIZE), mode="bilinear", align_corners=False)[:, 0]
    return 0.15 + 0.35 * smooth + 0.04 * torch.randn(n, SIZE, SIZE, generator=g).to(device)


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
    """Four kinds of negatives in equal parts; none is a face with its parts moved."""
    x, y = grid(n, device)
    u = lambda lo, hi, k=n: uniform(g, k, lo, hi, device)  # noqa: E731
    img = background(g, n, device)
    kind = torch.arange(n, device=device) % 4
    blank = kind == 0
    img[blank] = paint(img[blank], ellipse(x[blank], y[blank], u(14, 18, int(blank.sum())),
                                           u(14, 18, int(blank.sum())), u(9, 11, int(blank.sum())),
                                           u(11, 14, int(blank.sum()))), u(0.7, 0.95, int(blank.sum())))
    shapes = kind == 1
    k = int(shapes.sum())
    for _ in range(4):
        img[shapes] = paint(img[shapes], ellipse(x[shapes], y[shapes], u(4, 28, k), u(4, 28, k), u(1.5, 8, k),
                                                 u(1.5, 8, k)), u(0, 1, k))
    noise = kind == 2
    img[noise] = background(g, int(noise.sum()), device) * 1.8
    loose = kind == 3
    k = int(loose.sum())
    for _ in range(2):  # light blobs that are not face ovals
        img[loose] = paint(img[loose], ellipse(x[loose], y[loose], u(6, 26, k), u(6, 26, k), u(4, 9, k),
                                               u(2.5, 6, k)), u(0.65, 0.95, k))
    for rx, ry in ((1.8, 1.8), (1.8, 1.8), (3.5, 1.1), (0.7, 2.0)):  # eye, eye, mouth, nose shapes
        img[loose] = paint(img[loose], ellipse(x[loose], y[loose], u(5, 27, k), u(5, 27, k),
                                               rx + 0 * u(0, 1, k), ry + 0 * u(0, 1, k)), u(0.02, 0.2, k))
    return img.clamp(0, 1)


class FaceNet(nn.Module):
    """Three 3×3 convolutions with pooling, then a fully connected head: P(face)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, x):
        return self.head(self.features(x[:, None])).squeeze(1)


def train(ctx, with_swapped_negatives: bool, steps: int, batch: int = 128) -> FaceNet:
    torch.manual_seed(ctx.seed + with_swapped_negatives)
    g = torch.Generator().manual_seed(ctx.seed + 100 * with_swapped_negatives)
    net = FaceNet().to(ctx.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=2e-3)
    for _ in range(steps):
        half = batch // 2
        faces = draw_face(g, face_parts(g, half, ctx.device), ctx.device)
        if with_swapped_negatives:
            quarter = half // 2
            negatives = torch.cat([non_faces(g, half - quarter, ctx.device),
                                   draw_face(g, face_parts(g, quarter, ctx.device), ctx.device, swap=True)])
        else:
            negatives = non_faces(g, half, ctx.device)
        x = torch.cat([faces, negatives])
        y = torch.cat([torch.ones(half), torch.zeros(half)]).to(ctx.device)
        loss = F.binary_cross_entropy_with_logits(net(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
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
    steps = 40 if ctx.quick else 250
    net = train(ctx, with_swapped_negatives=False, steps=steps)
    control = train(ctx, with_swapped_negatives=True, steps=steps)
    g = torch.Generator().manual_seed(ctx.seed + 7)
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

    # The headline follows what network A actually said about the swapped face.
    title = ("Đổi chỗ mắt và miệng, CNN vẫn thấy “mặt”" if p_net[1] >= 0.5 else
             "Đổi chỗ mắt và miệng: lần này CNN không nhận là mặt")
    subtitle = ("Hai CNN cùng kiến trúc, học trong script trên ảnh 32×32 tự sinh. Mạng A chỉ được xem mặt "
                "và vật không phải mặt, chưa từng thấy mặt bị xáo trộn, nên nó không kiểm tra vị trí các "
                "bộ phận. "
                "Mạng B được xem thêm mặt xáo trộn như mẫu âm và từ chối chúng.")
    head = S.header_height_px(title, subtitle)
    height_px = head + 560 + 2 * 230 + 40
    fig = S.figure(height_px / S.DPI)
    frac = lambda px: px / height_px  # noqa: E731
    S.title_block(fig, title, subtitle)
    for i, (image, label) in enumerate([(face, "Khuôn mặt"), (scrambled, "Mắt ↔ miệng")]):
        ax = fig.add_axes([0.1 + i * 0.45, 1 - frac(head + 510), 0.36, frac(430)])
        ax.imshow(image[0].cpu().numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.axis("off")
        fig.text(0.28 + i * 0.45, 1 - frac(head), label, ha="center", fontsize=S.BODY, fontweight="bold",
                 va="top")
    y = head + 560
    rows = [("Mạng A: P(mặt)", p_net, S.ORANGE), ("Mạng B, đối chứng: P(mặt)", p_control, S.BLUE)]
    for name, probs, colour in rows:
        fig.text(0.04, 1 - frac(y), name, fontsize=S.SMALL, fontweight="bold", va="top")
        for i, p in enumerate(probs):
            ax = fig.add_axes([0.1 + i * 0.45, 1 - frac(y + 115), 0.36, frac(50)])
            ax.barh([0], [1], color=S.RULE, height=1)
            ax.barh([0], [p], color=colour, height=1)
            ax.set_xlim(0, 1)
            ax.axis("off")
            fig.text(0.28 + i * 0.45, 1 - frac(y + 130), shown(p), ha="center", fontsize=S.BODY,
                     fontweight="bold", va="top")
        y += 230
    ctx.save(fig, "/images/post2/8.jpg")
    return {"face_probability": p_net[0], "scrambled_probability": p_net[1],
            "control_face_probability": p_control[0], "control_scrambled_probability": p_control[1],
            "steps": steps, **{f"accept_rate_{k}": float(v) for k, v in rates.items()}}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
