"""No hypernetwork at all: the target's weights are trained directly (the fine-tuning baseline)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import HyperNetwork


class DirectWeights(HyperNetwork):
    """One weight vector shared by all tasks, behind the hypernetwork interface.

    ``DirectWeights(tnet.param_shapes, num_tasks)(task_ids)`` returns the same ``[P]``
    weights for every task, so fine-tuning a target network runs through the same
    training loop as a hypernetwork. Weights start with PyTorch's default Linear init
    (uniform, bound 1/sqrt(fan_in)); its task embeddings are empty.
    """

    def __init__(self, target_shapes: Sequence[Sequence[int]], num_tasks: int):
        super().__init__(target_shapes, num_tasks, emb_dim=0, hidden=(), activation="linear")
        self.theta.append(nn.Parameter(self._default_init()))

    def _default_init(self) -> torch.Tensor:
        parts, fan_in = [], 1
        for shape in self.target_shapes:
            if len(shape) > 1:
                fan_in = math.prod(shape[1:])
            bound = 1.0 / math.sqrt(fan_in)
            parts.append(torch.empty(math.prod(shape)).uniform_(-bound, bound))
        return torch.cat(parts)

    def forward(self, task_ids=None, *, task_emb=None, theta=None) -> torch.Tensor:
        n = task_emb.shape[0] if task_emb is not None else self.task_embeddings(task_ids).shape[0]
        weights = (list(self.theta) if theta is None else theta)[0]
        return weights.unsqueeze(0).expand(n, -1)
