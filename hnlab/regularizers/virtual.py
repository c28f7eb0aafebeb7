"""The look-ahead of partial hypernetworks: the regularizer's gradient at a virtual update (Hemati et al.).

Alg. 1 (lines 17-21) and the authors' code, for the hypernetwork's shared parameters ``w``:

    g1 = grad_w L_task(w)                       task gradient on the batch
    w' = w - lr * g1                            virtual SGD step (the optimizer's learning rate)
    g2 = c * grad R(w')                         output regularizer at w', over <= 20 sampled old tasks
    applied gradient = g1 + g2                  then the optimizer's usual step

First order (the default) holds ``g1`` fixed in ``w'``, so ``g2 = c * (grad R)(w')``; second order
backpropagates through ``g1`` as well: ``g2 = c * (I - lr * H_L)^T (grad R)(w')`` with the task loss's
Hessian ``H_L`` (three times slower in the paper's Table 5). ``R(w) = mean_t ||H_w(t) - H*(t)||^2``
over the sampled old tasks t, against the generator's outputs ``H*`` taken before the experience
(von Oswald et al.'s Eq. 2). App. E plots ``cos(g1, g2)``: negative during the second experience.
Introduced in notebooks/09_partial_hypernetworks.ipynb.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call


def regularizer_at(hnet: nn.Module, shared: list[nn.Parameter], values, targets: torch.Tensor, task_ids):
    """``mean_t ||hnet(task_ids)[t] - targets[t]||^2`` with the ``shared`` parameters replaced by ``values``."""
    names = {id(p): n for n, p in hnet.named_parameters()}
    swapped = {names[id(p)]: v for p, v in zip(shared, values)}
    out = functional_call(hnet, swapped, (task_ids,), strict=False)
    return (out - targets).pow(2).sum(-1).mean()


def lookahead_grads(
    task_loss: torch.Tensor,
    shared: list[torch.Tensor],
    own: list[torch.Tensor],
    regularizer,
    lr: float,
    c: float,
    second_order: bool = False,
    lookahead: bool = True,
) -> tuple[list[torch.Tensor], list[torch.Tensor], float]:
    """Gradients to apply to ``shared`` and ``own`` (a task's embedding and table: task gradient only),
    and ``cos(g1, g2)`` over the shared parameters. ``regularizer(values)`` is R at shared parameters
    ``values``; ``lookahead=False`` evaluates it at ``w`` itself."""
    grads = torch.autograd.grad(task_loss, [*shared, *own], create_graph=second_order, allow_unused=True)
    grads = [torch.zeros_like(p) if g is None else g for p, g in zip([*shared, *own], grads)]
    g1, g_own = grads[: len(shared)], [g.detach() for g in grads[len(shared) :]]
    if lookahead:
        values = [p - lr * (g if second_order else g.detach()) for p, g in zip(shared, g1)]
    else:
        values = list(shared)
    g2 = torch.autograd.grad(c * regularizer(values), shared, allow_unused=True)
    g2 = [torch.zeros_like(p) if g is None else g for p, g in zip(shared, g2)]
    g1 = [g.detach() for g in g1]
    flat1, flat2 = torch.cat([g.reshape(-1) for g in g1]), torch.cat([g.reshape(-1) for g in g2])
    cosine = float(torch.nn.functional.cosine_similarity(flat1, flat2, dim=0))
    return [a + b for a, b in zip(g1, g2)], g_own, cosine
