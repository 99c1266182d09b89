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
# Module class -> (palette colour, legend). Every class torchvision's Inception v3 uses at the top
# level must be here: an unknown one fails the script instead of being drawn in a wrong colour.
KINDS = {
    "BasicConv2d": ("BLUE", "Tích chập + BN + ReLU (BasicConv2d)"),
    "MaxPool2d": ("ORANGE", "Pooling (MaxPool2d, AdaptiveAvgPool2d)"),
    "AdaptiveAvgPool2d": ("ORANGE", None),
    "InceptionA": ("GREEN", "Khối Inception A"),
    "InceptionB": ("TEAL", "Khối Inception B (giảm kích thước)"),
    "InceptionC": ("PINK", "Khối Inception C"),
    "InceptionD": ("PURPLE", "Khối Inception D (giảm kích thước)"),
    "InceptionE": ("OLIVE", "Khối Inception E"),
    "Dropout": ("MUTED", "Phân loại (Dropout, Linear)"),
    "Linear": ("MUTED", None),
}


def colour(kind: str) -> str:
    """The colour of a module class in the palette in use."""
    return getattr(S, KINDS[kind][0])


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


def draw_blocks(L, blocks, left_px, top_px, width) -> float:
    """One row per block, top to bottom in forward order: name, output shape, parameters."""
    height = len(blocks) * (ROW + ROW_GAP) - ROW_GAP
    ax = L.canvas(left_px, top_px, width, height)
    for i, block in enumerate(blocks):
        y = i * (ROW + ROW_GAP)
        box(ax, 0, y, width, ROW, colour(block["type"]))
        middle = y + ROW / 2
        ax.text(18, middle, block["name"], va="center", fontsize=S.SMALL, fontweight="bold")
        ax.text(610, middle, "×".join(map(str, block["shape"])), va="center", ha="center",
                fontsize=S.SMALL)
        ax.text(width - 18, middle, short(block["params"]) if block["params"] else "—", va="center",
                ha="right", fontsize=S.SMALL)
    return top_px + height


LEGEND_ROW = 60


def draw_legend(L, left_px, top_px) -> float:
    """The colours, one line each, named by the module classes they stand for."""
    y = top_px
    for kind, (_, label) in KINDS.items():
        if label:
            L.text(left_px, y, "■", color=colour(kind), fontsize=S.BODY)
            L.text(left_px + 50, y, label)
            y += LEGEND_ROW
    return y


LAYER_H, GAP_X, GAP_Y = 132, 32, 44  # px: one layer of a branch, and the gaps
IN_H, OUT_H = 64, 140


def module_height(info) -> float:
    depth = max(len(b["layers"]) for b in info)
    return IN_H + depth * (GAP_Y + LAYER_H) + GAP_Y + OUT_H


def draw_module(L, info, in_channels, out_shape, left_px, top_px, width) -> int:
    """Mixed_5b: its input, its four branches side by side, and the concatenation."""
    height = module_height(info)
    layer_w = (width - (len(info) - 1) * GAP_X) / len(info)
    ax = L.canvas(left_px, top_px, width, height)
    box(ax, 0, 0, width, IN_H, S.MUTED)
    ax.text(width / 2, IN_H / 2, f"vào: {in_channels} kênh", ha="center", va="center", fontsize=S.SMALL)
    bottom = height - OUT_H
    for c, branch in enumerate(info):
        x = c * (layer_w + GAP_X)
        y = IN_H
        for layer in branch["layers"]:
            arrow(ax, (x + layer_w / 2, y), (x + layer_w / 2, y + GAP_Y))
            y += GAP_Y
            pooling = "pool" in layer
            box(ax, x, y, layer_w, LAYER_H, S.ORANGE if pooling else S.BLUE)
            kernel, channels = layer.split(", ") if not pooling else (None, None)
            kind, size = layer.split(" ") if pooling else (kernel, f"{channels} kênh")
            ax.text(x + layer_w / 2, y + LAYER_H / 2, f"{kind}\n{size}", ha="center", va="center",
                    fontsize=S.SMALL, linespacing=1.2)
            y += LAYER_H
        arrow(ax, (x + layer_w / 2, y), (x + layer_w / 2, bottom))
    concat = sum(b["channels"] for b in info)
    box(ax, 0, bottom, width, OUT_H, S.GREEN)
    sizes = "+".join(str(b["channels"]) for b in info)
    ax.text(width / 2, bottom + OUT_H / 2, f"nối (concat): {sizes}\n= {concat} kênh, "
            f"đầu ra {'×'.join(map(str, out_shape))}", ha="center", va="center", fontsize=S.SMALL,
            fontweight="bold", linespacing=1.25)
    return concat


