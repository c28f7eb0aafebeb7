"""Seeds as a batch axis: S seeds of the 1D toy in one program (notebooks/01_toy1d.ipynb).

The toy's outcome depends on the seed, so a lesson should show the spread over seeds, not
one seed. ``run_toy_seeds(cfg, seeds)`` trains every seed's hypernetwork at once: their
parameters are stacked along a leading seed axis (``theta [S, P_h]``, one flat vector per
seed, and embeddings ``[S, T, E]``), as are their batch orders and their Adam moments. Each
step is one batched program:

1. generate the current task's weights for every seed, ``W [S, 141]`` (``torch.baddbmm``);
2. every seed's task loss on its own batch; one backward gives every seed's gradient
   (the seeds share no parameter, so the sum of their losses separates);
3. the embedding's Adam step (task loss only), then the look-ahead ``dTheta``: the Adam step
   the task-loss gradient alone would take, from each seed's moments, detached;
4. the output regularizer ``beta * mean_old ||h(e_j, theta + dTheta) - target_j||^2`` per
   seed, its gradient added, and theta's Adam step.

This is ``hnlab.train.train_continual`` with the toy's hypernetwork, seed by seed: the same
init (``toy_models``), data, batch order, optimizer and look-ahead; the test compares the
two to float tolerance (tests/test_toy_seeds.py). Adam here is PyTorch's formula written out
on stacked tensors; a new Adam for theta and one for the embedding at every task, as in the
authors' code.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from ..hnets import HMLP
from ..targets import MLP
from ..train import batch_indices
from .toy import ToyConfig, toy_models, toy_tasks


@dataclass
class SeedStack:
    """Every seed's hypernetwork, stacked: ``theta [S, P_h]`` (``hnet.theta`` flattened in
    order), ``emb [S, T, E]``; ``shapes`` are the theta tensors' shapes (head stored ``[H, C]``)."""

    theta: torch.Tensor
    emb: torch.Tensor
    shapes: list[tuple[int, ...]]
    act: str

    @property
    def num_seeds(self) -> int:
        return self.theta.shape[0]

    def pieces(self, theta: torch.Tensor | None = None) -> list[torch.Tensor]:
        """Views ``[S, *shape]`` of a stacked flat ``theta`` (default ``self.theta``)."""
        theta = self.theta if theta is None else theta
        sizes = [math.prod(s) for s in self.shapes]
        return [p.view(theta.shape[0], *s) for p, s in zip(theta.split(sizes, dim=1), self.shapes)]

    def generate(self, emb: torch.Tensor, theta: torch.Tensor | None = None) -> torch.Tensor:
        """Target weights ``[S, N, C]`` of embeddings ``emb [S, N, E]``, each seed with its own theta."""
        params = self.pieces(theta)
        act = getattr(torch, self.act)
        h = emb
        for weight, bias in zip(params[:-2:2], params[1:-2:2]):
            h = act(torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2)))
        return torch.baddbmm(params[-1].unsqueeze(1), h, params[-2])

    def to_hnet(self, s: int, hnet: HMLP) -> HMLP:
        """Copy seed ``s``'s parameters into ``hnet`` (for plots and maps of one seed)."""
        with torch.no_grad():
            for p, q in zip(hnet.theta, self.pieces()):
                p.copy_(q[s])
            for t, e in enumerate(hnet.task_emb):
                e.copy_(self.emb[s, t])
        return hnet


def stack_hnets(hnets: list[HMLP]) -> SeedStack:
    """Stack full hypernetworks of one architecture along a new seed axis (copies)."""
    first = hnets[0]
    if first.activation not in ("sigmoid", "tanh", "relu"):
        raise ValueError(f"unsupported hypernetwork activation {first.activation!r}")
    theta = torch.stack([torch.cat([p.detach().reshape(-1) for p in h.theta]) for h in hnets])
    emb = torch.stack([torch.stack([e.detach() for e in h.task_emb]) for h in hnets])
    return SeedStack(theta.clone(), emb.clone(), [tuple(p.shape) for p in first.theta], first.activation)


