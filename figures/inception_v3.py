"""Inception v3 as torchvision builds it: every top-level block in forward order, coloured by its
module class (convolution, pooling, Inception blocks A to E, classifier), with the output shape
measured by a forward pass and its parameter count, plus the branches of one Inception module
(Mixed_5b) read from the module itself."""

import _style as S
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from torchvision.models import inception_v3

OUTPUTS = {"/images/post2/1.jpg": "Sơ đồ Inception v3: 21 khối theo thứ tự forward, tô màu theo loại khối "
                                  "(tích chập, pooling, khối Inception A đến E, phân loại), với kích thước "
                                  "đầu ra và số tham số, cùng các nhánh của khối Mixed_5b"}
SEED = 1
# Module class -> (colour, legend). Every class torchvision's Inception v3 uses at the top level
# must be here: an unknown one fails the script instead of being drawn in a wrong colour.
KINDS = {
    "BasicConv2d": (S.BLUE, "Tích chập + BN + ReLU (BasicConv2d)"),
    "MaxPool2d": (S.ORANGE, "Pooling (MaxPool2d, AdaptiveAvgPool2d)"),
    "AdaptiveAvgPool2d": (S.ORANGE, None),
    "InceptionA": (S.GREEN, "Khối Inception A"),
    "InceptionB": ("#1f8c8c", "Khối Inception B (giảm kích thước)"),
    "InceptionC": ("#c2185b", "Khối Inception C"),
    "InceptionD": (S.PURPLE, "Khối Inception D (giảm kích thước)"),
    "InceptionE": ("#8c6d1f", "Khối Inception E"),
    "Dropout": (S.MUTED, "Phân loại (Dropout, Linear)"),
    "Linear": (S.MUTED, None),
}


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
    blocks = [{"name": name, "type": type(m).__name__, "shape": list(shapes[name]),
               "params": sum(p.numel() for p in m.parameters())}
              for name, m in model.named_children() if name in shapes]
    unknown = sorted({b["type"] for b in blocks} - set(KINDS))
    if unknown:
        raise ValueError(f"no colour for the module class(es) {', '.join(unknown)}: add them to KINDS")
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


def box(ax, x, y, w, h, colour) -> None:
    """A rounded box (pixel coordinates, y downwards): a light fill and a coloured border."""
    style = "round,pad=0,rounding_size=10"
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=style, facecolor=colour, edgecolor="none", alpha=0.16))
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle=style, fill=False, edgecolor=colour, linewidth=2))


def arrow(ax, start, end) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=18, linewidth=2,
                                 color=S.MUTED, shrinkA=0, shrinkB=0))


ROW, ROW_GAP = 62, 10  # px: one block of the network, and the space between two


def draw_blocks(L, blocks, top_px) -> float:
    """One row per block, top to bottom in forward order: name, output shape, parameters."""
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    height = len(blocks) * (ROW + ROW_GAP) - ROW_GAP
    ax = L.canvas(S.MARGIN_PX, top_px, width, height)
    for i, block in enumerate(blocks):
        y = i * (ROW + ROW_GAP)
        box(ax, 0, y, width, ROW, KINDS[block["type"]][0])
        middle = y + ROW / 2
        ax.text(18, middle, block["name"], va="center", fontsize=S.SMALL, fontweight="bold")
        ax.text(610, middle, "×".join(map(str, block["shape"])), va="center", ha="center",
                fontsize=S.SMALL)
        ax.text(width - 18, middle, short(block["params"]) if block["params"] else "—", va="center",
                ha="right", fontsize=S.SMALL)
    return top_px + height


def draw_legend(L, top_px) -> float:
    """The colours, one line each, named by the module classes they stand for."""
    y = top_px
    for colour, label in [(c, t) for c, t in KINDS.values() if t]:
        L.text(S.MARGIN_PX, y, "■", color=colour, fontsize=S.BODY)
        L.text(S.MARGIN_PX + 50, y, label)
        y += 60
    return y


LAYER_W, LAYER_H, GAP_X, GAP_Y = 252, 132, 32, 44  # px: one layer of a branch, and the gaps


