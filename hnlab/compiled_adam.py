"""Adam's look-ahead step in one compiled pass, for big tensors on the CPU (notebooks/03_benchmarks.ipynb).

The output regularizer's look-ahead (``hnlab.regularizers.adam_lookahead``) needs the step
Adam would take now without changing Adam's moments. PyTorch's fused Adam kernel updates
its moments in place, so the plain route runs it on copies: about a dozen passes over the
PermutedMNIST hypernetwork's 2M-weight head every step. ``add_adam_step_`` computes the
same step in one loop compiled by ``torch.compile`` (read the gradient, both moments and
``out``; write ``out``).

It is used for CPU tensors of at least ``MIN_NUMEL`` elements, where it pays for its first
call (10-30 s of compiling, cached on disk afterwards). Set ``HNLAB_COMPILE=0`` to turn it
off. Where compiling fails (no C++ compiler, for one) it warns once and the plain route
takes over. ``tests/test_regularizers.py`` checks it against PyTorch's Adam.
"""
from __future__ import annotations

import math
import os
import warnings

import torch

#: Smaller tensors keep the plain route: the SplitMNIST head (420k weights) never compiles.
MIN_NUMEL = 1 << 20

_kernel = None
_broken = False


def wanted(tensor: torch.Tensor) -> bool:
    """Whether ``add_adam_step_`` should handle ``tensor`` (a big contiguous CPU float tensor)."""
    return (not _broken and os.environ.get("HNLAB_COMPILE", "1") != "0" and tensor.device.type == "cpu"
            and tensor.numel() >= MIN_NUMEL and tensor.is_contiguous() and tensor.dtype == torch.float32)


def _adam_step_into(out, grad, exp_avg, exp_avg_sq, coef):
    """``out += -lr/bc1 * m' / (sqrt(v')/sqrt(bc2) + eps)`` with the moments ``m', v'`` after this
    gradient (PyTorch's formula); ``coef = [beta1, beta2, lr/bc1, sqrt(bc2), eps]``."""
    m = torch.lerp(exp_avg, grad, 1 - coef[0])
    v = exp_avg_sq * coef[1] + grad * grad * (1 - coef[1])
    out.copy_(out - coef[2] * m / (v.sqrt() / coef[3] + coef[4]))


def add_adam_step_(out: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor | None,
                   exp_avg_sq: torch.Tensor | None, step: float, group: dict) -> bool:
    """Add the Adam step (``step``-th, hyperparameters from ``group``) to ``out`` in place.

    The moments (None before Adam's first step) are read, never written. Returns False,
    leaving ``out`` untouched, when the compiled kernel is unavailable.
    """
    global _kernel, _broken
    if exp_avg is None:
        exp_avg = exp_avg_sq = torch.zeros_like(grad)
    beta1, beta2 = group["betas"]
    coef = torch.tensor([beta1, beta2, group["lr"] / (1 - beta1 ** step), math.sqrt(1 - beta2 ** step),
                         group["eps"]], dtype=out.dtype)
    try:
        if _kernel is None:
            _kernel = torch.compile(_adam_step_into, dynamic=False)
        _kernel(out, grad, exp_avg, exp_avg_sq, coef)
    except Exception as error:  # compiling needs a C++ compiler; fall back to the plain route
        _broken = True
        warnings.warn(f"the compiled Adam look-ahead is off ({type(error).__name__}: {error}); "
                      "using PyTorch's fused kernel on copies of the moments", RuntimeWarning, stacklevel=2)
        return False
    return True
