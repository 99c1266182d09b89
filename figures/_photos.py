"""Colour photographs that ship with scikit-image, as float tensors (C, H, W) in [0, 1]."""

from __future__ import annotations

import numpy as np
import torch
from skimage import data as skdata

TRAINING_PHOTOS = ("astronaut", "coffee", "rocket", "stereo_motorcycle")


def photo(name: str) -> torch.Tensor:
    image = getattr(skdata, name)()
    if isinstance(image, tuple):  # stereo pairs: the left view
        image = image[0]
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return torch.tensor(image[..., :3] / 255.0, dtype=torch.float32).permute(2, 0, 1)
