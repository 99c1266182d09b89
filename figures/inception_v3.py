"""Inception v3 as torchvision builds it: every top-level block in forward order with the
output shape measured by a forward pass and its parameter count, plus the branches of one
Inception module (Mixed_5b) read from the module itself."""

import _style as S
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torchvision.models import inception_v3

OUTPUTS = {"/images/post2/1.jpg": "Sơ đồ Inception v3: 21 khối theo thứ tự forward với kích thước đầu ra "
                                  "và số tham số, cùng các nhánh của khối Mixed_5b"}
SEED = 1
KINDS = {  # block type -> (colour, legend)
    "conv": (S.BLUE, "Tích chập + BN + ReLU"),
    "pool": (S.ORANGE, "Pooling"),
    "inception": (S.GREEN, "Khối Inception (A–E)"),
    "head": (S.PURPLE, "Dropout / phân loại"),
}


def kind_of(module) -> str:
    name = type(module).__name__
    if name == "BasicConv2d":
        return "conv"
    if "Pool" in name:
        return "pool"
    if name.startswith("Inception"):
        return "inception"
    return "head"


def short(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} M".replace(".", ",")
    if n >= 1000:
        return f"{n / 1e3:.1f} K".replace(".", ",").replace(",0 K", " K")
    return str(n)


def measure(device) -> dict:
    model = inception_v3(weights=None, aux_logits=False, init_weights=False).to(device).eval()
    shapes = {}
    hooks = [m.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
             for name, m in model.named_children()]
    with torch.no_grad():
        model(torch.zeros(1, 3, 299, 299, device=device))
    for h in hooks:
        h.remove()
    blocks = [{"name": name, "type": type(m).__name__, "kind": kind_of(m), "shape": list(shapes[name]),
               "params": sum(p.numel() for p in m.parameters())}
              for name, m in model.named_children() if name in shapes]
    return {"blocks": blocks, "total_params": sum(p.numel() for p in model.parameters()),
            "mixed_5b": branches(model.Mixed_5b)}


def branches(module) -> list[dict]:
    """Branches of an InceptionA module: its convolutions grouped by name prefix, in order."""
    groups: dict[str, list[str]] = {}
    for name, child in module.named_children():
        prefix = name.rsplit("_", 1)[0] if name[-1].isdigit() and "_" in name else name
        conv = child.conv
        layers = groups.setdefault(prefix, [])
        if prefix == "branch_pool":  # forward() average-pools 3×3 before this 1×1 convolution
            layers.append("avgpool 3×3")
        layers.append(f"{conv.kernel_size[0]}×{conv.kernel_size[1]}, {conv.out_channels}")
    out = []
    for prefix, layers in groups.items():
        last = [m for n, m in module.named_children() if n.startswith(prefix)][-1]
        out.append({"name": prefix, "layers": layers, "channels": last.conv.out_channels})
    return out


def box(ax, x, y, w, h, lines, colour, weight="normal"):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.12", facecolor=colour,
                                edgecolor="none", alpha=0.16))
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.12", fill=False,
                                edgecolor=colour, linewidth=2.5))
    ax.text(x + w / 2, y + h / 2, "\n".join(lines), ha="center", va="center", fontsize=S.SMALL,
            linespacing=1.3, fontweight=weight)


def arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=22, linewidth=2,
                                 color=S.MUTED, shrinkA=0, shrinkB=0))


BLOCK = (3.1, 1.75, 0.35, 0.45)  # box width, height, gaps (axis units; 1 unit ≈ 113 px)
MODULE = (2.35, 0.8, 0.27, 0.35)


def draw_blocks(ax, blocks, cols=3):
    w, h, gx, gy = BLOCK
    for i, b in enumerate(blocks):
        row, col = divmod(i, cols)
        col = col if row % 2 == 0 else cols - 1 - col  # snake so each arrow is short
        x, y = col * (w + gx), -row * (h + gy)
        shape = "×".join(map(str, b["shape"]))
        box(ax, x, y, w, h, [b["name"], shape, short(b["params"]) if b["params"] else "—"],
            KINDS[b["kind"]][0])
        if i + 1 < len(blocks):
            nrow, ncol = divmod(i + 1, cols)
            ncol = ncol if nrow % 2 == 0 else cols - 1 - ncol
            if nrow == row:
                sx = x + w if ncol > col else x
                arrow(ax, (sx, y + h / 2), (sx + (gx if ncol > col else -gx), y + h / 2))
            else:
                arrow(ax, (x + w / 2, y), (x + w / 2, y - gy))
    rows = (len(blocks) + cols - 1) // cols
    return cols * (w + gx) - gx, rows * (h + gy) - gy, h


