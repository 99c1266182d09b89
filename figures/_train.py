"""Training pieces shared by the learned figures, written for the GPU first.

- Every op here has a deterministic kernel on CUDA (the worker turns on
  `torch.use_deterministic_algorithms`): cross-entropy is written with a one-hot mask instead
  of `F.cross_entropy`, whose CUDA NLL kernel is on PyTorch's list of nondeterministic ops.
- Nothing waits for the device inside a loop: losses are kept as device tensors every few
  steps and read once at the end (`LossLog`), so a GPU runs ahead of Python.
- `grid_sample` and `affine_grid` (random crops, scales, rotations and shifts of a whole
  batch in one call) are used only on data, never inside a loss: their backward has no
  deterministic CUDA kernel.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None):
    """Mean cross-entropy of integer targets; `weight` (one per sample) makes it a weighted mean."""
    classes = torch.arange(logits.shape[1], device=logits.device)
    picked = (F.log_softmax(logits, dim=1) * (target[:, None] == classes)).sum(1)
    if weight is None:
        return -picked.mean()
    return -(picked * weight).sum() / weight.sum()


class LossLog:
    """Losses every `every` steps, kept on the device until `values()` reads them all at once."""

    def __init__(self, every: int = 25):
        self.every = every
        self.kept: list[torch.Tensor] = []

    def add(self, step: int, loss: torch.Tensor) -> None:
        if step % self.every == 0:
            self.kept.append(loss.detach())

    def values(self) -> list[float]:
        return torch.stack(self.kept).cpu().tolist() if self.kept else []


def shifted(x: torch.Tensor, generator: torch.Generator, pixels: int = 1) -> torch.Tensor:
    """Each image of a batch moved by its own whole-pixel offset (up to `pixels` each way),
    zeros coming in at the border: one `grid_sample` for the whole batch."""
    n, _, h, w = x.shape
    offsets = torch.randint(-pixels, pixels + 1, (n, 2), generator=generator, device=x.device).float()
    theta = torch.zeros(n, 2, 3, device=x.device)
    theta[:, 0, 0] = 1
    theta[:, 1, 1] = 1
    theta[:, 0, 2] = -2 * offsets[:, 0] / w
    theta[:, 1, 2] = -2 * offsets[:, 1] / h
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
