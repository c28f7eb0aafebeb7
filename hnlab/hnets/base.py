"""The one interface every hypernetwork follows: ``hnet(task_ids) -> W [T, P]``.

Each hypernetwork is a small trunk (an MLP over its input embeddings) followed by a
linear output head. Keeping the head linear and separate (``trunk`` then ``head``) lets
the output regularizer work on the trunk outputs (see ``hnlab.regularizers``).
Introduced in notebooks/01_toy1d.ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..targets import activation_fn


def as_task_ids(task_ids, num_tasks: int, device=None) -> torch.Tensor:
    """Turn an int, a list or a tensor of task ids into a checked 1-D long tensor."""
    if isinstance(task_ids, bool) or task_ids is None:
        raise TypeError(f"task_ids must be an int, a list of ints or a tensor, got {task_ids!r}")
    ids = torch.as_tensor(task_ids, dtype=torch.long, device=device).reshape(-1)
    if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= num_tasks):
        raise ValueError(
            f"task ids {ids.tolist()} out of range: this hypernetwork has {num_tasks} tasks (0..{num_tasks - 1})"
        )
    return ids


def linear_params(fan_in: int, fan_out: int) -> list[nn.Parameter]:
    """Weight ``[fan_out, fan_in]`` and bias ``[fan_out]`` with PyTorch's default Linear init."""
    layer = nn.Linear(fan_in, fan_out)
    return [nn.Parameter(layer.weight.detach().clone()), nn.Parameter(layer.bias.detach().clone())]


def head_params_init(fan_in: int, fan_out: int) -> list[nn.Parameter]:
    """The head's weight stored transposed, ``[fan_in, fan_out]`` (one contiguous row per
    trunk unit), and its bias ``[fan_out]``; same default init as ``linear_params``.

    The output regularizer (``hnlab.regularizers.fast``) stacks head-sized rows into one
    matrix, and the look-ahead writes into those rows: this layout makes both contiguous.
    """
    weight, bias = linear_params(fan_in, fan_out)
    return [nn.Parameter(weight.detach().T.contiguous()), bias]


