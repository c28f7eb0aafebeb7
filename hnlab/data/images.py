"""Images at CIFAR's shape kept as bytes, and batched augmentation (notebooks/08_conv_targets.ipynb).

``ByteImages`` holds ``uint8 [N, C, h, w]`` and turns only the rows it is indexed with into
floats ``[B, 3, 32, 32]`` in [0, 1]: zero padding to 32x32 and grey images repeated to 3
channels happen per batch, so 120,000 padded MNIST images cost 94 MB instead of 1.5 GB.
Like ``hnlab.data.sequences.PermutedImages`` it stands in for a tensor wherever a ``Task``
expects one (a torch function given the whole object sees the float tensor).

``augment`` is the papers' CIFAR augmentation as tensor operations on a whole batch: a random
crop of the image padded by 4 pixels, and (for CIFAR) a random horizontal flip.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils._pytree import tree_map


class ByteImages:
    """Images ``base uint8 [N, C, h, w]`` seen as floats ``[N, 3, size, size]`` in [0, 1], lazily."""

    def __init__(self, base: torch.Tensor, size: int = 32, channels: int = 3):
        if base.dtype != torch.uint8 or base.dim() != 4:
            raise ValueError(f"ByteImages needs uint8 images [N, C, h, w], got {base.dtype} {tuple(base.shape)}")
        if base.shape[1] not in (1, channels) or base.shape[2] > size or base.shape[3] > size:
            raise ValueError(f"cannot show images {tuple(base.shape[1:])} as [{channels}, {size}, {size}]")
        self.base, self.size, self.channels = base, size, channels

    def __len__(self) -> int:
        return len(self.base)

    @property
    def shape(self) -> torch.Size:
        return torch.Size((len(self.base), self.channels, self.size, self.size))

    @property
    def device(self) -> torch.device:
        return self.base.device

    def __getitem__(self, idx) -> torch.Tensor:
        x = self.base[idx].float().div_(255.0)
        h, w = x.shape[-2:]
        top, left = (self.size - h) // 2, (self.size - w) // 2
        if (h, w) != (self.size, self.size):
            x = F.pad(x, (left, self.size - w - left, top, self.size - h - top))
        return x.expand(*x.shape[:-3], self.channels, self.size, self.size)

    def materialize(self) -> torch.Tensor:
        return self[:]

    def to(self, device) -> ByteImages:
        return ByteImages(self.base.to(device), self.size, self.channels)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        unwrap = lambda a: a.materialize() if isinstance(a, ByteImages) else a
        return func(*tree_map(unwrap, args), **tree_map(unwrap, kwargs or {}))


def augment(x: torch.Tensor, generator: torch.Generator | None = None, pad: int = 4, flip: bool = True) -> torch.Tensor:
    """A random crop of each image padded by ``pad`` zeros, and a random horizontal flip when ``flip``.

    One gather for the whole batch ``x [B, C, H, W]``; the offsets and flips are drawn on the CPU
    from ``generator`` (so a seeded run is reproducible on any device).
    """
    B, C, H, W = x.shape
    if pad:
        padded = F.pad(x, (pad, pad, pad, pad))
        dy, dx = torch.randint(0, 2 * pad + 1, (2, B), generator=generator).to(x.device)
        rows = (dy[:, None] + torch.arange(H, device=x.device))[:, None, :, None]  # [B, 1, H, 1]
        cols = (dx[:, None] + torch.arange(W, device=x.device))[:, None, None, :]  # [B, 1, 1, W]
        batch = torch.arange(B, device=x.device)[:, None, None, None]
        chan = torch.arange(C, device=x.device)[None, :, None, None]
        x = padded[batch, chan, rows, cols]
    if flip:
        mirror = (torch.rand(B, generator=generator) < 0.5).to(x.device)[:, None, None, None]
        x = torch.where(mirror, x.flip(-1), x)
    return x
