"""The 1D regression toy as one experiment: von Oswald et al. Fig. 2 (notebooks/01_toy1d.ipynb).

``run_toy1d(ToyConfig())`` trains (a) a hypernetwork with the output regularizer, (b) a
target network on all tasks at once (multitask) and (c) the hypernetwork fine-tuned
with ``beta = 0``, and returns final MSEs, score matrices and predictions for plots.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, replace

import torch

from ..data import toy1d_curve, toy1d_tasks
from ..device import pick_device
from ..hnets import HMLP, DirectWeights
from ..targets import MLP
from ..train import TrainConfig, train_continual, train_multitask

METHODS = ("hnet", "multitask", "finetune")


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
    noise: float = 0.05
    seed: int = 0

    def train_config(self, beta: float | None = None) -> TrainConfig:
        return TrainConfig(
            iters=self.iters,
            batch_size=self.batch_size,
            lr=self.lr,
            beta=self.beta if beta is None else beta,
            lookahead=self.lookahead,
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


def _fresh_models(cfg: ToyConfig, seed_offset: int, device):
    torch.manual_seed(cfg.seed + seed_offset)
    return build_toy_models(cfg, device=device)


def run_toy1d(cfg: ToyConfig = ToyConfig(), methods=METHODS, device="cpu", progress: bool = True) -> dict:
    """Train the requested methods on the toy; return JSON-ready results (see module docstring)."""
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; choose from {METHODS}")
    device = pick_device(device)
    tasks = toy1d_tasks(num_train=cfg.num_train, noise=cfg.noise, seed=cfg.seed, device=device)
    results = {"config": cfg.to_dict(), "device": str(device), "predictions": {}, "matrix": {}, "losses": {}}
    start = time.perf_counter()
    for offset, method in enumerate(methods):
        hnet, tnet = _fresh_models(cfg, offset, device)
        if method == "multitask":
            direct = DirectWeights(tnet.param_shapes, len(tasks)).to(device)
            mt_cfg = TrainConfig(iters=cfg.multitask_iters, batch_size=cfg.batch_size, lr=cfg.multitask_lr, beta=0.0)
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
