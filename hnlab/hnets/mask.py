"""HyperMask's weight generator: shared target weights times a per-task semi-binary mask.

Książek & Spurek (2023) keep ONE set of target weights ``theta [P]`` and let a full hypernetwork
emit, per task, one raw value ``h`` per target weight. The mask of each target tensor is

    r = |tanh(h)|,   tau = the p-th percentile of r over that tensor,   m = r if r >= tau else 0,

so a share p of each tensor is switched off and the survivors keep their soft value in (0, 1).
The last tensor (the output bias) is not masked. Task t's network is ``theta * m_t``, again a
flat ``W [T, P]``: every target network, the entropy task inference and the runner work unchanged.
Introduced in notebooks/06_hypermask.ipynb.

The percentile in batched form. The authors take torchpercentile's value, numpy's linear
interpolation between the sorted values ``s[floor(q)]`` and ``s[floor(q) + 1]`` at
``q = p / 100 (n - 1)``. No value lies strictly between two neighbours of the sorted order, so
``r >= tau`` keeps exactly the values ``>= s[ceil(q)]``: ONE ``torch.kthvalue`` per tensor over
all tasks' rows ``[T, n]`` (a selection, not a sort) gives the same mask as their per-task,
per-tensor sort. ``tests/test_hypermask.py`` checks it against a loop over ``torch.quantile``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .chunked import ChunkedHMLP
from .mlp import HMLP


def check_sparsity(p) -> float:
    """``p`` as a float, or one clear error: the share of each tensor masked out, in percent, [0, 100)."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 100:
        raise ValueError(f"sparsity p must be a number in [0, 100) (percent of each tensor masked out), got {p!r}")
    return float(p)


def percentile_threshold(r: torch.Tensor, p: float) -> torch.Tensor:
    """Per row of ``r [T, n]``, the smallest value that ``r >= percentile_p(row)`` keeps: ``[T, 1]``."""
    n = r.shape[-1]
    index = math.ceil(check_sparsity(p) / 100 * (n - 1))  # 0-based rank in the sorted row
    return torch.kthvalue(r, index + 1, dim=-1, keepdim=True).values


def percentile_mask(r: torch.Tensor, p: float) -> torch.Tensor:
    """``r`` where it reaches its row's p-th percentile, 0 elsewhere (rows ``[T, n]``)."""
    if p == 0:
        return r  # the minimum is the threshold: everything is kept
    return torch.where(r >= percentile_threshold(r.detach(), p), r, torch.zeros((), dtype=r.dtype, device=r.device))


class _Head(torch.autograd.Function):
    """``z @ weight_t + bias`` for a few rows ``z [T, H]`` and a wide head ``weight_t [H, P]``,
    whose gradient is ADDED in place to ``weight_t.grad`` (created once) instead of returned.

    Why: the head of a full hypernetwork is large (SplitMNIST 25 x 475,202 = 48 MB). A returned
    gradient is a fresh block of that size every step, past glibc's largest ``mmap`` threshold
    (32 MB; ``hnlab.device.reuse_freed_memory``), so each step pays ~12,000 page faults; and
    autograd's ``z^T @ grad`` is a matrix product with inner size T (1-5), a slow BLAS path. T
    rank-one updates into the kept buffer do neither. Zero the gradients with
    ``optimizer.zero_grad(set_to_none=False)`` to keep the buffer.
    """

    @staticmethod
    def forward(ctx, z, bias, weight_t):
        ctx.save_for_backward(z, weight_t)
        return torch.addmm(bias, z, weight_t.detach())

    @staticmethod
    def backward(ctx, grad):
        z, weight_t = ctx.saved_tensors
        grad = grad.contiguous()
        grad_z = grad @ weight_t.detach().T if ctx.needs_input_grad[0] else None
        if weight_t.requires_grad:
            if weight_t.grad is None:
                weight_t.grad = torch.zeros_like(weight_t)
            for k in range(z.shape[0]):
                weight_t.grad.addr_(z[k], grad[k])
        return grad_z, grad.sum(0), None


def default_target_init(shapes: Sequence[Sequence[int]]) -> torch.Tensor:
    """Flat target weights with PyTorch's default Linear init (uniform, bound 1/sqrt(fan_in)), as
    the authors' hypnettorch target networks with their own weights."""
    parts, fan_in = [], 1
    for shape in shapes:
        if len(shape) > 1:
            fan_in = math.prod(shape[1:])
        bound = 1.0 / math.sqrt(fan_in)
        parts.append(torch.empty(math.prod(shape)).uniform_(-bound, bound))
    return torch.cat(parts)


