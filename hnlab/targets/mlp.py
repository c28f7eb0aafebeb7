"""Functional target networks: ``tnet(x, W)`` with generated weights ``W``.

A target network owns no trainable parameters. It knows the shapes of its parameter
tensors and applies them from a flat vector ``W`` of shape ``[P]`` or a batch of them,
``[T, P]`` (one network per task, all evaluated in one call). Introduced in
notebooks/01_toy1d.ipynb.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "elu": F.elu,
    "tanh": torch.tanh,
    "linear": lambda x: x,
}


def activation_fn(name: str):
    """Look up an activation by name (``sigmoid``, ``relu``, ``elu``, ``tanh``, ``linear``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name]


class GeneratedLinear(nn.Module):
    """A linear layer whose weight ``[T, out, in]`` and bias ``[T, out]`` are inputs.

    It is a module only so that forward hooks can watch activations
    (see ``hnlab.init`` diagnostics); it holds no parameters.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        if weight.dim() == 2:  # one network: the plain (fastest) linear layer
            return F.linear(x, weight, bias)
        y = torch.matmul(x, weight.transpose(-1, -2))  # x [B,in] or [T,B,in] -> [T,B,out]
        return y if bias is None else y + bias.unsqueeze(-2)


class MLP(nn.Module):
    """Multi-layer perceptron target network applied with external weights.

    ``MLP(1, (10, 10), 1, "sigmoid")`` is the toy of von Oswald et al. (App. C).
    With ``num_heads > 1`` the output layer holds one head of ``out_features`` units per
    task; pass ``head=t`` to read task ``t``'s head.

    Weights are laid out layer by layer, weight then bias, in ``param_shapes`` order.
    """

    def __init__(
        self,
        in_features: int,
        hidden: tuple[int, ...] | list[int],
        out_features: int,
        activation: str = "relu",
        num_heads: int = 1,
        bias: bool = True,
    ):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features), ("num_heads", num_heads)):
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        hidden = tuple(hidden)
        if not all(isinstance(h, int) and h > 0 for h in hidden):
            raise ValueError(f"hidden must be positive ints, got {hidden!r}")
        self.act = activation_fn(activation)
        self.activation, self.has_bias = activation, bias
        self.in_features, self.hidden, self.out_features, self.num_heads = in_features, hidden, out_features, num_heads
        sizes = (in_features, *hidden, out_features * num_heads)
        self.layers = nn.ModuleList(GeneratedLinear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.param_shapes: list[tuple[int, ...]] = []
        self.param_names: list[str] = []
        for i, layer in enumerate(self.layers):
            self.param_shapes.append((layer.out_features, layer.in_features))
            self.param_names.append(f"layers.{i}.weight")
            if bias:
                self.param_shapes.append((layer.out_features,))
                self.param_names.append(f"layers.{i}.bias")
        self.param_sizes = [math.prod(s) for s in self.param_shapes]
        self.num_params = sum(self.param_sizes)

    def config(self) -> dict:
        """The constructor arguments, for checkpoints and results JSON."""
        return {
            "kind": "mlp",
            "in_features": self.in_features,
            "hidden": list(self.hidden),
            "out_features": self.out_features,
            "activation": self.activation,
            "num_heads": self.num_heads,
            "bias": self.has_bias,
        }

    def unflatten(self, W: torch.Tensor) -> list[torch.Tensor]:
        """Split ``W [T, P]`` into per-tensor views ``[T, *shape]``."""
        if W.shape[-1] != self.num_params:
            raise ValueError(f"W has {W.shape[-1]} weights per network, this target needs {self.num_params}")
        chunks = torch.split(W, self.param_sizes, dim=-1)
        return [c.reshape(*W.shape[:-1], *s) for c, s in zip(chunks, self.param_shapes)]

    def forward(self, x: torch.Tensor, W: torch.Tensor, head: int | None = None) -> torch.Tensor:
        """Apply the network with weights ``W``.

        ``W [P]`` gives outputs ``[B, out]``; ``W [T, P]`` gives ``[T, B, out]``, where ``x`` is
        ``[B, in]`` (the same inputs for every network) or ``[T, B, in]``.
        """
        params = self.unflatten(W)
        per_layer = 2 if self.has_bias else 1
        h = x
        for i, layer in enumerate(self.layers):
            weight = params[per_layer * i]
            bias = params[per_layer * i + 1] if self.has_bias else None
            h = layer(h, weight, bias)
            if i < len(self.layers) - 1:
                h = self.act(h)
        return h if head is None else self.select_head(h, head)

    def select_head(self, y: torch.Tensor, head: int) -> torch.Tensor:
        """The ``out_features`` outputs of head ``head``."""
        if not 0 <= head < self.num_heads:
            raise ValueError(f"head {head} out of range for a target with {self.num_heads} heads")
        return y[..., head * self.out_features : (head + 1) * self.out_features]
