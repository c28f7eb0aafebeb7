"""The continual training loop: tasks in order, one score matrix (notebooks/01_toy1d.ipynb).

``train_continual(hnet, tnet, tasks, TrainConfig(...))`` learns the tasks one after the
other. With ``beta > 0`` the output regularizer protects the old tasks; with
``beta = 0`` it is plain fine-tuning. After each task every task is evaluated, giving the
score matrix ``R[i][j]`` (``hnlab.metrics``). ``hnets.DirectWeights`` in place of a
hypernetwork trains the target network directly (the fine-tuning baseline).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .checks import check_count
from .data import Task
from .device import reuse_freed_memory
from .hnets import HyperNetwork
from .regularizers import (
    FastOutputRegularizer,
    has_fused_adam,
    lookahead_step,
    output_regularizer,
    regularizer_targets,
    supports_fast_regularizer,
)
from .targets import MLP

OPTIMIZERS = ("adam", "sgd")
SAMPLINGS = ("replacement", "epochs")


@dataclass
class TrainConfig:
    """Optimizer and regularizer settings for one task (or all tasks).

    ``reg_subset``: regularize a random subset of this many old tasks per step
    (von Oswald App. D); ``None`` uses all old tasks. ``fast_reg``: compute the penalty
    from the hypernetwork's linear head without generating the old tasks' weights
    (``hnlab.regularizers.fast``, same value; used when the hypernetwork has such a head).
    ``optimizer``: ``"adam"`` (von Oswald et al.) or ``"sgd"``, plain SGD as in Chang et
    al.'s Fig. 4 (notebooks/02_init_variance.ipynb). ``sampling``: how batches are drawn,
    ``"replacement"`` (uniformly at random) or ``"epochs"`` (sweeps through the task's data in
    a fresh random order each epoch, as the authors' data handlers do; the benchmarks use it).
    """

    iters: int = 4000
    batch_size: int = 32
    lr: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    beta: float = 0.005
    lookahead: bool = True
    reg_subset: int | None = None
    fast_reg: bool = True
    optimizer: str = "adam"
    sampling: str = "replacement"

    def __post_init__(self):
        for name in ("iters", "batch_size"):
            check_count(name, getattr(self, name))
        for name in ("lr", "beta"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative number, got {value!r}")
        if self.reg_subset is not None:
            check_count("reg_subset (None: every old task)", self.reg_subset)
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        check_sampling(self.sampling)
        self.betas = tuple(self.betas)


def check_sampling(sampling: str) -> None:
    """One clear error for an unknown batch-drawing mode (``TrainConfig.sampling``)."""
    if sampling not in SAMPLINGS:
        raise ValueError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")


@dataclass
class ContinualResult:
    """What a continual run produced: ``matrix[i][j]`` = score on task j after task i."""

    metric: str
    matrix: list[list[float]]
    losses: list[list[float]] = field(default_factory=list)  # task loss per task, sampled
    seconds: float = 0.0

    @property
    def final(self) -> list[float]:
        return list(self.matrix[-1])

    @property
    def during(self) -> list[float]:
        return [row[i] for i, row in enumerate(self.matrix)]

    def to_dict(self) -> dict:
        return asdict(self)


def task_loss(task: Task, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(outputs, targets) if task.loss == "mse" else F.cross_entropy(outputs, targets)


def head_of(tnet: MLP, task_id: int) -> int | None:
    """Multi-head targets answer task t with head t; single-head targets use their only head."""
    return task_id if tnet.num_heads > 1 else None


@torch.no_grad()
def batched_scores(task: Task, outputs: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """Per-network test scores ``[G]`` of outputs ``[G, B, out]`` against ``y`` (default the
    test targets): MSE (regression) or accuracy in percent (classification)."""
    y = task.y_test if y is None else y
    if task.loss == "mse":
        return F.mse_loss(outputs, y.expand_as(outputs), reduction="none").flatten(1).mean(1)
    return (outputs.argmax(-1) == y).float().mean(-1) * 100


@torch.no_grad()
def score(task: Task, outputs: torch.Tensor) -> float:
    """Test MSE (regression) or accuracy in percent (classification) of one network's outputs."""
    return batched_scores(task, outputs.unsqueeze(0)).item()


@torch.no_grad()
def evaluate_tasks(hnet: HyperNetwork, tnet: MLP, tasks: list[Task]) -> list[float]:
    """Test score of every task with its own generated network; weights come from one call."""
    W = hnet(list(range(len(tasks))))
    return [score(task, tnet(task.x_test, W[t], head=head_of(tnet, t))) for t, task in enumerate(tasks)]


def make_optimizer(params: list[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """Plain SGD for ``cfg.optimizer == "sgd"``. Otherwise Adam with PyTorch's fused kernel
    (one pass over each tensor) on CPU and CUDA, which saves 1-2 ms per PermutedMNIST step
    here (bench/cl_step.py); multi-tensor (foreach) kernels elsewhere."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr)
    fused = has_fused_adam(params)
    return torch.optim.Adam(params, lr=cfg.lr, betas=cfg.betas, fused=fused, foreach=None if fused else True)


def _configs(config: TrainConfig | list[TrainConfig], num_tasks: int) -> list[TrainConfig]:
    configs = config if isinstance(config, (list, tuple)) else [config] * num_tasks
    if len(configs) != num_tasks or not all(isinstance(c, TrainConfig) for c in configs):
        raise ValueError(f"give one TrainConfig, or a list of {num_tasks} (one per task)")
    return list(configs)


def _check_models(hnet: HyperNetwork, tnet: MLP, tasks: list[Task]) -> None:
    if not tasks:
        raise ValueError("no tasks to learn")
    if hnet.num_outputs != tnet.num_params:
        raise ValueError(f"the hypernetwork emits {hnet.num_outputs} weights, the target needs {tnet.num_params}")
    if len(tasks) > hnet.num_tasks:
        raise ValueError(f"{len(tasks)} tasks but the hypernetwork has embeddings for {hnet.num_tasks}")


def train_task(
    hnet: HyperNetwork,
    tnet: MLP,
    tasks: list[Task],
    task_id: int,
    cfg: TrainConfig,
    generator: torch.Generator | None = None,
    progress=None,
    make_penalty=None,
) -> list[float]:
    """Learn ``tasks[task_id]`` while the regularizer protects tasks ``0..task_id-1``.

    Returns the task loss every 10 steps. ``progress`` is a tqdm bar to advance (or None).
    ``make_penalty(hnet, task_id, cfg, generator)``, when given, builds the penalty in place of
    ``old_task_penalty`` (same contract; IWR's Fisher-weighted one, ``hnlab.regularizers.iwr``).
    """
    task, head = tasks[task_id], head_of(tnet, task_id)
    batch_loss = lambda W, idx: _batch_loss(tnet, task, W, head, idx)
    return train_generated(hnet, task_id, task, cfg, batch_loss, generator, progress, make_penalty)


def train_generated(
    hnet: HyperNetwork,
    task_id: int,
    task: Task,
    cfg: TrainConfig,
    batch_loss,
    generator: torch.Generator | None = None,
    progress=None,
    make_penalty=None,
    extra_params: tuple[torch.nn.Parameter, ...] = (),
) -> list[float]:
    """The loop of ``train_task`` for any loss of the generated weights: ``batch_loss(W, idx)``
    is the loss of task ``task_id``'s weights ``W [P]`` on the training examples ``idx`` of
    ``task``; ``extra_params`` (say a VAE's encoder, ``hnlab.replay``) train beside the task's
    hypernetwork parameters with the same Adam, unprotected."""
    optimizer = make_optimizer([*hnet.trainable_parameters(task_id), *extra_params], cfg)
    penalty = (old_task_penalty if make_penalty is None else make_penalty)(hnet, task_id, cfg, generator)
    batches = batch_indices(len(task.x_train), cfg, generator).to(task.x_train.device)
    losses = []
    for it in range(cfg.iters):
        W = hnet(task_emb=hnet.task_emb[task_id].unsqueeze(0)).squeeze(0)  # a view: no copy in backward
        loss = batch_loss(W, batches[it])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if penalty is not None:
            (cfg.beta * penalty(it, optimizer if cfg.lookahead else None)).backward()
        optimizer.step()
        record_step(losses, loss, it, task_id, progress)
    finish_progress(progress, cfg.iters)
    return losses


def optimize(params: list[torch.nn.Parameter], cfg: TrainConfig, step_loss, task_id: int, progress=None) -> list[float]:
    """A fresh optimizer over ``params`` (``make_optimizer``) takes ``cfg.iters`` steps on
    ``step_loss(it)``, the loss of step ``it`` with nothing added; the loss every 10 steps
    (GROW's loop, the task-inference network's in ``hnlab.replay``)."""
    optimizer = make_optimizer(params, cfg)
    losses = []
    for it in range(cfg.iters):
        loss = step_loss(it)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        record_step(losses, loss, it, task_id, progress)
    finish_progress(progress, cfg.iters)
    return losses


def record_step(losses: list[float], loss: torch.Tensor, it: int, task_id: int, progress) -> None:
    """Keep the task loss every 10 steps and advance the tqdm bar ``progress`` (or None) every 50;
    every method's training loop calls it after its step."""
    if it % 10 == 0:
        losses.append(loss.item())
    if progress is not None and (it + 1) % 50 == 0:
        progress.update(50)
        progress.set_postfix(task=task_id + 1, loss=f"{losses[-1]:.4g}")


def finish_progress(progress, iters: int) -> None:
    """Advance ``progress`` by the steps ``record_step`` has not counted yet."""
    if progress is not None:
        progress.update(iters % 50)


def batch_indices(n: int, cfg: TrainConfig, generator) -> torch.Tensor:
    """Example indices ``[iters, batch_size]`` for a task of ``n`` examples (``cfg.sampling``);
    with ``"epochs"`` a batch may straddle two epochs."""
    if cfg.sampling == "epochs":
        epochs = -(-cfg.iters * cfg.batch_size // n)
        order = torch.cat([torch.randperm(n, generator=generator) for _ in range(epochs)])
        return order[: cfg.iters * cfg.batch_size].view(cfg.iters, cfg.batch_size)
    return torch.randint(n, (cfg.iters, cfg.batch_size), generator=generator)


def old_task_penalty(hnet: HyperNetwork, task_id: int, cfg: TrainConfig, generator=None):
    """``penalty(it, optimizer)``: the output regularizer over tasks ``0..task_id-1`` at step
    ``it`` (a random subset per step with ``cfg.reg_subset``), looking ahead by the step
    ``optimizer`` would take (None: no look-ahead); or None when nothing to protect."""
    if cfg.beta == 0 or task_id == 0:
        return None
    old_ids = list(range(task_id))
    subsets = _old_task_subsets(len(old_ids), cfg, generator)
    if cfg.fast_reg and gram_route_pays(hnet, len(old_ids)):
        fast = FastOutputRegularizer(hnet, old_ids)

        def gram(it, optimizer):
            index = None if subsets is None else subsets[it]
            return fast(index=index) if optimizer is None else fast.penalty_with_lookahead(optimizer, index)

        return gram
    targets = regularizer_targets(hnet, old_ids)

    def plain(it, optimizer):
        delta = None if optimizer is None else lookahead_step(optimizer, list(hnet.theta))
        if subsets is None:
            return output_regularizer(hnet, targets, old_ids, delta)
        return output_regularizer(hnet, targets[subsets[it]], subsets[it].tolist(), delta)

    return plain


def gram_route_pays(hnet: HyperNetwork, num_old: int) -> bool:
    """Whether ``hnlab.regularizers.fast`` beats generating the old tasks' weights.

    Per step the Gram route costs about ``4 C H^2`` multiply-adds over the head (``C`` outputs,
    ``H`` inputs) in a few passes; the plain one ``3 T N C H`` for ``T N`` trunk rows (old
    tasks times chunks) and writes ``T N C`` outputs. Measured on 2 CPU threads, the Gram
    route already wins at one PermutedMNIST old task (``T N = 27``, ``H = 25``: 22 against
    26 ms per step) and ties at one SplitMNIST old task (``T N = 12``, ``H = 10``: 5.6 against
    5.5 ms). The plain route stays for tiny batches such as the 1D toy's.
    """
    if not supports_fast_regularizer(hnet):
        return False
    trunk_rows = num_old * getattr(hnet, "num_chunks", 1)
    return 2 * trunk_rows >= hnet.head_params()[0].shape[1]


def _old_task_subsets(num_old: int, cfg: TrainConfig, generator) -> torch.Tensor | None:
    """Per-step random subsets ``[iters, k]`` of old tasks, or None to use them all."""
    if cfg.reg_subset is None or cfg.reg_subset >= num_old:
        return None
    keys = torch.rand(cfg.iters, num_old, generator=generator)
    return keys.argsort(dim=1)[:, : cfg.reg_subset]


def train_continual(
    hnet: HyperNetwork,
    tnet: MLP,
    tasks: list[Task],
    config: TrainConfig | list[TrainConfig],
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> ContinualResult:
    """Learn ``tasks`` in order; evaluate all tasks after each one (see module docstring)."""
    _check_models(hnet, tnet, tasks)
    reuse_freed_memory()
    configs = _configs(config, len(tasks))
    generator = torch.Generator().manual_seed(seed)
    start, matrix, losses = time.perf_counter(), [], []
    with tqdm(total=sum(c.iters for c in configs), desc=desc, disable=not progress, leave=False) as bar:
        for t, cfg in enumerate(configs):
            hnet.train()
            losses.append(train_task(hnet, tnet, tasks, t, cfg, generator, bar))
            hnet.eval()
            matrix.append(evaluate_tasks(hnet, tnet, tasks))
    metric = "mse" if tasks[0].loss == "mse" else "accuracy"
    return ContinualResult(metric, matrix, losses, time.perf_counter() - start)


def train_multitask(
    hnet: HyperNetwork, tnet: MLP, tasks: list[Task], cfg: TrainConfig, seed: int = 0, progress: bool = True
) -> list[float]:
    """The upper bound: every step sees a batch of every task (summed losses, each task
    through its own generated network / head). Returns the final score per task."""
    _check_models(hnet, tnet, tasks)
    reuse_freed_memory()
    generator = torch.Generator().manual_seed(seed)
    params = [p for t in range(len(tasks)) for p in hnet.trainable_parameters(t)]
    optimizer = make_optimizer(list({id(p): p for p in params}.values()), cfg)
    ids = list(range(len(tasks)))
    batches = [batch_indices(len(task.x_train), cfg, generator).to(task.x_train.device) for task in tasks]
    for it in tqdm(range(cfg.iters), desc="multitask", disable=not progress, leave=False):
        W = hnet(ids)
        loss = sum(_batch_loss(tnet, task, W[t], head_of(tnet, t), batches[t][it]) for t, task in enumerate(tasks))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return evaluate_tasks(hnet, tnet, tasks)


def _batch_loss(tnet: MLP, task: Task, W: torch.Tensor, head: int | None, idx: torch.Tensor) -> torch.Tensor:
    """The task loss of network ``W`` on the training examples ``idx``."""
    return task_loss(task, tnet(task.x_train[idx], W, head=head), task.y_train[idx])
