"""The output regularizer without generating the old tasks' weights (notebooks/03_benchmarks.ipynb).

The hypernetwork's last layer is linear: task t's weights are ``W z_t + b`` for the trunk
outputs ``z_t [N, H]`` (one row per chunk). Write the head as the snapshot plus a change,
``W = W* + D``, ``b = b* + d``, and ``u_t = z_t - z*_t``. The residual of one chunk is

    W z + b - (W* z* + b*) = [W*, D, d] @ [u; z; 1] = A v,

so the penalty is ``sum_(t,n) v^T (A^T A) v``: a ``(2H+1) x (2H+1)`` Gram matrix, built from
``W*^T W*`` (fixed per task) and ``E^T A`` with ``E = [D, d]``, and the small vectors ``v``.
The cost is a few head-sized products, whatever the number of old tasks, instead of one
hypernetwork pass per old task. Expanding around the snapshot keeps float32 accurate when
``W`` is close to ``W*`` (no difference of large squares). The last chunk, cut to the
target's size, uses the Gram of the head rows it keeps. ``tests/test_fast_regularizer.py``
checks values and gradients against ``hnlab.regularizers.output_regularizer``.

Speed (bench/cl_step.py): ``A^T`` lives in one ``[2H+1, C]`` matrix, ``W*^T`` on top and the
change below, the layout the head is stored in (``hnlab.hnets.base.head_params_init``). One
matrix product gives ``E^T A`` and one gives the gradient, and the Adam look-ahead writes
``W + dW - W*`` straight into the change rows (``penalty_with_lookahead``).
"""

from __future__ import annotations

import torch

from ..hnets import HyperNetwork
from .lookahead import lookahead_step


def supports_fast_regularizer(hnet: HyperNetwork) -> bool:
    """True for hypernetworks with a trunk and a linear head (HMLP, ChunkedHMLP)."""
    return len(hnet.theta) >= 2 and hasattr(hnet, "head_size") and hnet.head_size == hnet.theta[-1].numel()


def _change_gram(stack: torch.Tensor, hidden: int, cols: slice) -> torch.Tensor:
    """``E^T A`` over the head outputs ``cols``: rows of the change times all rows of ``stack``."""
    return stack[hidden:, cols] @ stack[:, cols].T


def _gram_gradient(grad_gram: torch.Tensor, hidden: int) -> torch.Tensor:
    """``M`` with ``d(loss)/dE^T = M @ stack`` for ``gram = E^T A``: E appears in both factors."""
    m = grad_gram.clone()
    m[:, hidden:] += grad_gram[:, hidden:].T
    return m


class _ChangeGrams(torch.autograd.Function):
    """``E^T A`` (``[H+1, 2H+1]``) over the last chunk's kept outputs and over all outputs.

    ``stack`` is ``A^T = [W*^T; (W + dW - W*)^T; b + db - b*]``, filled by the caller from
    ``weight_t`` and ``bias``; gradients go to those two (the look-ahead ``dW, db`` is a
    constant). The backward is one matrix product, ``dE^T = M @ stack``, plus one over the
    kept outputs.
    """

    @staticmethod
    def forward(ctx, weight_t, bias, stack, rows: int):
        hidden = weight_t.shape[0]
        ctx.save_for_backward(stack)
        ctx.rows, ctx.hidden = rows, hidden
        last = _change_gram(stack, hidden, slice(None, rows))
        full = last + _change_gram(stack, hidden, slice(rows, None))
        return last, full

    @staticmethod
    def backward(ctx, g_last, g_full):
        (stack,) = ctx.saved_tensors
        rows, hidden = ctx.rows, ctx.hidden
        grad = _gram_gradient(g_full, hidden) @ stack
        grad[:, :rows].addmm_(_gram_gradient(g_last, hidden), stack[:, :rows])
        return grad[:hidden], grad[hidden], None, None


