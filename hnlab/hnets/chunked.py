"""The chunked hypernetwork with learned chunk embeddings (von Oswald et al., Sec. 2.2).

Introduced in notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .base import HyperNetwork


class ChunkedHMLP(HyperNetwork):
    """Chunked hypernetwork: ``[task_emb; chunk_emb_i] -> hidden layers -> chunk_size`` weights.

    The same network is applied to every chunk embedding ``c_i`` (shared by all tasks);
    the chunks are concatenated and cut to the target's ``P`` weights. Chunk embeddings
    are part of ``theta`` (its first entry) and train with it.
    """

    num_leading_params = 1

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        chunk_size: int,
        emb_dim: int = 8,
        chunk_emb_dim: int = 8,
        hidden: Sequence[int] = (100, 100),
        activation: str = "relu",
        emb_std: float = 1.0,
    ):
        super().__init__(target_shapes, num_tasks, emb_dim, hidden, activation, emb_std)
        if not isinstance(chunk_size, int) or chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
        if not isinstance(chunk_emb_dim, int) or chunk_emb_dim < 1:
            raise ValueError(f"chunk_emb_dim must be a positive int, got {chunk_emb_dim!r}")
        self.chunk_size, self.chunk_emb_dim = chunk_size, chunk_emb_dim
        self.num_chunks = math.ceil(self.num_outputs / chunk_size)
        self.theta.append(nn.Parameter(torch.randn(self.num_chunks, chunk_emb_dim) * emb_std))
        self._add_trunk_and_head(emb_dim + chunk_emb_dim, chunk_size)

    def chunk_emb(self, theta: list[torch.Tensor] | None = None) -> torch.Tensor:
        return (list(self.theta) if theta is None else theta)[0]

    def trunk_inputs(self, task_emb: torch.Tensor, theta: list[torch.Tensor]) -> torch.Tensor:
        chunks = self.chunk_emb(theta)
        T, N = task_emb.shape[0], chunks.shape[0]
        return torch.cat([task_emb.unsqueeze(1).expand(T, N, -1), chunks.unsqueeze(0).expand(T, N, -1)], dim=-1)

    def config(self) -> dict:
        return {**super().config(), "chunk_size": self.chunk_size, "chunk_emb_dim": self.chunk_emb_dim}
