"""LSTM hypernetworks (Chandra et al. 2023): LSTM_NET and GROW. Introduced in notebooks/05_lstm_hypernetworks.ipynb.

A chunked hypernetwork (``ChunkedHMLP``) generates chunk ``j`` from ``[e_t; c_j]`` alone: the
chunks of one network know nothing of each other. LSTM_NET (Sec. 3.1, Eq. 1) reads the same inputs
as a sequence, ``x_j = [e_t; c_j]`` for ``j = 1..N``, through one LSTM layer whose state carries
from chunk to chunk, and emits ``Theta_j = h_j W + b``; the chunks are concatenated and cut to
the target's ``P`` weights.

- All T tasks advance through the chunk sequence as ONE batch of T sequences (``lstm_states``:
  PyTorch's fused LSTM kernel with weights passed in, so the look-ahead ``theta + d_theta`` works).
- The output layer ``h_j W + b`` is the linear head of ``HyperNetwork``, stored transposed: the
  LSTM states are the trunk outputs ``z [T, N, H]``, so the output regularizer's Gram route
  (``hnlab.regularizers.fast``) applies unchanged (tests/test_lstm.py checks it).
- Initialization: the LSTM cell keeps PyTorch's default (uniform in +-1/sqrt(H)), embeddings
  N(0, 1), as ../shared/papers/README.md fixes where the paper is silent. The head is the
  layer whose scale sets the generated weights' (hyperfan reasoning, lesson 02): with
  PyTorch's default (+-1/sqrt(H)) a generated weight has std about 0.3 |h| ~ 0.15, four times
  a Xavier-initialized 400-unit layer's; Xavier-uniform on the head (fan-in H, fan-out
  chunk, zero bias), the rule HNET's MNIST rows use (``hnet_init="xavier_harmonic"``), gives
  about 0.03, the target's own scale.

GROW (Sec. 3.3, ``GrowLSTMHNet``): the hidden-to-hidden weights ``u = W_hh`` (with their bias
and the chunk embeddings) learn on task 1 and are then frozen and shared; every task owns its
input weights ``w^t`` (``W_ih`` and its bias) and its output layer ``W^t``, so memory grows by one
set per task and no regularizer is needed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.func import functional_call

from .base import HyperNetwork, as_task_ids, head_params_init

#: What the head may be initialized with: PyTorch's Linear default, or Xavier-uniform with zero bias.
LSTM_HEAD_INITS = ("pytorch", "xavier_harmonic")


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def lstm_states(x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor, b_ih: torch.Tensor, b_hh: torch.Tensor):
    """Hidden states ``h [T, N, H]`` of one LSTM layer over inputs ``x [T, N, D]`` (``h_0 = s_0 = 0``),
    with the given weights (PyTorch's gate order i, f, g, o): ``torch.nn.LSTM`` through
    ``torch.func.functional_call``, whose fused kernel runs the N steps about 10x faster on a CPU
    than a Python loop of ``LSTMCell`` steps (tests/test_lstm.py compares the two)."""
    H, D = w_hh.shape[1], x.shape[-1]
    key = (D, H)
    if key not in _LSTMS:  # a parameter-free shell: functional_call supplies every weight
        _LSTMS[key] = nn.LSTM(D, H, batch_first=True)
    params = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
    return functional_call(_LSTMS[key], params, (x,))[0]


_LSTMS: dict[tuple[int, int], nn.LSTM] = {}


def _lstm_cell_params(in_dim: int, hidden: int) -> list[nn.Parameter]:
    """``W_ih [4H, D], W_hh [4H, H], b_ih [4H], b_hh [4H]`` with ``nn.LSTMCell``'s default init."""
    cell = nn.LSTMCell(in_dim, hidden)
    return [nn.Parameter(p.detach().clone()) for p in (cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh)]


def _xavier_head_(weight_t: torch.Tensor, bias: torch.Tensor) -> None:
    with torch.no_grad():
        nn.init.xavier_uniform_(weight_t)  # symmetric in fan-in and fan-out: the stored transpose is fine
        bias.zero_()


class LSTMHNet(HyperNetwork):
    """LSTM_NET: ``[e_t; c_j] -> LSTM(H) -> h_j W + b``, chunk by chunk (module docstring).

    ``theta`` = ``[chunk_emb [N, Dc], W_ih [4H, E + Dc], W_hh [4H, H], b_ih, b_hh, head W^T [H, chunk],
    head b [chunk]]``; ``trunk`` returns the LSTM states ``[T, N, H]``.
    """

    num_leading_params = 5

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        chunk_size: int,
        emb_dim: int = 96,
        chunk_emb_dim: int = 96,
        hidden_size: int = 64,
        emb_std: float = 1.0,
        head_init: str = "xavier_harmonic",
    ):
        _positive("hidden_size (the LSTM's hidden units)", hidden_size)
        super().__init__(target_shapes, num_tasks, _positive("emb_dim", emb_dim), (hidden_size,), "tanh", emb_std)
        self.chunk_size = _positive("chunk_size", chunk_size)
        self.chunk_emb_dim = _positive("chunk_emb_dim", chunk_emb_dim)
        if chunk_size > self.num_outputs:
            raise ValueError(f"chunk_size {chunk_size} does not fit: the target has only {self.num_outputs} weights")
        if head_init not in LSTM_HEAD_INITS:
            raise ValueError(f"unknown head_init {head_init!r} for an LSTM hypernetwork; choose from {LSTM_HEAD_INITS}")
        self.hidden_size, self.head_init = hidden_size, head_init
        self.num_chunks = math.ceil(self.num_outputs / chunk_size)
        self.theta.append(nn.Parameter(torch.randn(self.num_chunks, chunk_emb_dim) * emb_std))
        self.theta.extend(_lstm_cell_params(emb_dim + chunk_emb_dim, hidden_size))
        self.theta.extend(head_params_init(hidden_size, chunk_size))
        self.head_size = chunk_size
        if head_init == "xavier_harmonic":
            _xavier_head_(self.theta[-2], self.theta[-1])

    def trunk(self, task_emb: torch.Tensor, theta: list[torch.Tensor] | None = None) -> torch.Tensor:
        """The LSTM states ``h [T, N, H]`` along the chunk sequence: the inputs of the linear head.
        All T tasks run as one batch of T sequences of N chunk inputs ``[e_t; c_j]``."""
        theta = list(self.theta) if theta is None else theta
        return lstm_states(self.trunk_inputs(task_emb, theta), *theta[1:5])

    def trunk_inputs(self, task_emb, theta):
        chunks = theta[0]
        T, N = task_emb.shape[0], chunks.shape[0]
        return torch.cat([task_emb.unsqueeze(1).expand(T, N, -1), chunks.unsqueeze(0).expand(T, N, -1)], dim=-1)

    def config(self) -> dict:
        return {
            **super().config(),
            "chunk_size": self.chunk_size,
            "chunk_emb_dim": self.chunk_emb_dim,
            "hidden_size": self.hidden_size,
            "head_init": self.head_init,
        }


