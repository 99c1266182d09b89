"""The whole CNN on one held-out handwritten digit: input, every feature map, the pooled
maps, and the softmax over the ten classes. A small network is trained here on
scikit-learn's digits; every picture is that network's real activation."""

import _digits as D
import _style as S
import torch

OUTPUTS = {"/images/post2/5.jpg": "Toàn bộ một CNN nhỏ trên một chữ số viết tay: ảnh vào, các bản đồ đặc "
                                  "trưng sau tích chập và pooling, rồi xác suất softmax của 10 lớp"}
SEED = 5
BARS = {"test_accuracy": 0.97}


THUMB_PX = 128  # one feature map: eight across the figure
LABEL_PX = 58


def draw_maps(fig, maps, top_px, height_px, label) -> float:
    """Feature maps in rows of eight under a label; returns the pixel row below them."""
    frac = lambda px: px / height_px  # noqa: E731
    fig.text(0.04, 1 - frac(top_px), label, fontsize=S.SMALL, fontweight="bold", va="top")
    y = top_px + LABEL_PX
    peak = max(float(maps.max()), 1e-6)  # one colour scale per layer, so maps compare
    for i in range(maps.shape[0]):
        r, c = divmod(i, 8)
        left = (48 + c * (THUMB_PX + 9)) / (S.WIDTH_IN * S.DPI)
        bottom = 1 - frac(y + (r + 1) * (THUMB_PX + 9))
        ax = fig.add_axes([left, bottom, THUMB_PX / (S.WIDTH_IN * S.DPI), frac(THUMB_PX)])
        ax.imshow(maps[i], cmap=S.MAPS, interpolation="nearest", vmin=0, vmax=peak)
        ax.axis("off")
    rows = (maps.shape[0] + 7) // 8
    return y + rows * (THUMB_PX + 9)


def make(ctx):
    torch.manual_seed(ctx.seed)
    x_train, y_train, x_test, y_test = D.digits(ctx.device, ctx.seed)
    model = D.DigitsCNN().to(ctx.device)
    D.train(model, x_train, y_train, 30 if ctx.quick else 200, ctx.generator)
    model.eval()
    test_accuracy = D.accuracy(model, x_test, y_test)
    index = 0  # the first held-out digit, whatever the network says about it
    with torch.no_grad():
        stages = {k: v[0].cpu().numpy() for k, v in model.stages(x_test[index:index + 1]).items()}
    probs = stages["probs"]
    predicted, truth = int(probs.argmax()), int(y_test[index])

    accuracy_text = f"{100 * test_accuracy:.1f}".replace(".", ",")
    title = "Cả một CNN, trên một chữ số viết tay"
    subtitle = (f"Mạng nhỏ được huấn luyện ngay trong script trên bộ chữ số của scikit-learn "
                f"({len(y_train)} ảnh học). Độ chính xác trên {len(y_test)} ảnh kiểm tra: "
                f"{accuracy_text} %. Mọi ô dưới đây là kích hoạt thật của mạng.")
    rows = [("conv1", "Tích chập 1 + ReLU: 8 bản đồ 16×16"), ("pool1", "Max pooling 2×2: 8 bản đồ 8×8"),
            ("conv2", "Tích chập 2 + ReLU: 16 bản đồ 8×8"), ("pool2", "Max pooling 2×2: 16 bản đồ 4×4")]
    head = S.header_height_px(title, subtitle)
    maps_px = sum(LABEL_PX + 30 + (stages[k].shape[0] + 7) // 8 * (THUMB_PX + 9) for k, _ in rows)
    height_px = head + 230 + maps_px + 600
    fig = S.figure(height_px / S.DPI)
    frac = lambda px: px / height_px  # noqa: E731
    S.title_block(fig, title, subtitle)
    ax = fig.add_axes([0.04, 1 - frac(head + 200), 200 / 1200, frac(200)])
    ax.imshow(stages["input"][0], cmap="gray_r", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.text(0.26, 1 - frac(head + 40), f"Ảnh vào 16×16\n(nhãn đúng: {truth})", fontsize=S.SMALL, va="top",
             fontweight="bold", linespacing=1.3)
    y = head + 230
    for key, label in rows:
        y = draw_maps(fig, stages[key], y, height_px, label) + 30
    fig.text(0.04, 1 - frac(y), "Kết nối đầy đủ (256 → 10) + softmax", fontsize=S.SMALL, fontweight="bold",
             va="top")
    bars = fig.add_axes([0.1, frac(140), 0.86, frac(height_px - y - 240)])
    colours = [S.ORANGE if k == predicted else S.BLUE for k in range(10)]
    bars.bar(range(10), probs, color=colours)
    bars.set_xticks(range(10))
    bars.set_ylim(0, 1.25)
    bars.set_yticks([0, 0.5, 1])
    bars.set_yticklabels(["0", "0,5", "1"])
    bars.set_xlabel("lớp (chữ số)", fontsize=S.SMALL)
    confidence = f"{100 * probs[predicted]:.3f}".replace(".", ",")
    bars.text(predicted, min(probs[predicted], 1) + 0.06, f"dự đoán: {predicted} ({confidence} %)",
              ha="center" if 2 < predicted < 7 else ("left" if predicted <= 2 else "right"),
              fontsize=S.SMALL, color=S.ORANGE, fontweight="bold")
    ctx.save(fig, "/images/post2/5.jpg")
    return {"test_accuracy": test_accuracy, "train_size": len(y_train), "test_size": len(y_test),
            "digit_label": truth, "predicted": predicted, "probabilities": probs.tolist()}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
