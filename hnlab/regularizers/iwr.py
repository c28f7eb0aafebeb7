"""Importance-weighted regularisation, IWR (Chandra et al. 2023, Eq. 3-4; notebooks/05_lstm_hypernetworks.ipynb).

The output regularizer (``hnlab.regularizers.output``) pulls every generated weight of an old
task back to its snapshot with the same force. IWR weights each squared difference by how much
task t's loss cares about that weight of the MAIN network, the diagonal empirical Fisher

    FI^t_i = 1/N_t sum_n (d log p(y_n | x_n, Theta_t) / d Theta_t,i)^2        (Eq. 4)

of the generated weights ``Theta_t = f_h(e_t, theta)`` with the TRUE labels ``y_n``, taken once
when task t ends. While task T trains the penalty is

    beta / (T-1) sum_{t<T} sum_i FI^t_i (f_h(e_t, theta + d_theta)_i - Theta*_t,i)^2      (Eq. 3)

with von Oswald's look-ahead ``d_theta``. A weight the old task does not use (another head, a
dead unit) is free to move. The Gram route of ``hnlab.regularizers.fast`` sums squares over the
head's outputs in a few products and cannot weight them one by one, so IWR generates the old
tasks' weights in one batched call (the plain route), for any hypernetwork.

``generated_fisher`` uses the closed form of ``hnlab.regularizers.ewc`` for MLP targets (sample
n's gradient of a layer's weight is ``d_n a_n^T``, so ``sum_n`` of its squares is
``(d*d)^T (a*a)``) with the true label's log-likelihood; any other target gets torch.func's
per-sample gradients. ``normalize=True`` divides each task's Fisher by its mean, an ablation
(../shared/papers/README.md): the Fisher of Eq. 4 is small, so beta must be swept without it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.func import grad, vmap

from ..hnets import HyperNetwork
from ..targets import MLP
from .lookahead import lookahead_step
from .output import regularizer_targets


def generated_fisher(tnet, W: torch.Tensor, x, y, head: int | None = None, batch_size: int = 1024) -> torch.Tensor:
    """Diagonal empirical Fisher ``[P]`` of the target's weights ``W [P]`` on ``(x, y)``: the mean over
    the N samples of the squared gradient of ``log softmax(tnet(x_n, W, head))[y_n]`` (Eq. 4)."""
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if len(x) == 0 or len(x) != len(y):
        raise ValueError(f"the Fisher needs as many labels as inputs (at least one), got {len(x)} and {len(y)}")
    W = W.detach()
    if isinstance(tnet, MLP):
        return _mlp_fisher_true_labels(tnet, W, x, y, head, batch_size)

    def log_lik(w, x_n, y_n):
        logp = torch.log_softmax(tnet(x_n.unsqueeze(0), w, head=head)[0], dim=-1)
        return logp.gather(-1, y_n.reshape(1)).squeeze(-1)  # vmap-friendly logp[y_n]

    per_sample = vmap(grad(log_lik), in_dims=(None, 0, 0))
    fisher = torch.zeros_like(W)
    for start in range(0, len(x), 64):
        fisher += per_sample(W, x[start : start + 64].to(W.device), y[start : start + 64].to(W.device)).square().sum(0)
    return fisher / len(x)


@torch.no_grad()
def _mlp_fisher_true_labels(tnet: MLP, W, x, y, head, batch_size) -> torch.Tensor:
    params = tnet.unflatten(W)
    per_layer = 2 if tnet.has_bias else 1
    sums = [torch.zeros_like(p) for p in params]
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size].to(W.device), y[start : start + batch_size].to(W.device)
        with torch.enable_grad():
            inputs, outputs, h = [], [], xb
            for i in range(len(tnet.layers)):
                inputs.append(h)
                z = F.linear(h, params[per_layer * i], params[per_layer * i + 1] if tnet.has_bias else None)
                if i == 0:
                    z.requires_grad_()  # a leaf: the weights and inputs need no gradient themselves
                outputs.append(z)
                h = tnet.act(z) if i < len(tnet.layers) - 1 else z
            logits = h if head is None else tnet.select_head(h, head)
            log_lik = torch.log_softmax(logits, dim=-1).gather(1, yb.unsqueeze(1)).sum()
            deltas = torch.autograd.grad(log_lik, outputs)
        for i, (a, d) in enumerate(zip(inputs, deltas)):
            sums[per_layer * i] += (d * d).T @ (a.detach() * a.detach())
            if tnet.has_bias:
                sums[per_layer * i + 1] += (d * d).sum(0)
    return torch.cat([s.flatten() for s in sums]) / len(x)


def iwr_regularizer(
    hnet: HyperNetwork, targets: torch.Tensor, fisher: torch.Tensor, task_ids, delta: list[torch.Tensor] | None = None
) -> torch.Tensor:
    """Mean over old tasks of ``sum_i F_t,i (f_h(e_t, theta + delta)_i - target_t,i)^2`` (Eq. 3 without
    beta), from ONE batched hypernetwork call; ``fisher`` and ``targets`` are ``[T_old, P]``."""
    if fisher.shape != targets.shape:
        raise ValueError(f"fisher has shape {tuple(fisher.shape)}, targets {tuple(targets.shape)}: one row per task")
    theta = list(hnet.theta)
    if delta is not None:
        theta = [p + d for p, d in zip(theta, delta)]
    weights = hnet(task_emb=hnet.task_embeddings(task_ids).detach(), theta=theta)
    if weights.shape != targets.shape:
        raise ValueError(f"targets have shape {tuple(targets.shape)}, the hypernetwork gives {tuple(weights.shape)}")
    return (fisher * (weights - targets).square()).sum(dim=1).mean()


class IWRPenalty:
    """The per-task Fisher and snapshot IWR keeps: ``add(task_id, fisher)`` when a task ends,
    ``make(hnet, task_id, cfg, generator)`` as ``hnlab.train.train_task``'s ``make_penalty``."""

    def __init__(self, normalize: bool = False):
        self.normalize = bool(normalize)
        self.fisher: list[torch.Tensor] = []  # one [P] per finished task, in order
        self.first_weights: torch.Tensor | None = None  # task 1's generated weights when it ended (lesson 05)

    @torch.no_grad()
    def add(self, task_id: int, fisher: torch.Tensor, weights: torch.Tensor | None = None) -> None:
        """Keep task ``task_id``'s Fisher ``[P]`` (and, for the first task, its weights ``[P]``)."""
        if task_id != len(self.fisher):
            raise ValueError(f"the Fisher of task {task_id} comes after those of tasks 0..{len(self.fisher) - 1}")
        if task_id == 0 and weights is not None:
            self.first_weights = weights.detach().clone()
        fisher = fisher.detach().clone()
        self.fisher.append(fisher / fisher.mean().clamp_min(1e-30) if self.normalize else fisher)

    def make(self, hnet: HyperNetwork, task_id: int, cfg, generator=None):
        """``penalty(it, optimizer)`` over tasks ``0..task_id-1``, looking ahead by the optimizer's
        step (None: no look-ahead); None when nothing to protect. ``cfg.reg_subset`` is not supported."""
        if cfg.beta == 0 or task_id == 0:
            return None
        if cfg.reg_subset is not None:
            raise ValueError("IWR regularizes every old task; reg_subset is not supported")
        old_ids = list(range(task_id))
        targets = regularizer_targets(hnet, old_ids)
        fisher = torch.stack(self.fisher[:task_id]).to(targets.device)

        def penalty(it, optimizer):
            delta = None if optimizer is None else lookahead_step(optimizer, list(hnet.theta))
            return iwr_regularizer(hnet, targets, fisher, old_ids, delta)

        return penalty

    def state_dict(self) -> dict:
        d = {"normalize": self.normalize, "fisher": [f.clone() for f in self.fisher]}
        if self.first_weights is not None:
            d["first_weights"] = self.first_weights.clone()
        return d

    def load_state_dict(self, d: dict) -> None:
        self.normalize, self.fisher = bool(d["normalize"]), [f.clone() for f in d["fisher"]]
        self.first_weights = d["first_weights"].clone() if "first_weights" in d else None