def batched_target(tnet: MLP, x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Outputs ``[G, B, out]`` of ``G`` target networks ``W [G, P]`` on their inputs ``x [G, B, in]``."""
    params = tnet.unflatten(W)
    h = x
    last = len(params) // 2 - 1
    for i, (weight, bias) in enumerate(zip(params[0::2], params[1::2])):
        h = torch.baddbmm(bias.unsqueeze(1), h, weight.transpose(1, 2))
        if i < last:
            h = tnet.act(h)
    return h


class StackedAdam:
    """Adam (PyTorch's, no weight decay) on one stacked tensor ``[S, ...]``: every entry is its
    own Adam, so the seeds stay independent. ``step(p, g)`` updates ``p`` in place;
    ``lookahead(g)`` returns the step it would take with ``g``, leaving the state as it is.
    PyTorch's fused kernel where it exists (one pass), else the same formula in tensor ops."""

    def __init__(self, like: torch.Tensor, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.lr, self.betas, self.eps, self.t = lr, tuple(betas), eps, 0
        self.m, self.v = torch.zeros_like(like), torch.zeros_like(like)
        self.fused = hasattr(torch, "_fused_adam_") and like.device.type in ("cpu", "cuda")

    def _apply(self, p: torch.Tensor, g: torch.Tensor, m: torch.Tensor, v: torch.Tensor, t: int) -> None:
        beta1, beta2 = self.betas
        if self.fused:
            step = torch.tensor(float(t), device=p.device)
            torch._fused_adam_(
                [p], [g], [m], [v], [], [step], lr=self.lr, beta1=beta1, beta2=beta2,
                weight_decay=0.0, eps=self.eps, amsgrad=False, maximize=False,
            )  # fmt: skip
            return
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denom = (v.sqrt() / math.sqrt(1 - beta2**t)).add_(self.eps)
        p.addcdiv_(m, denom, value=-self.lr / (1 - beta1**t))

    @torch.no_grad()
    def lookahead(self, g: torch.Tensor) -> torch.Tensor:
        out = torch.zeros_like(g)
        self._apply(out, g, self.m.clone(), self.v.clone(), self.t + 1)
        return out

    @torch.no_grad()
    def step(self, p: torch.Tensor, g: torch.Tensor) -> None:
        self.t += 1
        self._apply(p, g, self.m, self.v, self.t)


@torch.no_grad()
def _test_mse(stack: SeedStack, tnet: MLP, x_test: torch.Tensor, y_test: torch.Tensor) -> torch.Tensor:
    """Test MSE ``[S, T]`` of every seed's network for every task (``x_test [T, n, 1]``)."""
    S, T = stack.num_seeds, x_test.shape[0]
    W = stack.generate(stack.emb).reshape(S * T, -1)
    out = batched_target(tnet, x_test.repeat(S, 1, 1), W).view(S, T, *x_test.shape[1:-1], -1)
    return (out - y_test).pow(2).flatten(2).mean(-1)


def train_seeds(
    stack: SeedStack, tnet: MLP, tasks, batches: torch.Tensor, cfg: ToyConfig, beta: float | None = None
) -> dict:
    """Train every seed of ``stack`` (in place) through ``tasks``; ``batches [S, T, iters, B]``.

    Returns ``matrix [S, T, T]`` (test MSE on task j after task i) and ``losses [S, T, ceil(iters/10)]``
    (the task loss every 10 steps, as ``train_task`` records it).
    """
    beta = cfg.beta if beta is None else beta
    S, T = stack.num_seeds, len(tasks)
    x_train = torch.stack([t.x_train for t in tasks])  # [T, n, 1]: the same data for every seed
    y_train = torch.stack([t.y_train for t in tasks])
    x_test, y_test = torch.stack([t.x_test for t in tasks]), torch.stack([t.y_test for t in tasks])
    matrix, losses = [], []
    for t in range(T):
        emb_t = stack.emb[:, t].clone().requires_grad_(True)
        theta = stack.theta.requires_grad_(True)
        opt_theta, opt_emb = StackedAdam(theta, cfg.lr), StackedAdam(emb_t, cfg.lr)
        old = stack.emb[:, :t].detach()
        targets = stack.generate(old).detach() if t and beta else None
        record = torch.empty(S, -(-cfg.iters // 10))
        for it in range(cfg.iters):
            idx = batches[:, t, it]  # [S, B]
            W = stack.generate(emb_t.unsqueeze(1), theta).squeeze(1)
            out = batched_target(tnet, x_train[t][idx], W)
            loss = (out - y_train[t][idx]).pow(2).flatten(1).mean(1)  # [S]
            g_theta, g_emb = torch.autograd.grad(loss.sum(), (theta, emb_t))
            if it % 10 == 0:
                record[:, it // 10] = loss.detach()
            opt_emb.step(emb_t, g_emb)
            if targets is not None:
                delta = opt_theta.lookahead(g_theta) if cfg.lookahead else 0.0
                ahead = stack.generate(old, theta + delta)
                penalty = (ahead - targets).pow(2).sum(-1).mean(-1)  # [S]
                (g_reg,) = torch.autograd.grad(beta * penalty.sum(), theta)
                g_theta = g_theta + g_reg
            opt_theta.step(theta, g_theta)
        theta.requires_grad_(False)
        with torch.no_grad():
            stack.emb[:, t] = emb_t.detach()
        matrix.append(_test_mse(stack, tnet, x_test, y_test))
        losses.append(record)
    return {"matrix": torch.stack(matrix, 1), "losses": torch.stack(losses, 1)}


def seed_batches(cfg: ToyConfig, tasks, seeds) -> torch.Tensor:
    """Every seed's batch indices ``[S, T, iters, B]``, drawn as ``train_continual(seed=s)`` draws them."""
    tc = cfg.train_config()
    out = []
    for s in seeds:
        gen = torch.Generator().manual_seed(s)
        out.append(torch.stack([batch_indices(len(task.x_train), tc, gen) for task in tasks]))
    return torch.stack(out)


def run_toy_seeds(cfg: ToyConfig = ToyConfig(), seeds=range(10), beta: float | None = None, device="cpu") -> dict:
    """Train ``cfg``'s regularized hypernetwork (or ``beta``; 0 is fine-tuning) for every seed at once.

    Seed ``s`` starts from ``toy_models(cfg, s)`` and draws its batches as ``train_continual(seed=s)``;
    the data are ``toy_tasks(cfg)`` (the same for every seed, as ``cfg.data_seed`` fixes them).
    Returns JSON-ready ``final [S][T]``, ``matrix [S][T][T]``, ``losses [S][T][...]``, ``seconds``,
    and ``stack`` (the trained ``SeedStack``) and ``tnet`` for plots.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("give at least one seed")
    if cfg.data_seed is None:
        raise ValueError("the batched seeds share their data: give cfg.data_seed")
    tasks = toy_tasks(cfg, device)
    models = [toy_models(cfg, s, device) for s in seeds]
    tnet = models[0][1]
    stack = stack_hnets([h for h, _ in models])
    batches = seed_batches(cfg, tasks, seeds).to(device)
    threads = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(1)  # tensors of a few thousand numbers: more threads only wait on each other
    try:
        start = time.perf_counter()
        out = train_seeds(stack, tnet, tasks, batches, cfg, beta)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    matrix = out["matrix"]
    return {
        "seeds": seeds,
        "beta": cfg.beta if beta is None else beta,
        "final": matrix[:, -1].tolist(),
        "during": torch.diagonal(matrix, dim1=1, dim2=2).tolist(),
        "matrix": matrix.tolist(),
        "losses": out["losses"].tolist(),
        "seconds": seconds,
        "stack": stack,
        "tnet": tnet,
    }


@torch.no_grad()
def seed_predictions(stack: SeedStack, tnet: MLP, num_tasks: int = 3, num: int = 60) -> list[list[dict]]:
    """``[S][T]`` predictions ``{"x", "y"}`` of every seed's network on each task's domain (for plots)."""
    from ..data import toy1d_curve

    xs = torch.stack([toy1d_curve(t, num)[0] for t in range(num_tasks)])  # [T, num, 1]
    S = stack.num_seeds
    W = stack.generate(stack.emb[:, :num_tasks]).reshape(S * num_tasks, -1)
    y = batched_target(tnet, xs.repeat(S, 1, 1).to(W.device), W).view(S, num_tasks, num)
    return [[{"x": xs[t, :, 0].tolist(), "y": y[s, t].tolist()} for t in range(num_tasks)] for s in range(S)]
