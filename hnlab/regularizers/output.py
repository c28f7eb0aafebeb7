"""The output regularizer of von Oswald et al. (Eq. 2), with the one-step look-ahead.

    L_output = beta / (T-1) * sum_{t<T} || f_h(e_t, theta*) - f_h(e_t, theta + d_theta) ||^2

The targets ``f_h(e_t, theta*)`` are taken once, before task T starts; the penalty for
all old tasks comes from ONE batched hypernetwork call; ``d_theta`` is the candidate Adam
(or plain SGD) step of the task loss, held fixed (detached). Introduced in notebooks/01_toy1d.ipynb.
"""

from __future__ import annotations

import torch

from ..hnets import HyperNetwork


@torch.no_grad()
def regularizer_targets(hnet: HyperNetwork, task_ids) -> torch.Tensor:
    """Weights ``[T_old, P]`` the hypernetwork emits for the old tasks, taken before a new task."""
    return hnet(task_ids).detach().clone()


def output_regularizer(
    hnet: HyperNetwork, targets: torch.Tensor, task_ids, delta: list[torch.Tensor] | None = None
) -> torch.Tensor:
    """Mean over old tasks of ``||f_h(e_t, theta + delta) - target_t||^2`` in one batched call.

    ``delta`` (aligned with ``hnet.theta``) is the look-ahead step; old task embeddings are
    held fixed, as in the paper.
    """
    theta = list(hnet.theta)
    if delta is not None:
        theta = [p + d for p, d in zip(theta, delta)]
    task_emb = hnet.task_embeddings(task_ids).detach()
    weights = hnet(task_emb=task_emb, theta=theta)
    if weights.shape != targets.shape:
        raise ValueError(f"targets have shape {tuple(targets.shape)}, the hypernetwork gives {tuple(weights.shape)}")
    return (weights - targets).pow(2).sum(dim=1).mean()