def lstm_hnet_size(num_outputs: int, num_tasks: int, chunk_size: int, emb_dim: int, chunk_emb_dim: int, hidden: int):
    """Trainable parameters of an ``LSTMHNet`` (theta and every task embedding), without building it."""
    chunks = math.ceil(num_outputs / chunk_size)
    lstm = 4 * hidden * (emb_dim + chunk_emb_dim + hidden) + 8 * hidden
    return chunks * chunk_emb_dim + lstm + chunk_size * (hidden + 1) + num_tasks * emb_dim


def largest_chunk(budget: int, num_outputs: int, num_tasks: int, emb_dim: int, chunk_emb_dim: int, hidden: int):
    """The largest chunk size whose ``LSTMHNet`` has at most ``budget`` trainable parameters, or None."""
    size = lambda c: lstm_hnet_size(num_outputs, num_tasks, c, emb_dim, chunk_emb_dim, hidden)  # noqa: E731
    fixed = lstm_hnet_size(num_outputs, num_tasks, num_outputs, emb_dim, chunk_emb_dim, hidden)
    fixed -= chunk_emb_dim + num_outputs * (hidden + 1)  # the LSTM and the task embeddings
    c = min(num_outputs, (budget - fixed) // (hidden + 1))  # an upper bound: no chunk embeddings yet
    while c >= 1 and size(c) > budget:
        # the chunk embeddings grow as the chunk shrinks: step down by what the excess needs
        c -= max(1, (size(c) - budget) // (hidden + 1))
    return c if c >= 1 else None


class GrowLSTMHNet(LSTMHNet):
    """GROW: shared, frozen-after-task-1 ``W_hh`` (with ``b_hh`` and the chunk embeddings); per task
    ``W_ih^t, b_ih^t`` and the head ``W^t, b^t``. ``hnet(task_ids)`` gathers each task's own set.

    ``theta`` holds the shared part only, ``[chunk_emb, W_hh, b_hh]``; the per-task sets live in
    ``w_ih``, ``b_ih``, ``head_w`` (stored transposed, ``[H, chunk]``) and ``head_b``. Call
    ``start_task(t)`` before training task t: it copies task t-1's set into task t's (the
    paper's defaults, ../shared/papers/README.md). ``trainable_parameters(t)``: the shared part
    and task 0's set for t = 0, task t's set and embedding afterwards.
    """

    num_leading_params = 1

    def __init__(
        self,
        target_shapes: Sequence[Sequence[int]],
        num_tasks: int,
        chunk_size: int,
        emb_dim: int = 96,
        chunk_emb_dim: int = 96,
        hidden_size: int = 64,
        emb_std: float = 1.0,
        head_init: str = "xavier_harmonic",
    ):
        super().__init__(target_shapes, num_tasks, chunk_size, emb_dim, chunk_emb_dim, hidden_size, emb_std, head_init)
        chunk_emb, w_ih, w_hh, b_ih, b_hh, head_w, head_b = list(self.theta)
        self.theta = nn.ParameterList([chunk_emb, w_hh, b_hh])
        sets = [(w_ih, b_ih, head_w, head_b)]
        for _ in range(num_tasks - 1):
            w, _, b, _ = _lstm_cell_params(emb_dim + chunk_emb_dim, hidden_size)[:4]
            hw, hb = head_params_init(hidden_size, chunk_size)
            if head_init == "xavier_harmonic":
                _xavier_head_(hw, hb)
            sets.append((w, b, hw, hb))
        self.w_ih, self.b_ih, self.head_w, self.head_b = (nn.ParameterList(s[k] for s in sets) for k in range(4))
        del self.head_size  # no shared linear head: the Gram route of the output regularizer does not apply

    # -- the per-task sets ------------------------------------------------------------
    def task_set(self, task_id: int) -> list[nn.Parameter]:
        as_task_ids(task_id, self.num_tasks)
        return [self.w_ih[task_id], self.b_ih[task_id], self.head_w[task_id], self.head_b[task_id]]

    @torch.no_grad()
    def start_task(self, task_id: int) -> None:
        """Start task ``task_id`` from task ``task_id - 1``'s input and output weights."""
        if task_id > 0:
            for new, old in zip(self.task_set(task_id), self.task_set(task_id - 1)):
                new.copy_(old)

    def trainable_parameters(self, task_id: int) -> list[nn.Parameter]:
        shared = list(self.theta) if task_id == 0 else []
        return shared + self.task_set(task_id) + [self.task_emb[task_id]]

    def shared_size(self) -> int:
        return sum(p.numel() for p in self.theta)

    def per_task_size(self) -> int:
        """Parameters one task adds: its input weights, output layer and task embedding."""
        return sum(p.numel() for p in self.task_set(0)) + self.emb_dim

    def size_after(self, num_tasks: int) -> int:
        """Parameters held once ``num_tasks`` tasks are learned: the shared part plus one set per task."""
        return self.shared_size() + num_tasks * self.per_task_size()

    def compression_ratio(self) -> float:
        return self.size_after(self.num_tasks) / self.num_outputs

    # -- generation -------------------------------------------------------------------
    def forward(self, task_ids=None, *, task_emb=None, theta=None) -> torch.Tensor:
        """Weights ``[T, P]`` of ``task_ids``, each task with its own input and output weights."""
        if task_ids is None or task_emb is not None or theta is not None:
            raise ValueError("GROW generates from task ids only: each task has its own weights")
        ids = as_task_ids(task_ids, self.num_tasks).tolist()
        return self.outputs_from_head(self.head_of(self.trunk_of(ids), ids))

    def trunk_of(self, ids: list[int]) -> torch.Tensor:
        """LSTM states ``[T, N, H]`` of tasks ``ids``, each with its own input weights."""
        chunk_emb, w_hh, b_hh = list(self.theta)
        E = self.emb_dim
        e = self.task_embeddings(ids)
        w = torch.stack([self.w_ih[i] for i in ids])  # [T, 4H, E + Dc]
        b = torch.stack([self.b_ih[i] for i in ids])
        gates = (torch.einsum("te,tge->tg", e, w[:, :, :E]) + b).unsqueeze(1)
        gates = gates + torch.einsum("nd,tgd->tng", chunk_emb, w[:, :, E:])  # W_ih^t [e_t; c_j] + b_ih^t
        # the LSTM reads the per-task input projections through an identity input layer
        eye = torch.eye(gates.shape[-1], dtype=gates.dtype, device=gates.device)
        return lstm_states(gates, eye, w_hh, torch.zeros_like(b_hh), b_hh)

    def head_of(self, z: torch.Tensor, ids: list[int]) -> torch.Tensor:
        w = torch.stack([self.head_w[i] for i in ids])  # [T, H, chunk]
        b = torch.stack([self.head_b[i] for i in ids])
        return torch.baddbmm(b.unsqueeze(1), z, w)

    def config(self) -> dict:
        return {**super().config(), "kind": "GrowLSTMHNet"}
