"""The full hypernetwork (HMLP): one pass emits every target weight (notebooks/01_toy1d.ipynb)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .base import HyperNetwork


class HMLP(HyperNetwork):
    """Full MLP hypernetwork: ``task_emb -> hidden layers -> linear head of size P``.

    ``HMLP(tnet.param_shapes, num_tasks=3, emb_dim=2, hidden=(10, 10), activation="sigmoid")``
    is the 1D toy's hypernetwork (von Oswald et al., App. C). ``hidden=()`` gives the
    one-layer linear hypernetwork of Chang et al. Fig. 1.
    """

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        emb_dim: int = 8,
        hidden: Sequence[int] = (100, 100),
        activation: str = "relu",
        emb_std: float = 1.0,
    ):
        super().__init__(target_shapes, num_tasks, emb_dim, hidden, activation, emb_std)
        self._add_trunk_and_head(emb_dim, self.num_outputs)

    def trunk_inputs(self, task_emb: torch.Tensor, theta: list[torch.Tensor]) -> torch.Tensor:
        return task_emb.unsqueeze(1)  # [T, 1, E]: one "chunk" holding everything
