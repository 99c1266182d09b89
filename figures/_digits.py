"""The handwritten digits that ship with scikit-learn, and the small CNN trained on them.

Shared by the figures that need a trained digit classifier; each trains its own copy (a
second or two on a CPU), so no figure depends on another's output. Training draws mini-batches
and shifts them on the device, and never waits for it inside the loop.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from _train import LossLog, cross_entropy, shifted
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

SIZE = 16  # the 8×8 digits upsampled: bigger feature maps to show, and better accuracy


def digits(device, seed: int = 0, size: int = SIZE):
    """(x_train, y_train, x_test, y_test): a stratified 75/25 split of all 1,797 digits."""
    data = load_digits()
    x = torch.tensor(data.images / 16.0, dtype=torch.float32)[:, None]
    x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    y = torch.tensor(data.target)
    train_idx, test_idx = train_test_split(range(len(y)), test_size=0.25, stratify=data.target,
                                           random_state=seed)
    to = lambda t: t.to(device)  # noqa: E731
    return to(x[train_idx]), to(y[train_idx]), to(x[test_idx]), to(y[test_idx])


class DigitsCNN(nn.Module):
    """conv 3×3 (8) → ReLU → max pool → conv 3×3 (16) → ReLU → max pool → fully connected (10)."""

    def __init__(self, size: int = SIZE, width: int = 8):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1)
        self.fc = nn.Linear(2 * width * (size // 4) ** 2, 10)

    def stages(self, x) -> dict[str, torch.Tensor]:
        """Every intermediate activation, in order, for drawing."""
        out = {"input": x}
        out["conv1"] = F.relu(self.conv1(x))
        out["pool1"] = F.max_pool2d(out["conv1"], 2)
        out["conv2"] = F.relu(self.conv2(out["pool1"]))
        out["pool2"] = F.max_pool2d(out["conv2"], 2)
        out["logits"] = self.fc(out["pool2"].flatten(1))
        out["probs"] = out["logits"].softmax(1)
        return out

    def forward(self, x):
        return self.stages(x)["logits"]


def train(model, x, y, steps: int, generator, lr: float = 0.01, batch: int = 128):
    """Adam on random mini-batches, each digit moved by up to a pixel; returns the model and
    its losses every 25 steps (read from the device once, at the end)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    log = LossLog(every=25)
    for step in range(steps):
        pick = torch.randint(len(y), (batch,), generator=generator, device=y.device)
        with torch.no_grad():
            inputs = shifted(x[pick], generator)
        loss = cross_entropy(model(inputs), y[pick])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        log.add(step, loss)
    return model, log.values()


@torch.no_grad()
def accuracy(model, x, y) -> float:
    return (model(x).argmax(1) == y).float().mean().item()
