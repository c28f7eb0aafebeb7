"""The output regularizer without generating the old tasks' weights (notebooks/03_benchmarks.ipynb).

The hypernetwork's last layer is linear: task t's weights are ``W z_t + b`` for the trunk
outputs ``z_t [N, H]`` (one row per chunk). Write the head as the snapshot plus a change,
``W = W* + D``, ``b = b* + d``, and ``u_t = z_t - z*_t``. The residual of one chunk is

    W z + b - (W* z* + b*) = [W*, D, d] @ [u; z; 1] = A v,

so the penalty is ``sum_(t,n) v^T (A^T A) v``: a ``(2H+1) x (2H+1)`` Gram matrix, built from
``W*^T W*`` (fixed per task), ``W*^T [D, d]`` and ``[D, d]^T [D, d]``, and the small vectors
``v``. The cost is a few head-sized products, whatever the number of old tasks, instead of
one hypernetwork pass per old task. Expanding around the snapshot keeps float32 accurate when
``W`` is close to ``W*`` (no difference of large squares). The last chunk, cut to the
target's size, uses the Gram of the head rows it keeps. ``tests/test_fast_regularizer.py``
checks values and gradients against ``hnlab.regularizers.output_regularizer``.
"""
from __future__ import annotations

import torch

from .hnets import HyperNetwork


def supports_fast_regularizer(hnet: HyperNetwork) -> bool:
    """True for hypernetworks with a trunk and a linear head (HMLP, ChunkedHMLP)."""
    return len(hnet.theta) >= 2 and hasattr(hnet, "head_size") and hnet.head_size == hnet.theta[-1].numel()


def _gram(a: torch.Tensor, b: torch.Tensor, rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(a[:rows]^T b[:rows], a^T b)``: Grams over the last chunk's kept rows and over all rows."""
    kept = a[:rows].T @ b[:rows]
    return kept, torch.addmm(kept, a[rows:].T, b[rows:])


class _HeadGrams(torch.autograd.Function):
    """Grams of the head change ``E = [W + dW - W*, b + db - b*]`` (``[C, H+1]``):
    ``W*^T E`` and ``E^T E``, over the last chunk's kept rows and over all rows.

    The backward is written out, ``dE = W* gC + E (gS + gS^T)`` (plus the same over the kept
    rows): two matrix products per part instead of autograd's copies of every row slice,
    which made the regularizer cost as much as the task's own step (bench/cl_step.py).
    The look-ahead step ``dW, db`` is a constant: gradients go to ``W`` and ``b``.
    """

    @staticmethod
    def forward(ctx, weight, bias, d_weight, d_bias, w_star, b_star, rows: int):
        hidden = weight.shape[1]
        change = torch.empty(weight.shape[0], hidden + 1, dtype=weight.dtype, device=weight.device)
        torch.sub(weight, w_star, out=change[:, :hidden])
        torch.sub(bias, b_star, out=change[:, hidden])
        if d_weight is not None:
            change[:, :hidden].add_(d_weight)
            change[:, hidden].add_(d_bias)
        ctx.save_for_backward(change, w_star)
        ctx.rows, ctx.hidden = rows, hidden
        return (*_gram(w_star, change, rows), *_gram(change, change, rows))

    @staticmethod
    def backward(ctx, g_cross_last, g_cross_full, g_self_last, g_self_full):
        change, w_star = ctx.saved_tensors
        rows, hidden = ctx.rows, ctx.hidden
        grad = torch.addmm(w_star @ g_cross_full, change, g_self_full + g_self_full.T)
        grad[:rows].addmm_(w_star[:rows], g_cross_last).addmm_(change[:rows], g_self_last + g_self_last.T)
        return grad[:, :hidden], grad[:, hidden], None, None, None, None, None


class FastOutputRegularizer:
    """Snapshot of the old tasks taken before a new task; call it for the penalty.

    ``reg(delta=None, index=None)`` equals ``output_regularizer(hnet, targets, ids, delta)``
    for the old tasks ``ids`` (all, or ``ids[index]`` for a random subset).
    """

    def __init__(self, hnet: HyperNetwork, task_ids):
        if not supports_fast_regularizer(hnet):
            raise TypeError(f"{type(hnet).__name__} has no linear head; use hnlab.regularizers.output_regularizer")
        self.hnet = hnet
        with torch.no_grad():
            theta = [p.detach().clone() for p in hnet.theta]
            # Old tasks' embeddings stay fixed while a new task trains: stack them once.
            self.task_emb = hnet.task_embeddings(list(task_ids)).detach().clone()
            self.z_star = hnet.trunk(self.task_emb, theta)  # [T, N, H]
            self.w_star, self.b_star = hnet.head_params(theta)
            num_chunks = self.z_star.shape[1]
            self.last_rows = hnet.num_outputs - (num_chunks - 1) * hnet.head_size
            self.s_last, self.s_full = _gram(self.w_star, self.w_star, self.last_rows)

    def _embeddings(self, index) -> torch.Tensor:
        return self.task_emb if index is None else self.task_emb[index]

    def __call__(self, delta: list[torch.Tensor] | None = None, index=None) -> torch.Tensor:
        theta = list(self.hnet.theta)
        trunk_theta = theta if delta is None else [p + d for p, d in zip(theta[:-2], delta[:-2])] + theta[-2:]
        z = self.hnet.trunk(self._embeddings(index), trunk_theta)  # [T, N, H]
        z_star = self.z_star if index is None else self.z_star[index]
        weight, bias = self.hnet.head_params(theta)
        d_weight, d_bias = (None, None) if delta is None else self.hnet.head_params(delta)
        cross_last, cross_full, self_last, self_full = _HeadGrams.apply(
            weight, bias, d_weight, d_bias, self.w_star, self.b_star, self.last_rows)
        ones = torch.ones(*z.shape[:2], 1, dtype=z.dtype, device=z.device)
        v = torch.cat([z - z_star, z, ones], dim=-1)  # [T, N, 2H+1]
        full = self._quadratic(v[:, :-1], self.s_full, cross_full, self_full)
        last = self._quadratic(v[:, -1:], self.s_last, cross_last, self_last)
        return (full + last) / z.shape[0]

    @staticmethod
    def _quadratic(v: torch.Tensor, s: torch.Tensor, cross: torch.Tensor, self_gram: torch.Tensor) -> torch.Tensor:
        """``sum v^T G v`` with ``G = [[s, cross], [cross^T, self_gram]]`` (blocks H and H+1)."""
        h = s.shape[0]
        u, rest = v[..., :h], v[..., h:]
        return ((u @ s) * u).sum() + 2 * ((u @ cross) * rest).sum() + ((rest @ self_gram) * rest).sum()
