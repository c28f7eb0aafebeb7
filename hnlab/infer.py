"""Task inference by predictive entropy (HNET+ENT) and the CL1/CL2/CL3 test accuracies.

von Oswald et al. (Sec. 3.2): without a task id, run every task's generated network and
trust the one that is most certain, the lowest entropy of its softmax output. All tasks'
weights are generated ONCE, and each batch of test inputs goes through all networks in
one batched call ``tnet(x, W [T, P]) -> [T, B, out]``. Introduced in notebooks/03_benchmarks.ipynb.

- CL1: the task id is given; task t's network (and head) answers.
- CL2: the task id is not given; the lowest-entropy network answers; correct when its
  within-task label is right (SplitMNIST: which digit of the pair; PermutedMNIST: the digit).
- CL3: also the task must be right (SplitMNIST: the digit out of 10).
"""

from __future__ import annotations

import torch

from .data import Task
from .hnets import HyperNetwork
from .targets import MLP

#: The per-task scores ``scenario_accuracies`` returns, in percent.
SCORES = ("cl1", "cl2", "cl3", "task_inference")


def per_network_logits(tnet: MLP, x: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """Logits ``[T, B, out]`` of every network ``W [T, P]`` on ``x [B, D]``, network t reading
    head t of a multi-head target (its only head otherwise)."""
    y = tnet(x, W)  # [T, B, heads * out]
    if tnet.num_heads == 1:
        return y
    T = W.shape[0]
    y = y.reshape(T, y.shape[1], tnet.num_heads, tnet.out_features)
    return y[torch.arange(T), :, torch.arange(T)]


def entropy(logits: torch.Tensor) -> torch.Tensor:
    """Predictive entropy of softmax(logits) over the last axis."""
    logp = torch.log_softmax(logits, dim=-1)
    return -(logp.exp() * logp).sum(-1)


def infer_from_logits(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(task_hat [B], label_hat [B])`` from logits ``[T, B, out]``: the lowest-entropy
    network and its predicted label."""
    task_hat = entropy(logits).argmin(dim=0)
    label_hat = logits[task_hat, torch.arange(logits.shape[1])].argmax(-1)
    return task_hat, label_hat


@torch.no_grad()
def infer_batch(tnet: MLP, x: torch.Tensor, W: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Entropy task inference for inputs ``x``: all networks ``W [T, P]`` in one call."""
    return infer_from_logits(per_network_logits(tnet, x, W))


@torch.no_grad()
def scenario_accuracies(hnet: HyperNetwork, tnet: MLP, tasks: list[Task], batch_size: int = 1000) -> dict:
    """Per-task test accuracy (percent) in CL1, CL2 and CL3, the task-inference accuracy, and
    where entropy sends each task's inputs.

    Returns ``{"cl1": [...], "cl2": [...], "cl3": [...], "task_inference": [...],
    "task_confusion": [[...], ...]}``; ``task_confusion[j][k]`` is the percent of task j's test
    inputs whose lowest-entropy network is task k's (its diagonal is ``task_inference``).
    """
    W = hnet(list(range(len(tasks))))
    out = {key: [] for key in (*SCORES, "task_confusion")}
    for j, task in enumerate(tasks):
        counts, inferred = torch.zeros(4), torch.zeros(len(tasks))
        for start in range(0, len(task.x_test), batch_size):
            x = task.x_test[start : start + batch_size]
            y = task.y_test[start : start + batch_size]
            logits = per_network_logits(tnet, x, W)
            task_hat, label_hat = infer_from_logits(logits)
            given = logits[j]
            right_task = task_hat == j
            counts += (
                torch.stack(
                    [
                        (given.argmax(-1) == y).sum(),
                        (label_hat == y).sum(),
                        ((label_hat == y) & right_task).sum(),
                        right_task.sum(),
                    ]
                )
                .float()
                .cpu()
            )
            inferred += torch.bincount(task_hat, minlength=len(tasks)).float().cpu()
        for key, value in zip(SCORES, (100 * counts / len(task.x_test)).tolist()):
            out[key].append(value)
        out["task_confusion"].append((100 * inferred / len(task.x_test)).tolist())
    return out