class HyperNetwork(nn.Module):
    """Base class: learned task embeddings, an MLP trunk and a linear head.

    Subclasses define ``trunk_inputs(task_emb, theta) -> [T, N, D]`` (N = 1 for a full
    hypernetwork, the number of chunks for a chunked one) and ``head_size``.
    ``theta`` is a list of tensors in ``self.theta`` order; passing another list
    (for example ``theta + delta`` for the look-ahead) evaluates the hypernetwork at
    those parameters without touching the module.
    """

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        emb_dim: int,
        hidden: Sequence[int],
        activation: str,
        emb_std: float = 1.0,
    ):
        super().__init__()
        if not isinstance(num_tasks, int) or num_tasks < 1:
            raise ValueError(f"num_tasks must be a positive int, got {num_tasks!r}")
        if not isinstance(emb_dim, int) or emb_dim < 0:
            raise ValueError(f"emb_dim must be a non-negative int, got {emb_dim!r}")
        self.target_shapes = [tuple(int(d) for d in s) for s in target_shapes]
        self.num_outputs = sum(math.prod(s) for s in self.target_shapes)
        self.num_tasks, self.emb_dim, self.hidden = num_tasks, emb_dim, tuple(hidden)
        self.activation, self.act = activation, activation_fn(activation)
        self.task_emb = nn.ParameterList(nn.Parameter(torch.randn(emb_dim) * emb_std) for _ in range(num_tasks))
        self.theta = nn.ParameterList()

    # -- subclasses ------------------------------------------------------------------
    def trunk_inputs(self, task_emb: torch.Tensor, theta: list[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def _add_trunk_and_head(self, in_dim: int, head_size: int) -> None:
        """Append hidden-layer and head parameters to ``theta`` (called by subclasses)."""
        sizes = (in_dim, *self.hidden)
        for a, b in zip(sizes[:-1], sizes[1:]):
            self.theta.extend(linear_params(a, b))
        self.theta.extend(head_params_init(sizes[-1], head_size))
        self.head_size = head_size

    # -- the interface ---------------------------------------------------------------
    def task_embeddings(self, task_ids) -> torch.Tensor:
        """Stacked embeddings ``[T, emb_dim]`` of the given tasks."""
        ids = as_task_ids(task_ids, self.num_tasks)
        return torch.stack([self.task_emb[i] for i in ids.tolist()])

    def trunk(self, task_emb: torch.Tensor, theta: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Trunk outputs ``z [T, N, H]``: the inputs of the linear head."""
        theta = list(self.theta) if theta is None else theta
        h = self.trunk_inputs(task_emb, theta)
        start = self.num_leading_params
        for i in range(len(self.hidden)):
            h = self.act(F.linear(h, theta[start + 2 * i], theta[start + 2 * i + 1]))
        return h

    def head_params(self, theta: list[torch.Tensor] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """The linear head's weight ``[C, H]`` (a view of the stored ``[H, C]``) and bias ``[C]``."""
        theta = list(self.theta) if theta is None else theta
        return theta[-2].T, theta[-1]

    def head(self, z: torch.Tensor, theta: list[torch.Tensor] | None = None) -> torch.Tensor:
        """Head outputs ``[T, N, C]`` of trunk outputs ``z [T, N, H]``: ``z W^T + b``."""
        theta = list(self.theta) if theta is None else theta
        flat = torch.addmm(theta[-1], z.reshape(-1, z.shape[-1]), theta[-2])
        return flat.reshape(*z.shape[:-1], -1)

    def outputs_from_head(self, head_out: torch.Tensor) -> torch.Tensor:
        """Flatten head outputs ``[T, N, C]`` to weights ``[T, P]``."""
        return head_out.reshape(head_out.shape[0], -1)[:, : self.num_outputs]

    def forward(
        self, task_ids=None, *, task_emb: torch.Tensor | None = None, theta: list[torch.Tensor] | None = None
    ) -> torch.Tensor:
        """Generate target weights ``[T, P]`` for ``task_ids`` or for explicit ``task_emb [T, E]``."""
        if task_emb is None:
            if task_ids is None:
                raise ValueError("give task_ids or task_emb")
            task_emb = self.task_embeddings(task_ids)
        elif task_emb.dim() != 2 or task_emb.shape[1] != self.emb_dim:
            raise ValueError(f"task_emb must have shape [T, {self.emb_dim}], got {tuple(task_emb.shape)}")
        theta = list(self.theta) if theta is None else theta
        return self.outputs_from_head(self.head(self.trunk(task_emb, theta), theta))

    num_leading_params = 0  # parameters in theta before the trunk layers (chunk embeddings)
    #: What the head applies to its output; hyperfan init (``hnlab.init``) needs "linear".
    head_activation = "linear"

    def trainable_parameters(self, task_id: int) -> list[nn.Parameter]:
        """What trains while learning ``task_id``: theta and that task's embedding only."""
        as_task_ids(task_id, self.num_tasks)
        return list(self.theta) + [self.task_emb[task_id]]

    def num_theta(self) -> int:
        return sum(p.numel() for p in self.theta)

    def compression_ratio(self) -> float:
        """|theta_h and {e_t}| / |theta_target|, as in von Oswald et al. Fig. 3b and A7."""
        learned = self.num_theta() + sum(e.numel() for e in self.task_emb)
        return learned / self.num_outputs

    def config(self) -> dict:
        return {
            "kind": type(self).__name__,
            "target_shapes": [list(s) for s in self.target_shapes],
            "num_tasks": self.num_tasks,
            "emb_dim": self.emb_dim,
            "hidden": list(self.hidden),
            "activation": self.activation,
        }
