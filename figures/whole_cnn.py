"""The whole CNN on one held-out handwritten digit: input, every feature map, the pooled
maps, and the softmax over the ten classes. A small network is trained here on
scikit-learn's digits; every picture is that network's real activation."""

import math

import _digits as D
import _style as S
import torch

OUTPUTS = {"/images/post2/5.jpg": "Toàn bộ một CNN nhỏ trên một chữ số viết tay: ảnh vào, các bản đồ đặc "
                                  "trưng sau tích chập và pooling, rồi xác suất softmax của 10 lớp"}
SEED = 9
BARS = {"test_accuracy": 0.97}


THUMB, GAP = 124, 16  # one feature map, eight across the figure
LABEL_PX = 60


def draw_maps(L, maps, top_px, label) -> float:
    """Feature maps in rows of eight under a label, one colour scale per layer (so the maps of a
    layer compare); returns the pixel row below them."""
    L.text(S.MARGIN_PX, top_px, label, fontweight="bold")
    rows = (maps.shape[0] + 7) // 8
    ax = L.canvas(S.MARGIN_PX, top_px + LABEL_PX, 8 * THUMB + 7 * GAP, rows * THUMB + (rows - 1) * GAP)
    peak = max(float(maps.max()), 1e-6)
    for i in range(maps.shape[0]):
        r, c = divmod(i, 8)
        x0, y0 = c * (THUMB + GAP), r * (THUMB + GAP)
        ax.imshow(maps[i], cmap=S.MAPS, interpolation="nearest", vmin=0, vmax=peak,
                  extent=(x0, x0 + THUMB, y0 + THUMB, y0))
    return top_px + LABEL_PX + rows * THUMB + (rows - 1) * GAP


def make(ctx):
    torch.manual_seed(ctx.seed)
    x_train, y_train, x_test, y_test = D.digits(ctx.device, ctx.seed)
    steps = 40 if ctx.quick else 300
    model, _ = D.train(D.DigitsCNN().to(ctx.device), x_train, y_train, steps, ctx.generator)
    model.eval()
    test_accuracy = D.accuracy(model, x_test, y_test)
    index = 0  # the first held-out digit, whatever the network says about it
    with torch.no_grad():
        stages = {k: v[0].cpu().numpy() for k, v in model.stages(x_test[index:index + 1]).items()}
    probs = stages["probs"]
    predicted, truth = int(probs.argmax()), int(y_test[index])

    def draw():  # called once per colour scheme, from the numbers above
        title = "Cả một CNN, trên một chữ số viết tay"
        subtitle = (f"Tích chập, pooling, rồi kết nối đầy đủ và softmax. Mạng nhỏ học ngay trong script trên "
                    f"{len(y_train)} chữ số viết tay của scikit-learn, đúng "
                    f"{S.number(100 * test_accuracy)}\u00a0% "
                    f"trên {len(y_test)} ảnh kiểm tra. Mọi ô dưới đây là kích hoạt thật của mạng.")
        rows = [("conv1", "Tích chập 1 + ReLU: 8 bản đồ 16×16"), ("pool1", "Max pooling 2×2: 8 bản đồ 8×8"),
                ("conv2", "Tích chập 2 + ReLU: 16 bản đồ 8×8"), ("pool2", "Max pooling 2×2: 16 bản đồ 4×4")]
        head = S.header_height_px(title, subtitle)
        maps_px = sum(LABEL_PX + 40 + (stages[k].shape[0] + 7) // 8 * (THUMB + GAP) for k, _ in rows)
        chart_px = 440
        height_px = head + 240 + maps_px + 70 + chart_px
        fig = S.figure(height_px / S.DPI)
        L = S.Layout(fig, height_px)
        S.title_block(fig, title, subtitle)
        ax = L.axes(S.MARGIN_PX, head, 200, 200, off=False)
        ax.imshow(stages["input"][0], cmap=S.INK_MAP, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        L.text(S.MARGIN_PX + 240, head + 40, f"Ảnh vào 16×16\n(nhãn đúng: {truth})", fontweight="bold",
               linespacing=1.3)
        y = head + 240
        for key, label in rows:
            y = draw_maps(L, stages[key], y, label) + 40
        L.text(S.MARGIN_PX, y, "Kết nối đầy đủ (256 → 10) + softmax", fontweight="bold")
        bars = L.axes(S.MARGIN_PX + 90, y + 70, S.WIDTH_PX - 2 * S.MARGIN_PX - 110, chart_px - 190, off=False)
        colours = [S.ORANGE if k == predicted else S.BLUE for k in range(10)]
        bars.bar(range(10), probs, color=colours)
        bars.set_xticks(range(10))
        bars.set_ylim(0, 1.3)
        bars.set_yticks([0, 0.5, 1])
        bars.set_yticklabels(["0", "0,5", "1"])
        bars.set_xlabel("lớp (chữ số)", fontsize=S.SMALL)
        confidence = S.number(math.floor(probs[predicted] * 1e5) / 1e3, 3)  # truncated: never a false 100 %
        bars.text(predicted, min(probs[predicted], 1) + 0.06, f"dự đoán: {predicted} ({confidence}\u00a0%)",
                  ha="center" if 2 < predicted < 7 else ("left" if predicted <= 2 else "right"),
                  fontsize=S.SMALL, color=S.ORANGE, fontweight="bold")
        return fig

    ctx.save(S.themed(draw), "/images/post2/5.jpg")
    return {"test_accuracy": test_accuracy, "train_size": len(y_train), "test_size": len(y_test),
            "digit_label": truth, "predicted": predicted, "probabilities": probs.tolist()}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