class FastOutputRegularizer:
    """Snapshot of the old tasks taken before a new task; call it for the penalty.

    ``reg(delta=None, index=None)`` equals ``output_regularizer(hnet, targets, ids, delta)``
    for the old tasks ``ids`` (all, or ``ids[index]`` for a random subset);
    ``reg.penalty_with_lookahead(optimizer, index)`` is the same with ``delta`` the
    optimizer's next step. ``live_embeddings=True`` evaluates the old tasks at their current,
    trainable embeddings instead of fixed copies (HyperMask, ``hnlab.methods.hypermask``).
    """

    def __init__(self, hnet: HyperNetwork, task_ids, live_embeddings: bool = False):
        if not supports_fast_regularizer(hnet):
            raise TypeError(f"{type(hnet).__name__} has no linear head; use hnlab.regularizers.output_regularizer")
        self.hnet, self.task_ids, self.live_embeddings = hnet, list(task_ids), live_embeddings
        with torch.no_grad():
            theta = [p.detach().clone() for p in hnet.theta]
            # Old tasks' embeddings stay fixed while a new task trains: stack them once.
            self.task_emb = hnet.task_embeddings(list(task_ids)).detach().clone()
            self.z_star = hnet.trunk(self.task_emb, theta)  # [T, N, H]
            w_star_t, self.b_star = theta[-2], theta[-1]
            self.hidden = hidden = w_star_t.shape[0]
            self.stack = torch.empty(2 * hidden + 1, w_star_t.shape[1], dtype=w_star_t.dtype, device=w_star_t.device)
            self.stack[:hidden] = w_star_t
            num_chunks = self.z_star.shape[1]
            self.last_rows = hnet.num_outputs - (num_chunks - 1) * hnet.head_size
            w_star = self.stack[:hidden]
            self.s_last = w_star[:, : self.last_rows] @ w_star[:, : self.last_rows].T
            self.s_full = w_star @ w_star.T

    def _embeddings(self, index) -> torch.Tensor:
        """The old tasks' embeddings: the stacked snapshot, or (``live_embeddings``, HyperMask's
        recipe, where old embeddings keep training) the module's own, so gradients reach them."""
        emb = self.hnet.task_embeddings(self.task_ids) if self.live_embeddings else self.task_emb
        return emb if index is None else emb[index]

    @torch.no_grad()
    def _start_change(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Fill the change rows with ``W - W*`` and ``b - b*``; return the two views."""
        weight_t, bias = self.hnet.theta[-2], self.hnet.theta[-1]
        h = self.hidden
        torch.sub(weight_t, self.stack[:h], out=self.stack[h : 2 * h])
        torch.sub(bias, self.b_star, out=self.stack[2 * h])
        return self.stack[h : 2 * h], self.stack[2 * h]

    def __call__(self, delta: list[torch.Tensor] | None = None, index=None) -> torch.Tensor:
        """The penalty at ``theta + delta`` (``delta`` aligned with ``hnet.theta``, or None)."""
        d_weight, d_bias = self._start_change()
        if delta is not None:
            with torch.no_grad():
                d_weight.add_(delta[-2])
                d_bias.add_(delta[-1])
        return self._penalty(delta, index)

    def penalty_with_lookahead(self, optimizer: torch.optim.Optimizer, index=None) -> torch.Tensor:
        """The penalty at ``theta + d_theta``, ``d_theta`` the step ``optimizer`` would take now
        (``hnlab.regularizers.lookahead_step``); the head's step lands in the change rows."""
        theta = list(self.hnet.theta)
        start = [torch.zeros_like(p) for p in theta[:-2]] + list(self._start_change())
        return self._penalty(lookahead_step(optimizer, theta, start), index)

    def _penalty(self, delta: list[torch.Tensor] | None, index) -> torch.Tensor:
        """The penalty with the change rows filled; ``delta`` moves the trunk (its head entries are unused)."""
        theta = list(self.hnet.theta)
        trunk_theta = theta if delta is None else [p + d for p, d in zip(theta[:-2], delta[:-2])] + theta[-2:]
        z = self.hnet.trunk(self._embeddings(index), trunk_theta)  # [T, N, H]
        z_star = self.z_star if index is None else self.z_star[index]
        gram_last, gram_full = _ChangeGrams.apply(theta[-2], theta[-1], self.stack, self.last_rows)
        ones = torch.ones(*z.shape[:2], 1, dtype=z.dtype, device=z.device)
        v = torch.cat([z - z_star, z, ones], dim=-1)  # [T, N, 2H+1]
        full = self._quadratic(v[:, :-1].flatten(0, 1), self.s_full, gram_full)
        last = self._quadratic(v[:, -1], self.s_last, gram_last)
        return (full + last) / z.shape[0]

    @staticmethod
    def _quadratic(v: torch.Tensor, s: torch.Tensor, change_gram: torch.Tensor) -> torch.Tensor:
        """``sum_rows v G v^T = <G, v^T v>`` for ``G = [[s, cross], [cross^T, self]]`` (symmetric),
        given ``change_gram = [cross^T, self]``: one small product instead of one per block."""
        h = s.shape[0]
        p = v.T @ v
        return (s * p[:h, :h]).sum() + (change_gram * p[h:]).sum() + (change_gram[:, :h] * p[h:, :h]).sum()
