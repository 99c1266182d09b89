"""Why GPUs: the measured throughput of one convolution layer, forward and backward, on
the CPU of the machine that builds the site and on its GPU when it has one. Numbers are
measured here, never copied. The figure states only what was measured: without a GPU it shows
the CPU alone, and the build log (not the figure) says that a GPU would add the comparison."""

import time

import _style as S
import torch
import torch.nn.functional as F
from matplotlib.patches import Rectangle

OUTPUTS = {"/images/post2/7.jpg": "Biểu đồ thông lượng đo được của một lớp tích chập (lượt xuôi và lượt "
                                  "ngược) trên CPU và GPU của máy dựng trang"}
SEED = 7
REPRODUCIBLE = False  # a measurement: every run times anew


def throughput(device, batch: int, size: int, channels: int, repeats: int) -> float:
    """Images per second through conv 3×3 (channels→channels), forward + backward."""
    x = torch.randn(batch, channels, size, size, device=device)
    w = torch.randn(channels, channels, 3, 3, device=device, requires_grad=True)

    def step():
        F.conv2d(x, w, padding=1).square().mean().backward()

    step()  # warm-up: kernels chosen, memory allocated
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(repeats):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return batch * repeats / (time.perf_counter() - started)


ROW, BAR = 210, 84  # px: one measured device (name, bar, gap); the bar itself


def make(ctx):
    from builder.figure_worker import describe_device

    batch, size, channels = (4, 32, 32) if ctx.quick else (16, 56, 64)
    cpu = torch.device("cpu")
    results = [(describe_device(cpu), throughput(cpu, batch, size, channels, 1 if ctx.quick else 10))]
    has_gpu = ctx.device.type in ("cuda", "mps")
    if has_gpu:
        results.append((ctx.device_name, throughput(ctx.device, batch, size, channels,
                                                    5 if ctx.quick else 50)))
    else:
        ctx.note("no GPU on this machine: 7.jpg shows the CPU's measurement alone; build on a machine "
                 "with CUDA to add the GPU and the speed-up")
    gflop = 3 * 2 * channels * channels * 9 * size * size / 1e9  # per image: forward + 2× backward
    speedup = draw(ctx, results, batch, size, channels, gflop)
    return {"cpu": results[0][0], "cpu_images_per_s": results[0][1],
            "gpu": results[1][0] if has_gpu else None,
            "gpu_images_per_s": results[1][1] if has_gpu else None, "speedup": speedup,
            "gflop_per_image": gflop, "batch": batch, "size": size, "channels": channels}


def draw(ctx, results: list[tuple[str, float]], batch: int, size: int, channels: int, gflop: float):
    """Save the chart of the measured rates (CPU first, then the GPU if one was measured); returns
    the GPU's speed-up over the CPU, or None."""
    speedup = results[1][1] / results[0][1] if len(results) > 1 else None
    ctx.save(S.themed(chart, results, batch, size, channels, gflop, speedup), "/images/post2/7.jpg")
    return speedup


def chart(results: list[tuple[str, float]], batch: int, size: int, channels: int, gflop: float,
          speedup: float | None):
    has_gpu = speedup is not None
    layer = f"tích chập 3×3, {channels}→{channels} kênh, ảnh {size}×{size}, lô {batch}"
    if has_gpu:
        title = f"GPU nhanh hơn CPU {speedup:.0f} lần"
        subtitle = (f"Đo trên máy dựng trang: số ảnh mỗi giây qua một {layer}, lượt xuôi + lượt ngược.")
    else:
        title = "Một lớp tích chập tốn bao nhiêu phép tính?"
        subtitle = (f"Đo trên CPU của máy dựng trang: số ảnh mỗi giây qua một {layer}, lượt xuôi + lượt "
                    f"ngược; mỗi ảnh cần {S.number(gflop, 2)} tỉ phép tính (GFLOP).")
    width = S.WIDTH_PX - 2 * S.MARGIN_PX
    names = [S.wrap(name, width) for name, _ in results]
    head = S.header_height_px(title, subtitle)
    name_px = [S.line_px(S.SMALL, 1.2) * (n.count("\n") + 1) for n in names]
    rates = (f"CPU ≈ {results[0][1] * gflop:.0f} GFLOP/s" +
             (f", GPU ≈ {S.number(results[1][1] * gflop / 1000)} TFLOP/s" if has_gpu else ""))
    height_px = head + sum(px + 20 + BAR + 50 for px in name_px) + 70
    fig = S.figure(height_px / S.DPI)
    L = S.Layout(fig, height_px)
    S.title_block(fig, title, subtitle)
    fastest = max(v for _, v in results)
    y = head
    for (_, value), wrapped, px in zip(results, names, name_px, strict=True):
        L.text(S.MARGIN_PX, y, wrapped, color=S.INK, linespacing=1.2)
        y += px + 20
        ax = L.canvas(S.MARGIN_PX, y, width, BAR)  # the label belongs to the bar's axes: checked against it
        length = width * value / fastest
        colour = S.GREEN if value == fastest and has_gpu else S.MUTED
        ax.add_patch(Rectangle((0, 0), length, BAR, facecolor=colour, edgecolor="none"))
        label = f"{value:,.0f} ảnh/s".replace(",", ".")
        inside = S.text_width_px(label, S.SMALL, bold=True) + 40 < length
        ax.text(length - 20 if inside else length + 16, BAR / 2, label, va="center", fontsize=S.SMALL,
                ha="right" if inside else "left", fontweight="bold", color=S.ON_FILL if inside else S.INK)
        y += BAR + 50
    L.text(S.MARGIN_PX, y, rates, color=S.MUTED)
    return fig


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