def words(data) -> tuple[str, str]:
    title = f"Inception v3: {len(data['blocks'])} khối, {S.number(data['total_params'] / 1e6)} triệu tham số"
    subtitle = ("Dựng bằng torchvision (weights=None), đọc từng khối theo thứ tự forward: tên, kích thước "
                "đầu ra (kênh×cao×rộng) đo bằng một lượt forward ảnh 299×299, và số tham số (K = nghìn, "
                "M = triệu). Màu theo lớp của module.")
    return title, subtitle


def module_inputs(data) -> tuple[int, list[int]]:
    blocks = data["blocks"]
    previous = blocks[[b["name"] for b in blocks].index("Mixed_5b") - 1]
    out_shape = next(b["shape"] for b in blocks if b["name"] == "Mixed_5b")
    return previous["shape"][0], out_shape


def draw(data):
    """The body layout (phones, and up to 30rem): blocks, legend and Mixed_5b one under another."""
    blocks = data["blocks"]
    title, subtitle = words(data)
    head = S.header_height_px(title, subtitle)
    legend_rows = sum(1 for _, t in KINDS.values() if t)
    height_px = (head + len(blocks) * (ROW + ROW_GAP) + 30 + legend_rows * LEGEND_ROW + 40 + 70
                 + module_height(data["mixed_5b"]) + 40)
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    y = draw_blocks(L, blocks, S.MARGIN_PX, head, width) + 30
    y = draw_legend(L, S.MARGIN_PX, y) + 40
    L.text(S.MARGIN_PX, y, "Bên trong Mixed_5b (InceptionA):", fontweight="bold")
    draw_module(L, data["mixed_5b"], *module_inputs(data), S.MARGIN_PX, y + 70, width)
    return fig


def draw_wide(data):
    """The wide layout (screens from 40rem): the blocks on the left; legend and Mixed_5b beside them."""
    blocks = data["blocks"]
    title, subtitle = words(data)
    head = S.header_height_px(title, subtitle, S.WIDE_WIDTH_PX)
    left_w = 1040
    right = S.MARGIN_PX + left_w + 56
    right_w = S.WIDE_WIDTH_PX - S.MARGIN_PX - right
    legend_rows = sum(1 for _, t in KINDS.values() if t)
    right_px = legend_rows * LEGEND_ROW + 30 + 70 + module_height(data["mixed_5b"])
    height_px = head + max(len(blocks) * (ROW + ROW_GAP) - ROW_GAP, right_px) + 40
    fig = S.figure(height_px / S.DPI, S.WIDE_WIDTH_PX / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    draw_blocks(L, blocks, S.MARGIN_PX, head, left_w)
    y = draw_legend(L, right, head - 6) + 30
    L.text(right, y, "Bên trong Mixed_5b (InceptionA):", fontweight="bold")
    draw_module(L, data["mixed_5b"], *module_inputs(data), right, y + 70, right_w)
    return fig


def make(ctx):
    data = measure(ctx.device)
    ctx.save(S.themed(draw, data), "/images/post2/1.jpg", wide=S.themed(draw_wide, data))
    blocks = data["blocks"]
    concat = sum(b["channels"] for b in data["mixed_5b"])
    return {"total_params": data["total_params"], "blocks": blocks, "mixed_5b": data["mixed_5b"],
            "mixed_5b_concat_channels": concat,
            "block_types": sorted({b["type"] for b in blocks}),
            "colours": {b["name"]: KINDS[b["type"]][0] for b in blocks}}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
