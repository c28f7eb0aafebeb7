"""Synaptic intelligence (notebooks/03_benchmarks.ipynb).

Zenke et al. (2017) estimate each weight's importance online, from the path the weights
take while a task trains. After every optimizer step the running path integral gathers

    w[p] -= g[p] * (W_new[p] - W_old[p]),

with ``g`` the gradient of the total loss used for that step: minus the loss decrease that
step ``p`` paid for. At the end of the task, with ``Delta = W - theta_prev_task`` the change
over the task,

    omega[p] += w[p] / (Delta[p]^2 + xi),     theta_prev_task = W,  w = 0,

and later tasks pay ``c * sum_p omega[p] (W[p] - theta_prev_task[p])^2``.

As van de Ven & Tolias's code runs it (GMvandeVen/continual-learning at f0b1461; see
shared/papers/README.md): the gradient includes the SI penalty itself, ``xi = 0.1`` and the
penalty has no factor 1/2. ``tests/test_ewc_si.py`` checks the path integral by hand.
"""

from __future__ import annotations

import torch


class SynapticIntelligence:
    """SI's importance ``omega`` and penalty for one flat weight vector ``W [P]``.

    Each step: ``loss = task_loss + si.penalty(W)``, backward, keep ``g = W.grad``,
    ``optimizer.step()``, then ``si.after_step(W, g)``. At the end of each task:
    ``si.end_task(W)``.
    """

    def __init__(self, W: torch.Tensor, c: float, xi: float = 0.1):
        if W.dim() != 1:
            raise ValueError(f"W must be a flat [P] tensor, got shape {tuple(W.shape)}")
        if c < 0 or xi <= 0:
            raise ValueError(f"need c >= 0 and xi > 0, got c={c!r}, xi={xi!r}")
        self.c, self.xi = float(c), float(xi)
        W = W.detach()
        self.omega = torch.zeros_like(W)
        self.theta_prev_task = W.clone()
        self.w = torch.zeros_like(W)
        self.p_old = W.clone()
        self.num_tasks = 0

    def penalty(self, W: torch.Tensor) -> torch.Tensor:
        """``c * sum omega (W - theta_prev_task)^2``; a zero tensor before any task ended."""
        if self.num_tasks == 0:
            return W.new_zeros(())
        return self.c * (self.omega * (W - self.theta_prev_task).square()).sum()

    @torch.no_grad()
    def after_step(self, W: torch.Tensor, grad: torch.Tensor) -> None:
        """After ``optimizer.step()``: ``w -= grad * (W - p_old)``; ``grad`` is from before the step."""
        W = W.detach()
        self.w.sub_(grad * (W - self.p_old))
        self.p_old.copy_(W)

    @torch.no_grad()
    def end_task(self, W: torch.Tensor) -> None:
        """Fold the task's path integral into ``omega`` and start the next task at ``W``."""
        W = W.detach()
        delta = W - self.theta_prev_task
        self.omega.add_(self.w / (delta.square() + self.xi))
        self.theta_prev_task.copy_(W)
        self.p_old.copy_(W)
        self.w.zero_()
        self.num_tasks += 1

    def state_dict(self) -> dict:
        """Plain tensors and numbers (``torch.load(..., weights_only=True)`` reads them)."""
        return {
            "c": self.c,
            "xi": self.xi,
            "num_tasks": self.num_tasks,
            "omega": self.omega.clone(),
            "theta_prev_task": self.theta_prev_task.clone(),
            "w": self.w.clone(),
            "p_old": self.p_old.clone(),
        }

    @torch.no_grad()
    def load_state_dict(self, d: dict) -> None:
        if d["omega"].shape != self.omega.shape:
            raise ValueError(f"state is for {d['omega'].numel()} weights, this SI holds {self.omega.numel()}")
        self.c, self.xi, self.num_tasks = float(d["c"]), float(d["xi"]), int(d["num_tasks"])
        for name in ("omega", "theta_prev_task", "w", "p_old"):
            getattr(self, name).copy_(d[name])
