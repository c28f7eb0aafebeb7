"""The 1D regression toy as one experiment: von Oswald et al. Fig. 2 (notebooks/01_toy1d.ipynb).

``run_toy1d(ToyConfig())`` trains (a) a hypernetwork with the output regularizer, (b) a
target network on all tasks at once (multitask) and (c) the hypernetwork fine-tuned
with ``beta = 0``, and returns final MSEs, score matrices and predictions for plots.

``ToyConfig()`` is the authors' toy (chrhenning/hypercl, ``toy_example``): their init
(``toy_init_``), their data (every task from the same data seed 42) and epoch batches. The
init is what matters: the authors' hypernetwork has one output head per target tensor, so
Glorot's fan-out is that tensor's size (10, 10, 100, 10, 10, 1), not 141. With one Xavier
over the whole [141, 10] head (or PyTorch's default init) task 2 is lost in 2-4 of 8 seeds;
with per-tensor heads none of 10 (results/README.md, "1D toy"). ``init="pytorch"`` and
``data_seed=None`` give the old behaviour back.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, replace

import torch

from ..data import toy1d_curve, toy1d_tasks
from ..device import pick_device
from ..hnets import HMLP, DirectWeights
from ..targets import MLP
from ..train import TrainConfig, train_continual, train_multitask

METHODS = ("hnet", "multitask", "finetune")
INITS = ("authors", "pytorch")


@dataclass(frozen=True)
class ToyConfig:
    """The paper's settings (App. C); smaller ``iters`` give a quick run."""

    iters: int = 4000
    batch_size: int = 32
    lr: float = 1e-2
    beta: float = 0.005
    lookahead: bool = True
    emb_dim: int = 2
    hnet_hidden: tuple[int, ...] = (10, 10)
    target_hidden: tuple[int, ...] = (10, 10)
    activation: str = "sigmoid"
    multitask_iters: int = 12000
    multitask_lr: float = 0.05
    num_train: int = 100
    num_test: int = 50
    noise: float = 0.05
    seed: int = 0
    init: str = "authors"  # "authors" (toy_init_) or "pytorch" (PyTorch's Linear defaults)
    data_seed: int | None = 42  # every task drawn with this seed (the authors'); None: from ``seed``
    sampling: str = "epochs"  # batches: "epochs" (the authors' data handlers) or "replacement"

    def __post_init__(self):
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")

    def train_config(self, beta: float | None = None) -> TrainConfig:
        return TrainConfig(
            iters=self.iters,
            batch_size=self.batch_size,
            lr=self.lr,
            beta=self.beta if beta is None else beta,
            lookahead=self.lookahead,
            sampling=self.sampling,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def build_toy_models(cfg: ToyConfig, num_tasks: int = 3, device="cpu") -> tuple[HMLP, MLP]:
    """The toy's target (1-10-10-1) and full hypernetwork (10-10), both with ``cfg.activation``."""
    tnet = MLP(1, cfg.target_hidden, 1, cfg.activation)
    hnet = HMLP(
        tnet.param_shapes, num_tasks, emb_dim=cfg.emb_dim, hidden=cfg.hnet_hidden, activation=cfg.activation
    ).to(device)
    return hnet, tnet


def toy_tasks(cfg: ToyConfig, device="cpu"):
    """The three tasks of ``cfg``: drawn with ``cfg.data_seed`` (each task from the same seed,
    as the authors do), or with ``cfg.seed`` when ``data_seed`` is None."""
    same = cfg.data_seed is not None
    seed = cfg.data_seed if same else cfg.seed
    return toy1d_tasks(cfg.num_train, cfg.num_test, cfg.noise, seed, device, same_draws=same)


@torch.no_grad()
def toy_init_(hnet: HMLP, generator: torch.Generator | None = None) -> HMLP:
    """The authors' init of the toy's hypernetwork, in place: Xavier-uniform on every weight
    matrix, every bias zero (the head's too), task embeddings N(0, 1).

    Their hypernetwork has one linear output head per target tensor; Glorot's bound
    ``sqrt(6 / (fan_in + fan_out))`` therefore uses each tensor's size as fan-out. hnlab's
    single head gets the same per-tensor bounds, row block by row block.
    """
    theta = list(hnet.theta)
    for weight, bias in zip(theta[:-2:2], theta[1:-2:2]):
        bound = math.sqrt(6.0 / (weight.shape[0] + weight.shape[1]))
        weight.uniform_(-bound, bound, generator=generator)
        bias.zero_()
    head, head_bias = theta[-2], theta[-1]  # head stored [H, C]
    start = 0
    for shape in hnet.target_shapes:
        size = math.prod(shape)
        bound = math.sqrt(6.0 / (head.shape[0] + size))
        head[:, start : start + size].uniform_(-bound, bound, generator=generator)
        start += size
    head_bias.zero_()
    for emb in hnet.task_emb:
        emb.normal_(generator=generator)
    return hnet


def toy_models(cfg: ToyConfig, seed: int | None = None, device="cpu") -> tuple[HMLP, MLP]:
    """The toy's hypernetwork and target, initialized as ``cfg.init`` says from ``seed``
    (default ``cfg.seed``): the same seed always gives the same hypernetwork."""
    seed = cfg.seed if seed is None else seed
    torch.manual_seed(seed)
    hnet, tnet = build_toy_models(cfg)
    if cfg.init == "authors":
        toy_init_(hnet, torch.Generator().manual_seed(seed))
    return hnet.to(device), tnet


@torch.no_grad()
def toy_predictions(hnet, tnet: MLP, num_tasks: int = 3, num: int = 60) -> list[dict]:
    """Each task's generated network evaluated on its own input domain (for plots)."""
    W = hnet(list(range(num_tasks)))
    out = []
    for t in range(num_tasks):
        x, _ = toy1d_curve(t, num)
        x = x.to(W.device)
        out.append({"x": x[:, 0].tolist(), "y": tnet(x, W[t])[:, 0].tolist()})
    return out


def toy_curves(num_tasks: int = 3, num: int = 200) -> list[dict]:
    """Dense ground truth of every task, for plots."""
    curves = []
    for t in range(num_tasks):
        x, y = toy1d_curve(t, num)
        curves.append({"x": x[:, 0].tolist(), "y": y[:, 0].tolist()})
    return curves


def run_toy1d(cfg: ToyConfig = ToyConfig(), methods=METHODS, device="cpu", progress: bool = True) -> dict:
    """Train the requested methods on the toy; return JSON-ready results (see module docstring)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    device = pick_device(device)
    tasks = toy_tasks(cfg, device)
    results = {"config": cfg.to_dict(), "device": str(device), "predictions": {}, "matrix": {}, "losses": {}}
    start = time.perf_counter()
    for method in methods:
        # (a) and (c) start from the same hypernetwork: only beta differs between them.
        hnet, tnet = toy_models(cfg, device=device)
        if method == "multitask":
            torch.manual_seed(cfg.seed + 1)
            direct = DirectWeights(tnet.param_shapes, len(tasks)).to(device)
            mt_cfg = TrainConfig(
                iters=cfg.multitask_iters,
                batch_size=cfg.batch_size,
                lr=cfg.multitask_lr,
                beta=0.0,
                sampling=cfg.sampling,
            )
            results["mse_multitask"] = train_multitask(direct, tnet, tasks, mt_cfg, seed=cfg.seed, progress=progress)
            results["predictions"][method] = toy_predictions(direct, tnet)
            continue
        beta = cfg.beta if method == "hnet" else 0.0
        run = train_continual(hnet, tnet, tasks, cfg.train_config(beta), seed=cfg.seed, progress=progress, desc=method)
        results[f"mse_{method}"] = run.final
        results["matrix"][method], results["losses"][method] = run.matrix, run.losses
        results["predictions"][method] = toy_predictions(hnet, tnet)
        results[f"{method}_seconds"] = run.seconds
    results["seconds"] = time.perf_counter() - start
    return results


def quick_config(cfg: ToyConfig, iters: int) -> ToyConfig:
    """The same settings with ``iters`` per task (and 3x for the multitask learner)."""
    return replace(cfg, iters=iters, multitask_iters=3 * iters)
