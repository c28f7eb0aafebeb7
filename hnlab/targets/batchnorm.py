"""Batch-norm with generated affine parameters and running statistics kept per task.

von Oswald et al. (App. C) generate the batch-norm scale and shift with the other weights and
checkpoint the running statistics after every task: task t is evaluated with the mean and variance
estimated while task t was learned. ``TaskStats`` keeps those statistics for every batch-norm layer
of a network in two buffers ``[num_tasks, channels of all layers]``; ``task_batch_norm`` normalizes
the grouped layout ``[B, T * C, H, W]`` (T networks side by side) with each network's own rows.

The generated scale is an offset from 1 (``gamma = 1 + w``), so a generator whose outputs start
near zero starts every batch-norm layer near the identity. Introduced in
notebooks/08_conv_targets.ipynb.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class TaskStats(nn.Module):
    """Running means and variances ``[num_tasks, total_channels]`` of every batch-norm layer."""

    def __init__(self, channels: dict[str, int], num_tasks: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.offsets, start = {}, 0
        for name, c in channels.items():
            self.offsets[name] = (start, start + c)
            start += c
        self.num_tasks, self.momentum, self.eps = num_tasks, momentum, eps
        self.register_buffer("running_mean", torch.zeros(num_tasks, start))
        self.register_buffer("running_var", torch.ones(num_tasks, start))

    def check_ids(self, ids) -> torch.Tensor:
        ids = torch.as_tensor(ids, dtype=torch.long, device=self.running_mean.device).reshape(-1)
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.num_tasks):
            raise ValueError(f"batch-norm statistics {ids.tolist()} out of range: kept for {self.num_tasks} tasks")
        return ids


def task_batch_norm(
    h: torch.Tensor,
    gamma: torch.Tensor,
    beta: torch.Tensor,
    mean: torch.Tensor | None,
    var: torch.Tensor | None,
    training: bool,
    momentum: float,
    eps: float,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """Normalize ``h [B, T C, H, W]`` with scales ``1 + gamma [T, C]``, shifts ``beta [T, C]``.

    Training: batch statistics, and the updated running ``(mean, var)`` ``[T, C]`` come back;
    evaluation: the given running statistics, and ``(None, None)`` come back. ``mean=None``: batch
    statistics in either mode, nothing tracked.
    """
    T, C = gamma.shape
    if mean is None:  # batch statistics, nothing tracked (the vmap route while training)
        return F.batch_norm(h, None, None, (1 + gamma).reshape(-1), beta.reshape(-1), True, 0.0, eps), None, None
    if not training:
        out = F.batch_norm(
            h, mean.reshape(-1), var.reshape(-1), (1 + gamma).reshape(-1), beta.reshape(-1), False, 0.0, eps
        )
        return out, None, None
    run_mean, run_var = mean.reshape(-1).clone(), var.reshape(-1).clone()
    out = F.batch_norm(h, run_mean, run_var, (1 + gamma).reshape(-1), beta.reshape(-1), True, momentum, eps)
    return out, run_mean.view(T, C), run_var.view(T, C)
