"""A task-inference network trained on replayed data (HNET+TIR, von Oswald et al. 2020, Sec. 2.3).

Without a task id, HNET+ENT asks every task's network and trusts the most certain; HNET+TIR
instead trains one classifier whose classes are the tasks: real data of the current task
labelled t, replayed data of every old task labelled with the task that generated it (half and
half), with a softmax that grows by one output per task. Its answer picks the hypernetwork's
embedding and head. Introduced in notebooks/07_replay.ipynb.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..data import Task
from ..hnets import DirectWeights
from ..targets import MLP
from ..train import TrainConfig, batch_indices, optimize
from .vae import ReplayVAE


class TaskInferenceNet(nn.Module):
    """``x [B, D] -> task logits [B, num_seen]``: an MLP with its own weights and one output per task."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], num_tasks: int):
        super().__init__()
        self.tnet = MLP(in_features, hidden, num_tasks, "relu")
        self.weights = DirectWeights(self.tnet.param_shapes, 1)

    def forward(self, x: torch.Tensor, num_seen: int) -> torch.Tensor:
        return self.tnet(x, self.weights.theta[0])[..., :num_seen]

    @torch.no_grad()
    def infer(self, x: torch.Tensor, num_seen: int) -> torch.Tensor:
        """The inferred task ``[B]`` of each input among the first ``num_seen``."""
        return self(x, num_seen).argmax(-1)


def replay_batch(vae: ReplayVAE, W_old: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Replayed inputs ``[t, n, D]`` of the ``t`` old tasks whose decoder weights are ``W_old [t, P]``:
    ``n = ceil(batch_size / t)`` each, about one batch in all, from one decoder call."""
    return vae.sample(range(len(W_old)), math.ceil(batch_size / len(W_old)), W=W_old)


def replay_labels(replayed: torch.Tensor) -> torch.Tensor:
    """The generating task of every replayed input ``[t, n, D]``, flattened ``[t n]``."""
    t, n = replayed.shape[:2]
    return torch.arange(t, device=replayed.device).repeat_interleave(n)


def train_task_inference(
    tir: TaskInferenceNet,
    vae: ReplayVAE,
    task: Task,
    task_id: int,
    cfg: TrainConfig,
    generator: torch.Generator | None = None,
    progress=None,
    replay_weight: float = 0.5,
) -> list[float]:
    """Train ``tir`` on task ``task_id`` (real data, label ``task_id``) and replay of the old tasks
    (``1 - replay_weight`` and ``replay_weight`` of the loss); a fresh Adam, as the authors' code.
    Nothing to learn with one task (a softmax over one class)."""
    if task_id == 0:
        return []
    batches = batch_indices(len(task.x_train), cfg, generator).to(task.x_train.device)
    W_old = vae.hnet(list(range(task_id))).detach()
    label = torch.full((cfg.batch_size,), task_id, device=task.x_train.device)

    def step_loss(it):
        replayed = replay_batch(vae, W_old, cfg.batch_size)
        real = F.cross_entropy(tir(task.x_train[batches[it]], task_id + 1), label)
        fake = F.cross_entropy(tir(replayed.flatten(0, 1), task_id + 1), replay_labels(replayed))
        return (1 - replay_weight) * real + replay_weight * fake

    return optimize(list(tir.parameters()), cfg, step_loss, task_id, progress)


@torch.no_grad()
def task_confusion(tir: TaskInferenceNet, tasks: list[Task], batch_size: int = 2000) -> list[list[float]]:
    """``confusion[j][k]``: the percent of task j's test inputs the network calls task k (its
    diagonal is the task-inference accuracy per task; lesson 03 has entropy's)."""
    confusion = []
    for task in tasks:
        counts = torch.zeros(len(tasks))
        for start in range(0, len(task.x_test), batch_size):
            inferred = tir.infer(task.x_test[start : start + batch_size], len(tasks))
            counts += torch.bincount(inferred, minlength=len(tasks)).float().cpu()
        confusion.append((100 * counts / len(task.x_test)).tolist())
    return confusion
