"""Hyperfan for the chunked hypernetwork, whose head is shared by every chunk.

Introduced in notebooks/02_init_variance.ipynb. Table 1 sets one head variance per
target tensor, but a ``ChunkedHMLP`` emits every chunk through the same head ``H``
(``chunk_size x d_k``), so no head row belongs to one layer. Following Chang et al.
App. A.2, the per-chunk input (here the chunk embedding ``c_n``) becomes the layer's
"output layer" and carries the scale.

Derivation. The trunk input of chunk ``n`` is ``u_n = [e; c_n]`` (``d_u = d_e + d_c``).
With a linear or ReLU trunk (positively homogeneous), zero biases and fan-in init
(Xavier for linear, Kaiming for ReLU), every trunk layer keeps the mean square of its
input per unit, so over the trunk weights ``E[h_k(u)^2] = |u|^2 / d_u``. Give the shared
head ``Var(H) = s / d_k``; then every weight of chunk ``n`` has

    Var(W_p | u_n) = d_k Var(H) E[h^2] = s (|e|^2 + |c_n|^2) / d_u.

We want ``v_n``, the hyperfan target variance of the tensor that holds chunk ``n``
(``hnlab.init.full.hyperfan_target_variances``; a chunk straddling tensors gets the mean of
its positions' targets, which keeps each tensor's mean variance). So

    |c_n|^2 = d_u v_n / s - |e|^2,

with ``|e|^2`` the mean over tasks. The one free number ``s`` is fixed by letting the
chunk with the smallest positive target keep the chunk embeddings' current scale
``|c|^2 = d_c sigma_c^2``: ``s = d_u v_min / (|e|^2 + d_c sigma_c^2)``. Every other chunk
embedding is rescaled (direction kept) to the norm above; a zero target (a hyperfan-out
bias) gets ``c_n = 0`` and the floor ``s |e|^2 / d_u``.
"""

from __future__ import annotations

import math

import torch

from .full import (
    DISTRIBUTIONS,
    HYPERFAN_MODES,
    _check_choice,
    check_linear_head,
    fan_in_trunk_,
    hyperfan_target_variances,
    sample_,
)

HOMOGENEOUS_TRUNKS = ("linear", "relu")


def chunk_target_variances(hnet, mode: str = "in", activation: str = "linear") -> torch.Tensor:
    """``v_n [num_chunks]``: mean hyperfan target variance over each chunk's real positions."""
    variances = torch.tensor(hyperfan_target_variances(hnet.target_shapes, mode, activation))
    sizes = torch.tensor([math.prod(s) for s in hnet.target_shapes])
    per_position = variances.repeat_interleave(sizes)
    padded = torch.full((hnet.num_chunks * hnet.chunk_size,), float("nan"))
    padded[: per_position.numel()] = per_position
    return padded.reshape(hnet.num_chunks, hnet.chunk_size).nanmean(dim=1)


@torch.no_grad()
def chunked_hyperfan_init_(
    hnet,
    mode: str = "in",
    activation: str = "linear",
    distribution: str = "uniform",
    generator: torch.Generator | None = None,
):
    """Hyperfan-``mode`` init of a ``ChunkedHMLP`` in place (derivation in the module
    docstring); ``activation`` is the main net's. Returns ``hnet``."""
    _check_choice("hyperfan mode", mode, HYPERFAN_MODES)
    _check_choice("distribution", distribution, DISTRIBUTIONS)
    check_linear_head(hnet)
    if not hasattr(hnet, "chunk_emb"):
        raise TypeError(f"{type(hnet).__name__} is not chunked; use hnlab.init.hyperfan_init_")
    if hnet.hidden and hnet.activation not in HOMOGENEOUS_TRUNKS:
        raise ValueError(f"chunked hyperfan needs a linear or relu trunk, not {hnet.activation!r}")
    fan_in_trunk_(hnet, distribution, generator)
    chunks = hnet.chunk_emb()
    targets = chunk_target_variances(hnet, mode, activation).to(chunks.device)
    emb_sq = hnet.task_embeddings(list(range(hnet.num_tasks))).pow(2).sum(1).mean()
    chunk_sq = chunks.pow(2).sum(1).mean()
    d_u = hnet.emb_dim + hnet.chunk_emb_dim
    scale = d_u * targets[targets > 0].min() / (emb_sq + chunk_sq)
    new_sq = (d_u * targets / scale - emb_sq).clamp(min=0)
    chunks.mul_((new_sq / chunks.pow(2).sum(1).clamp(min=1e-12)).sqrt().unsqueeze(1))
    head_w, head_b = hnet.head_params()
    sample_(head_w, math.sqrt(scale / head_w.shape[1]), distribution, generator)
    head_b.zero_()
    return hnet
