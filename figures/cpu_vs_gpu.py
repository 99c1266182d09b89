"""Why GPUs: the measured throughput of one convolution layer, forward and backward, on
the CPU of the machine that builds the site and on its GPU when it has one. Numbers are
measured here, never copied: without a GPU the chart shows the CPU alone and says so."""

import time

import _style as S
import torch
import torch.nn.functional as F

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


def make(ctx):
    from builder.figure_worker import describe_device

    batch, size, channels = (4, 32, 32) if ctx.quick else (16, 56, 64)
    cpu = torch.device("cpu")
    results = [(describe_device(cpu), throughput(cpu, batch, size, channels, 1 if ctx.quick else 10))]
    has_gpu = ctx.device.type in ("cuda", "mps")
    if has_gpu:
        results.append((ctx.device_name, throughput(ctx.device, batch, size, channels,
                                                    5 if ctx.quick else 50)))
    gflop = 3 * 2 * channels * channels * 9 * size * size / 1e9  # per image: forward + 2× backward

    fig = S.figure(8.6)
    layer = f"tích chập 3×3, {channels}→{channels} kênh, ảnh {size}×{size}, lô {batch}"
    if has_gpu:
        speedup = results[1][1] / results[0][1]
        subtitle = (f"Đo trên máy dựng trang: {layer}, lượt xuôi + lượt ngược. "
                    f"GPU nhanh hơn {speedup:.0f} lần.")
    else:
        speedup = None
        subtitle = (f"Đo trên máy dựng trang: {layer}, lượt xuôi + lượt ngược. Máy này không có GPU "
                    "nên chỉ có số đo CPU; dựng lại trên máy có GPU để so sánh.")
    top = S.title_block(fig, "Vì sao huấn luyện CNN trên GPU?", subtitle)
    ax = fig.add_axes([0.06, 0.2, 0.88, top - 0.27])
    names = [S.wrap(name, 30) for name, _ in results]
    values = [v for _, v in results]
    ax.barh(range(len(values)), values, color=[S.MUTED, S.GREEN][:len(values)], height=0.55)
    ax.set_yticks([])
    for i, (name, value) in enumerate(zip(names, values, strict=True)):
        ax.text(0, i + 0.34, name, fontsize=S.SMALL, va="bottom")
        ax.text(value, i, f" {value:,.0f} ảnh/s".replace(",", "."), fontsize=S.SMALL, va="center",
                fontweight="bold", ha="left" if value < max(values) * 0.6 else "right",
                color=S.INK if value < max(values) * 0.6 else "white")
    if not has_gpu:  # an empty, dashed row: the missing measurement is shown as missing
        ax.barh([1], [max(values)], height=0.55, fill=False, edgecolor=S.MUTED, linestyle="--", linewidth=2)
        ax.text(0, 1.34, "GPU", fontsize=S.SMALL, va="bottom")
        ax.text(max(values) / 2, 1, "không có trên máy này", fontsize=S.SMALL, ha="center", va="center",
                color=S.MUTED)
    rows = len(values) if has_gpu else 2
    ax.set_ylim(-0.5, rows - 0.2)
    ax.set_xlim(0, max(values) * 1.05)
    ax.set_xlabel("ảnh mỗi giây (càng dài càng nhanh)", fontsize=S.SMALL)
    ax.set_xticks([])
    ax.spines["left"].set_visible(False)
    cpu_rate = f"{results[0][1] * gflop:.0f}"
    fig.text(0.06, 0.04, f"CPU ≈ {cpu_rate} GFLOP/s" + (
        f", GPU ≈ {results[1][1] * gflop / 1000:.1f} TFLOP/s".replace(".", ",") if has_gpu else ""),
        fontsize=S.SMALL, color=S.MUTED)
    ctx.save(fig, "/images/post2/7.jpg")
    return {"cpu": results[0][0], "cpu_images_per_s": results[0][1],
            "gpu": results[1][0] if has_gpu else None,
            "gpu_images_per_s": results[1][1] if has_gpu else None, "speedup": speedup,
            "batch": batch, "size": size, "channels": channels}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
