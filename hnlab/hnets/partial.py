"""The partial hypernetwork's generator: channel-wise convolution heads (Hemati et al., App. A.2).

``PartialHNet(names, shapes, num_tasks)`` emits ``W [T, P]`` for the named tensors of a ResNet's
generated part (``hnlab.targets.partial.SplitResNet.rest_names``), like every generator here:

- a trunk: task embedding (32) -> 50 -> 32, ReLU after each layer, giving ``z_t``;
- each convolution kernel ``[C_out, C_in, k, k]``: a learned embedding ``u_c`` (``chan_emb_dim``) per
  output channel and ONE linear map per layer, ``kernel_c = A [z_t; u_c] + b``. Splitting
  ``A = [A_z, A_u]`` gives ``A_z z_t + A_u u_c + b``: a ``[T, 1, n]`` and a ``[1, C_out, n]`` term
  broadcast to all tasks and channels at once (no concatenation, no loop);
- the classifier weight: a linear head on ``z_t``;
- batch-norm scales and shifts and the classifier bias: per-task lookup tables.

The regularizer protects what the shared parameters (``shared_parameters``) generate; a task's
embedding and table row belong to that task alone (``trainable_parameters(t)``). The initial scale
of each generated kernel is Kaiming's ``sqrt(2 / fan_in)``. Introduced in notebooks/09_partial_hypernetworks.ipynb.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .base import as_task_ids


class PartialHNet(nn.Module):
    """Channel-wise hypernetwork for the generated part of a ResNet (see the module docstring)."""

    def __init__(self, names, shapes, num_tasks: int, emb_dim=32, hidden=(50,), trunk_out=32, chan_emb_dim=32):
        super().__init__()
        self.names, self.shapes, self.num_tasks = list(names), [tuple(s) for s in shapes], num_tasks
        self.num_outputs = sum(math.prod(s) for s in self.shapes)
        self.task_emb = nn.ParameterList(nn.Parameter(torch.randn(emb_dim)) for _ in range(num_tasks))
        dims = (emb_dim, *hidden, trunk_out)
        self.trunk = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.conv_heads, self.chan_emb, self.linear_heads = nn.ModuleDict(), nn.ParameterDict(), nn.ModuleDict()
        self.kinds, table = [], 0
        for name, shape in zip(self.names, self.shapes):
            key = name.replace(".", "_")
            if len(shape) == 4:
                self.kinds.append(("conv", key))
                fan_in = math.prod(shape[1:])
                self.conv_heads[key] = _head(trunk_out + chan_emb_dim, fan_in, math.sqrt(2 / fan_in))
                self.chan_emb[key] = nn.Parameter(torch.randn(shape[0], chan_emb_dim))
            elif len(shape) == 2:
                self.kinds.append(("linear", key))
                self.linear_heads[key] = _head(trunk_out, math.prod(shape), math.sqrt(1 / shape[1]))
            else:
                self.kinds.append(("table", (table, table + shape[0])))
                table += shape[0]
        self.tables = nn.ParameterList(nn.Parameter(torch.zeros(table)) for _ in range(num_tasks))
        self.trunk_out = trunk_out

    def shared_parameters(self) -> list[nn.Parameter]:
        """What every task's weights depend on: trunk, heads, channel embeddings (the regularized part)."""
        return [*self.trunk.parameters(), *self.conv_heads.parameters(), *self.chan_emb.values()] + [
            *self.linear_heads.parameters()
        ]

    def trainable_parameters(self, task_id: int) -> list[nn.Parameter]:
        """The shared parameters, task ``task_id``'s embedding and its table row."""
        return [*self.shared_parameters(), self.task_emb[task_id], self.tables[task_id]]

    def trunk_output(self, ids: torch.Tensor) -> torch.Tensor:
        z = torch.stack(list(self.task_emb))[ids]
        for layer in self.trunk:
            z = torch.relu(layer(z))
        return z

    def forward(self, task_ids) -> torch.Tensor:
        """``W [T, P]`` for ``task_ids`` (an int, a list or a tensor)."""
        ids = as_task_ids(task_ids, self.num_tasks, self.tables[0].device)
        z, rows = self.trunk_output(ids), torch.stack(list(self.tables))[ids]
        T, parts = len(ids), []
        for kind, key in self.kinds:
            if kind == "conv":
                head = self.conv_heads[key]
                A_z, A_u = head.weight[:, : self.trunk_out], head.weight[:, self.trunk_out :]
                kernels = (z @ A_z.T).unsqueeze(1) + (self.chan_emb[key] @ A_u.T).unsqueeze(0) + head.bias
                parts.append(kernels.reshape(T, -1))
            elif kind == "linear":
                parts.append(self.linear_heads[key](z))
            else:
                parts.append(rows[:, key[0] : key[1]])
        return torch.cat(parts, -1)

    def num_shared(self) -> int:
        """Parameters the regularizer protects (the paper's "# of HN parameters" less embeddings and tables)."""
        return sum(p.numel() for p in self.shared_parameters())


def _head(fan_in: int, fan_out: int, out_std: float) -> nn.Linear:
    """A linear head whose outputs start with std about ``out_std`` for unit-variance inputs, zero bias."""
    layer = nn.Linear(fan_in, fan_out)
    nn.init.normal_(layer.weight, std=out_std / math.sqrt(fan_in))
    nn.init.zeros_(layer.bias)
    return layer