def draw_module(ax, info, in_channels, out_shape):
    cols = len(info)
    w, h, gx, gy = MODULE
    depth = max(len(b["layers"]) for b in info)
    total_w = cols * (w + gx) - gx
    box(ax, 0, 0, total_w, h, [f"vào: {in_channels} kênh"], S.MUTED)
    bottom = -(depth * (h + gy)) - gy - h
    for c, branch in enumerate(info):
        x = c * (w + gx)
        y = 0
        for layer in branch["layers"]:
            arrow(ax, (x + w / 2, y), (x + w / 2, y - gy))
            y -= h + gy
            box(ax, x, y, w, h, [layer], S.ORANGE if "pool" in layer else S.BLUE)
        arrow(ax, (x + w / 2, y), (x + w / 2, bottom + h))
    concat = sum(b["channels"] for b in info)
    bottom -= h
    sizes = "+".join(str(b["channels"]) for b in info)
    box(ax, 0, bottom, total_w, 2 * h, [f"nối (concat): {sizes} = {concat} kênh",
                                        f"đầu ra {'×'.join(map(str, out_shape))}"], S.GREEN, weight="bold")
    return total_w, -bottom, concat


def make(ctx):
    data = measure(ctx.device)
    blocks = data["blocks"]
    total = data["total_params"]
    # Lay out in pixels so one axis unit is the same size everywhere (boxes keep their shape).
    unit = 0.94 * S.WIDTH_IN * S.DPI / 10.0
    w, h, gx, gy = BLOCK
    rows = (len(blocks) + 2) // 3
    blocks_px = (rows * (h + gy) - gy + 0.1) * unit
    mw, mh, mgx, mgy = MODULE
    depth = max(len(b["layers"]) for b in data["mixed_5b"])
    module_px = ((depth + 3) * (mh + mgy) + 0.1) * unit * (10.0 / (4 * (mw + mgx) - mgx))
    title = f"Inception v3: {len(blocks)} khối, {total / 1e6:.1f} triệu tham số".replace(".", ",")
    subtitle = ("Dựng bằng torchvision (weights=None). Mỗi ô: tên khối, kích thước đầu ra "
                "(kênh×cao×rộng) đo bằng một lượt forward ảnh 299×299, và số tham số. "
                f"Thiết bị: {ctx.device_name}.")
    head_px, legend_px, inset_title_px = S.header_height_px(title, subtitle), 150, 90
    height_px = head_px + blocks_px + legend_px + inset_title_px + module_px + 80
    fig = S.figure(height_px / S.DPI)
    frac = lambda px: px / height_px  # noqa: E731
    S.title_block(fig, title, subtitle)
    y = 1 - frac(head_px)
    ax = fig.add_axes([0.03, y - frac(blocks_px), 0.94, frac(blocks_px)])
    width, _, _ = draw_blocks(ax, blocks)
    ax.set_xlim(-0.05, width + 0.05)
    ax.set_ylim(h + 0.05 - blocks_px / unit, h + 0.05)
    ax.axis("off")
    y -= frac(blocks_px) + frac(20)
    for i, (colour, label) in enumerate(KINDS.values()):
        x, yy = 0.04 + (i % 2) * 0.48, y - (i // 2) * frac(60)
        fig.text(x, yy, "■", color=colour, fontsize=S.BODY, va="top")
        fig.text(x + 0.04, yy, label, fontsize=S.SMALL, va="top")
    fig.text(0.04, y - frac(120), "K = nghìn, M = triệu tham số", fontsize=S.SMALL, va="top", color=S.MUTED)
    y -= frac(legend_px + 40)
    fig.text(0.04, y, "Bên trong Mixed_5b (đọc từ module):", fontsize=S.BODY, fontweight="bold", va="top")
    y -= frac(inset_title_px)
    inset = fig.add_axes([0.03, y - frac(module_px), 0.94, frac(module_px)])
    previous = blocks[[b["name"] for b in blocks].index("Mixed_5b") - 1]
    out_shape = next(b["shape"] for b in blocks if b["name"] == "Mixed_5b")
    mw_total, m_height, concat = draw_module(inset, data["mixed_5b"], previous["shape"][0], out_shape)
    inset.set_xlim(-0.05, mw_total + 0.05)
    inset.set_ylim(-m_height - 0.05, mh + 0.05)
    inset.axis("off")
    ctx.save(fig, "/images/post2/1.jpg")
    return {"total_params": total, "blocks": blocks, "mixed_5b": data["mixed_5b"],
            "mixed_5b_concat_channels": concat}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
