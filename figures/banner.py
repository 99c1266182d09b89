"""The post's header banner: a mosaic of real feature maps, computed by convolving two
photographs that ship with scikit-image with a bank of oriented edge filters (Gabor
kernels), as the first layer of a CNN would. Kept dark so white title text stays readable:
the metric `white_text_contrast` is the WCAG contrast of white against the banner's
99th-percentile luminance."""

import math

import _style as S
import numpy as np
import torch
import torch.nn.functional as F
from matplotlib import colormaps
from PIL import Image
from skimage import data as skdata

OUTPUTS = {"/images/post2/background.jpg": "Ảnh nền: khảm các bản đồ đặc trưng thu được khi tích chập "
                                           "ảnh chụp với các bộ lọc cạnh theo nhiều hướng"}
SEED = 9
BARS = {"white_text_contrast": 4.5}
QUICK_BARS = {"white_text_contrast": 4.5}
WIDTH, HEIGHT = 1920, 600
COLUMNS = 8
PHOTOS = ("astronaut", "coffee")  # one row each
MAX_LUMINANCE = 0.11  # white on this luminance: contrast (1.05 / 0.16) ≈ 6.6


def gabor_bank(n: int, size: int = 25, wavelength: float = 10.0, sigma: float = 4.0, device="cpu"):
    """n oriented Gabor kernels (zero mean), the edge detectors a CNN's first layer learns."""
    r = torch.arange(size, device=device, dtype=torch.float32) - size // 2
    y, x = torch.meshgrid(r, r, indexing="ij")
    kernels = []
    for i in range(n):
        theta = math.pi * i / n
        u = x * math.cos(theta) + y * math.sin(theta)
        k = torch.exp(-(x**2 + y**2) / (2 * sigma**2)) * torch.cos(2 * math.pi * u / wavelength)
        kernels.append(k - k.mean())
    return torch.stack(kernels)[:, None]


def photo(name: str, device) -> torch.Tensor:
    rgb = getattr(skdata, name)()
    gray = torch.tensor(rgb.mean(axis=2) / 255.0, dtype=torch.float32, device=device)
    return gray[None, None]


def tile(maps: torch.Tensor, w: int, h: int) -> torch.Tensor:
    """Centre-crop each map to the tile's shape, then resize it to w×h."""
    _, _, H, W = maps.shape
    target = w / h
    if W / H > target:
        cw = int(H * target)
        maps = maps[..., :, (W - cw) // 2:(W - cw) // 2 + cw]
    else:
        ch = int(W / target)
        maps = maps[..., (H - ch) // 2:(H - ch) // 2 + ch, :]
    return F.interpolate(maps, size=(h, w), mode="bilinear", align_corners=False)


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def make(ctx):
    device = ctx.device
    bank = gabor_bank(COLUMNS, device=device)
    tw, th = WIDTH // COLUMNS, HEIGHT // len(PHOTOS)
    rows = []
    for name in PHOTOS:
        pad = bank.shape[-1] // 2  # reflect, so the photo's border is not an edge
        response = F.conv2d(F.pad(photo(name, device), (pad,) * 4, mode="reflect"), bank).abs()
        response = response / response.amax(dim=(2, 3), keepdim=True)
        tiles = tile(response.transpose(0, 1), tw, th)[:, 0]  # one map per orientation
        rows.append(torch.cat(list(tiles), dim=1))
    mosaic = torch.cat(rows, dim=0).clamp(0, 1).sqrt().cpu().numpy()  # sqrt lifts faint edges
    rgb = colormaps[S.MAPS](mosaic)[..., :3]  # the feature-map colours of every figure
    # Darken until the brightest 1% of pixels still leaves white text at WCAG AA or better
    # (searched on every fourth pixel each way; the metric below is measured on all of them).
    sample = rgb[::4, ::4]
    scale = 1.0
    while np.percentile(relative_luminance((sample * 255 * scale).astype(np.uint8).astype(np.float64)),
                        99) > MAX_LUMINANCE:
        scale *= 0.92
    rgb8 = (rgb * 255 * scale).astype(np.uint8)
    luminance = np.percentile(relative_luminance(rgb8.astype(np.float64)), 99)
    ctx.save(Image.fromarray(rgb8), "/images/post2/background.jpg")
    return {"white_text_contrast": 1.05 / (luminance + 0.05), "luminance_p99": luminance,
            "brightness_scale": scale, "filters": COLUMNS, "photos": list(PHOTOS)}


if __name__ == "__main__":
    from builder.figure_worker import main

    main(__file__)