def draw_module(L, info, in_channels, out_shape, top_px) -> tuple[float, int]:
    """Mixed_5b: its input, its four branches side by side, and the concatenation."""
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    depth = max(len(b["layers"]) for b in info)
    in_h, out_h = 64, 140
    height = in_h + depth * (GAP_Y + LAYER_H) + GAP_Y + out_h
    ax = L.canvas(S.MARGIN_PX, top_px, width, height)
    box(ax, 0, 0, width, in_h, S.MUTED)
    ax.text(width / 2, in_h / 2, f"vào: {in_channels} kênh", ha="center", va="center", fontsize=S.SMALL)
    bottom = height - out_h
    left = (width - len(info) * LAYER_W - (len(info) - 1) * GAP_X) / 2
    for c, branch in enumerate(info):
        x = left + c * (LAYER_W + GAP_X)
        y = in_h
        for layer in branch["layers"]:
            arrow(ax, (x + LAYER_W / 2, y), (x + LAYER_W / 2, y + GAP_Y))
            y += GAP_Y
            pooling = "pool" in layer
            box(ax, x, y, LAYER_W, LAYER_H, S.ORANGE if pooling else S.BLUE)
            kernel, channels = layer.split(", ") if not pooling else (None, None)
            kind, size = layer.split(" ") if pooling else (kernel, f"{channels} kênh")
            ax.text(x + LAYER_W / 2, y + LAYER_H / 2, f"{kind}\n{size}", ha="center", va="center",
                    fontsize=S.SMALL, linespacing=1.2)
            y += LAYER_H
        arrow(ax, (x + LAYER_W / 2, y), (x + LAYER_W / 2, bottom))
    concat = sum(b["channels"] for b in info)
    box(ax, 0, bottom, width, out_h, S.GREEN)
    sizes = "+".join(str(b["channels"]) for b in info)
    ax.text(width / 2, bottom + out_h / 2, f"nối (concat): {sizes} = {concat} kênh\n"
            f"đầu ra {'×'.join(map(str, out_shape))}", ha="center", va="center", fontsize=S.SMALL,
            fontweight="bold", linespacing=1.25)
    return top_px + height, concat


def make(ctx):
    data = measure(ctx.device)
    blocks = data["blocks"]
    total = data["total_params"]
    title = f"Inception v3: {len(blocks)} khối, {S.number(total / 1e6)} triệu tham số"
    subtitle = ("Dựng bằng torchvision (weights=None), đọc từng khối theo thứ tự forward: tên, kích thước "
                "đầu ra (kênh×cao×rộng) đo bằng một lượt forward ảnh 299×299, và số tham số (K = nghìn, "
                "M = triệu). Màu theo lớp của module.")
    head = S.header_height_px(title, subtitle)
    legend_rows = sum(1 for _, t in KINDS.values() if t)
    depth = max(len(b["layers"]) for b in data["mixed_5b"])
    module_px = 64 + depth * (GAP_Y + LAYER_H) + GAP_Y + 140
    height_px = (head + len(blocks) * (ROW + ROW_GAP) + 30 + legend_rows * 60 + 40 + 70 + module_px + 40)
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    y = draw_blocks(L, blocks, head) + 30
    y = draw_legend(L, y) + 40
    L.text(S.MARGIN_PX, y, "Bên trong Mixed_5b (InceptionA):", fontweight="bold")
    previous = blocks[[b["name"] for b in blocks].index("Mixed_5b") - 1]
    out_shape = next(b["shape"] for b in blocks if b["name"] == "Mixed_5b")
    _, concat = draw_module(L, data["mixed_5b"], previous["shape"][0], out_shape, y + 70)
    ctx.save(fig, "/images/post2/1.jpg")
    return {"total_params": total, "blocks": blocks, "mixed_5b": data["mixed_5b"],
            "mixed_5b_concat_channels": concat,
            "block_types": sorted({b["type"] for b in blocks}),
            "colours": {b["name"]: KINDS[b["type"]][0] for b in blocks}}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
