"""Device choice and seeding, shared by every lesson (introduced in notebooks/01_toy1d.ipynb)."""

from __future__ import annotations

import ctypes
import os
import random
import sys

import numpy as np
import torch

from .checks import is_int

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """Resolve ``device``: ``"auto"`` means ``$HNLAB_DEVICE`` if set, else cuda, mps, cpu."""
    if isinstance(device, torch.device):
        return device
    if not isinstance(device, str):
        raise TypeError(f"device must be a string such as 'auto', 'cpu' or 'cuda', got {device!r}")
    if device == "auto":
        device = os.environ.get("HNLAB_DEVICE", "auto")
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    kind = device.split(":")[0]
    if kind not in DEVICE_CHOICES:
        raise ValueError(f"unknown device {device!r}; choose one of {DEVICE_CHOICES}")
    if kind == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device 'cuda' was asked for but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise RuntimeError("device 'mps' was asked for but is not available; use device='auto' or 'cpu'")
    return torch.device(device)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a torch generator seeded the same way."""
    if not is_int(seed):
        raise TypeError(f"seed must be an int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def reuse_freed_memory() -> bool:
    """Keep freed memory in the process for the next allocation (Linux with glibc; else a no-op).

    Every training step frees and re-allocates the same head-sized tensors (8 MB for the
    PermutedMNIST hypernetwork). By default glibc hands such blocks back to the system and
    the next step pays a page fault per 4 KB page, about 1,400 per step. On the 2-core
    development machine an unprotected step (bench/cl_step.py) took 12.8-18.5 ms with
    glibc's defaults and 11.5-12.3 ms with this setting. ``train_continual`` and
    ``train_multitask`` call it; the process keeps its peak memory. Returns whether the
    setting took effect.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))
