"""Corruptions of a noisy stream as batched tensor operations (notebooks/09_partial_hypernetworks.ipynb).

Hemati et al. (Sec. 4.2, Fig. 5) corrupt each experience of a stream differently: experience 2 is
solarized, experience 3 Gaussian-blurred, experience 4 gets contrast + grayscale + blur. Every
function here maps float images ``x [B, C, H, W]`` in [0, 1] to images of the same shape, one tensor
program for the whole batch, on whatever device ``x`` is:

- ``solarize``: ``x`` below the threshold, ``1 - x`` at or above it;
- ``gaussian_blur``: a separable Gaussian kernel ``K[i] K[j]``, ``K[i] ~ exp(-(i - r)^2 / (2 sigma^2))``
  normalized to sum 1, with reflected borders;
- ``autocontrast``: each image's channel stretched to [0, 1], ``(x - min) / (max - min)`` (unchanged
  where ``max == min``);
- ``grayscale``: ``0.299 R + 0.587 G + 0.114 B`` in every channel (a no-op on the grey images of the
  Fashion-MNIST streams, whose three channels are equal: the weights sum to 1).

``CorruptedImages`` wraps ``ByteImages``: only the rows a batch is indexed with are corrupted.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .images import ByteImages

GREY_WEIGHTS = (0.299, 0.587, 0.114)


def solarize(x: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Invert every value at or above ``threshold``: ``where(x >= threshold, 1 - x, x)``."""
    return torch.where(x >= threshold, 1 - x, x)


def gaussian_kernel(sigma: float, radius: int, device=None) -> torch.Tensor:
    """The normalized 1D Gaussian ``K [2 r + 1]``."""
    i = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    k = torch.exp(-(i**2) / (2 * sigma**2))
    return k / k.sum()


def gaussian_blur(x: torch.Tensor, sigma: float = 1.0, radius: int = 2) -> torch.Tensor:
    """Blur every channel with the separable kernel ``K[i] K[j]`` (reflected borders): two depthwise convolutions."""
    B, C, H, W = x.shape
    k = gaussian_kernel(sigma, radius, x.device).to(x.dtype)
    h = F.pad(x.reshape(B * C, 1, H, W), (radius, radius, radius, radius), mode="reflect")
    h = F.conv2d(F.conv2d(h, k.view(1, 1, 1, -1)), k.view(1, 1, -1, 1))
    return h.view(B, C, H, W)


def autocontrast(x: torch.Tensor) -> torch.Tensor:
    """Stretch each image's channels to [0, 1]: ``(x - min) / (max - min)``, unchanged where flat."""
    low = x.amin(dim=(-2, -1), keepdim=True)
    high = x.amax(dim=(-2, -1), keepdim=True)
    span = high - low
    return torch.where(span > 0, (x - low) / span.clamp_min(1e-12), x)


def grayscale(x: torch.Tensor) -> torch.Tensor:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` repeated in the three channels."""
    w = torch.tensor(GREY_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True).expand_as(x)


def contrast_grey_blur(x: torch.Tensor) -> torch.Tensor:
    """Experience 4 of the noisy stream: autocontrast, then grayscale, then Gaussian blur."""
    return gaussian_blur(grayscale(autocontrast(x)))


CORRUPTIONS = {
    "clean": lambda x: x,
    "solarize": solarize,
    "blur": gaussian_blur,
    "contrast_grey_blur": contrast_grey_blur,
}
#: The noisy stream's corruption per experience (Hemati et al., Fig. 5).
NOISY_ORDER = ("clean", "solarize", "blur", "contrast_grey_blur")


def corrupt(x: torch.Tensor, name: str) -> torch.Tensor:
    """``CORRUPTIONS[name](x)``, with one clear error for an unknown name."""
    if name not in CORRUPTIONS:
        raise ValueError(f"unknown corruption {name!r}; choose one of {list(CORRUPTIONS)}")
    return CORRUPTIONS[name](x)


class CorruptedImages(ByteImages):
    """``ByteImages`` whose batches come back corrupted by ``corruption`` (a key of ``CORRUPTIONS``)."""

    def __init__(self, images: ByteImages, corruption: str):
        if corruption not in CORRUPTIONS:
            raise ValueError(f"unknown corruption {corruption!r}; choose one of {list(CORRUPTIONS)}")
        super().__init__(images.base, images.size, images.channels)
        self.corruption = corruption

    def __getitem__(self, idx) -> torch.Tensor:
        x = super().__getitem__(idx)
        if x.dim() == 3:
            return corrupt(x.unsqueeze(0), self.corruption).squeeze(0)
        return corrupt(x, self.corruption)

    def to(self, device) -> CorruptedImages:
        return CorruptedImages(ByteImages(self.base.to(device), self.size, self.channels), self.corruption)