class MaskGenerator(nn.Module):
    """``theta * mask(hnet(e_t))``: HyperMask's generator, ``gen(task_ids) -> W [T, P]``.

    ``hnet`` is a full ``HMLP`` (the authors found chunking worse) with PyTorch's default init and
    task embeddings from N(0, 1), as hypnettorch's; ``theta`` the target's own weights.
    ``chunk_size > 0`` swaps in von Oswald's chunked hypernetwork (``ChunkedHMLP``, chunk
    embeddings of ``chunk_emb_dim``), an hnlab option: the full head of a 1000-1000 target has
    100 x 1.8M weights, which makes a step cost seconds on a CPU (bench/cl_step.py).
    ``sparsity`` is p in percent; ``forward`` and ``masks`` take another ``p`` (the ramp of the
    first task). ``masks`` returns the authors' list of masks as one ``[T, P]``: the last tensor
    holds ``r`` unthresholded (it weights the L1 term), though ``apply`` leaves that tensor unmasked.
    """

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        emb_dim: int = 128,
        hidden: Sequence[int] = (25, 25),
        activation: str = "elu",
        sparsity: float = 30.0,
        chunk_size: int = 0,
        chunk_emb_dim: int = 8,
    ):
        super().__init__()
        self.sparsity = check_sparsity(sparsity)
        if chunk_size:
            self.hnet = ChunkedHMLP(target_shapes, num_tasks, chunk_size, emb_dim, chunk_emb_dim, hidden, activation)
        else:
            self.hnet = HMLP(target_shapes, num_tasks, emb_dim, hidden, activation)
        self.target_shapes = self.hnet.target_shapes
        self.sizes = [math.prod(s) for s in self.target_shapes]
        self.theta = nn.Parameter(default_target_init(self.target_shapes))

    @property
    def num_tasks(self) -> int:
        return self.hnet.num_tasks

    @property
    def num_outputs(self) -> int:
        return self.hnet.num_outputs

    @property
    def chunked(self) -> bool:
        return isinstance(self.hnet, ChunkedHMLP)

    def raw(self, task_ids) -> torch.Tensor:
        """The hypernetwork's raw outputs ``h [T, P]`` (equal to ``self.hnet(task_ids)``; for the full
        hypernetwork with a faster backward)."""
        if self.chunked:
            return self.hnet(task_ids)
        z = self.hnet.trunk(self.hnet.task_embeddings(task_ids)).squeeze(1)  # [T, H]
        weight_t, bias = self.hnet.theta[-2], self.hnet.theta[-1]
        return _Head.apply(z, bias, weight_t)

    def masks(self, h: torch.Tensor, p: float | None = None) -> torch.Tensor:
        """Masks ``[T, P]`` of raw hypernet outputs ``h [T, P]``: per tensor ``|tanh(h)|`` cut at
        its p-th percentile, the last tensor uncut."""
        p = self.sparsity if p is None else check_sparsity(p)
        parts = torch.split(h.tanh().abs(), self.sizes, dim=-1)
        return torch.cat([percentile_mask(r, p) for r in parts[:-1]] + [parts[-1]], dim=-1)

    def apply(self, masks: torch.Tensor) -> torch.Tensor:
        """Weights ``theta * masks`` ``[T, P]``, the last tensor (output bias) left unmasked."""
        last = self.sizes[-1]
        ones = torch.ones_like(masks[:, -last:])
        return self.theta * torch.cat([masks[:, :-last], ones], dim=-1)

    def forward(self, task_ids, p: float | None = None) -> torch.Tensor:
        """Masked target weights ``[T, P]`` of ``task_ids``."""
        return self.apply(self.masks(self.raw(task_ids), p))

    @torch.no_grad()
    def kept_fraction(self, task_ids, p: float | None = None) -> torch.Tensor:
        """Share of each tensor's weights the mask keeps (non-zero), ``[T, num_tensors]``."""
        kept = self.masks(self.raw(task_ids), p) > 0
        return torch.stack([part.float().mean(-1) for part in torch.split(kept, self.sizes, dim=-1)], dim=-1)

    @torch.no_grad()
    def overlap(self, task_ids, tensor: int = 0, p: float | None = None) -> torch.Tensor:
        """``[T, T]``: for tasks i, j the share of the kept weights of tensor ``tensor`` they have in
        common, ``|K_i and K_j| / |K_i or K_j|`` (1 on the diagonal; independent masks that keep a
        share k each give ``k / (2 - k)``)."""
        kept = torch.split(self.masks(self.raw(task_ids), p) > 0, self.sizes, dim=-1)[tensor].float()
        both = kept @ kept.T
        either = kept.sum(-1, keepdim=True) + kept.sum(-1) - both
        return both / either.clamp_min(1)
