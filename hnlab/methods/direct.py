"""Methods that train the target network's weights directly: fine-tuning, and the base of EWC and SI.

The generator is ``DirectWeights``: one flat vector ``W [P]`` shared by every task (PyTorch's
default init, uniform in +-1/sqrt(fan_in), as van de Ven & Tolias). One Adam runs through the
whole sequence and is not reset between tasks, as in their code. Subclasses add a penalty
(``penalty``), end-of-task work (``end_task``) or work after each step (``after_step``).
Introduced in notebooks/03_benchmarks.ipynb.

Heads per scenario (van de Ven & Tolias 2019): CL1 a head of C units per task, only task t's
active in the loss; CL2 one shared head of C units; CL3 one head of C T units whose softmax
covers the classes seen so far, with global labels ``t C + y``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..data import Task
from ..hnets import DirectWeights
from ..targets import MLP
from ..train import TrainConfig, batch_indices, finish_progress, make_optimizer, record_step
from .base import Method
from .settings import Settings


def make_direct_tnet(s: Settings) -> MLP:
    """The target MLP for a directly trained method in ``s.scenario`` (see the module docstring)."""
    C, T = s.classes_per_task, s.num_tasks
    out, heads = {1: (C, T), 2: (C, 1), 3: (C * T, 1)}[s.scenario]
    return MLP(s.in_features, s.target_hidden, out, "relu", num_heads=heads)


def direct_config(s: Settings) -> TrainConfig:
    return TrainConfig(iters=s.iters, batch_size=s.batch_size, lr=s.lr, beta=0.0, sampling=s.sampling)


class Direct(Method):
    """Fine-tuning the target network: the lower bound every method must beat."""

    name = "finetune_target"
    title = "the target network trained directly on each task in turn (forgets)"

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.tnet = make_direct_tnet(s)
        self.weights = DirectWeights(self.tnet.param_shapes, s.num_tasks).to(self.device)
        self.config = direct_config(s)
        self.optimizer = make_optimizer([self.W], self.config)

    @property
    def W(self) -> torch.nn.Parameter:
        """The flat target weights ``[P]``."""
        return self.weights.theta[0]

    # -- what the scenario makes of the outputs -----------------------------------------
    def active_logits(self, x: torch.Tensor, task_id: int, W: torch.Tensor | None = None) -> torch.Tensor:
        """Outputs over the classes active while learning ``task_id`` (the loss's and the Fisher's)."""
        return self.active_outputs(self.tnet(x, self.W if W is None else W), task_id)

    def active_outputs(self, y: torch.Tensor, task_id: int) -> torch.Tensor:
        """The target's outputs ``y`` cut to the classes active while learning ``task_id``."""
        C, scenario = self.settings.classes_per_task, self.settings.scenario
        if scenario == 1:
            return self.tnet.select_head(y, task_id)
        return y if scenario == 2 else y[..., : C * (task_id + 1)]

    def blockwise_heads(self, outputs: torch.Tensor, blocks: int) -> torch.Tensor:
        """CL1 outputs ``[blocks * n, heads * C]`` of inputs stacked in equal blocks, block k read by
        head k: ``[blocks * n, C]`` (multitask's shares, replay's old tasks)."""
        C = self.settings.classes_per_task
        per_head = outputs.view(blocks, -1, self.tnet.num_heads, C)
        return per_head[torch.arange(blocks), :, torch.arange(blocks)].reshape(-1, C)

    def train_labels(self, task: Task, task_id: int, idx: torch.Tensor) -> torch.Tensor:
        y = task.y_train[idx]
        return y + task_id * self.settings.classes_per_task if self.settings.scenario == 3 else y

    def logits(self, x, task_id):
        y = self.tnet(x, self.W)
        if self.settings.scenario == 3:
            C = self.settings.classes_per_task
            return y[..., task_id * C : (task_id + 1) * C]
        return self.tnet.select_head(y, task_id) if self.settings.scenario == 1 else y

    def predict(self, x, num_seen):
        return self.active_logits(x, num_seen - 1).argmax(-1)

    # -- the recipe -------------------------------------------------------------------
    def penalty(self, task_id: int) -> torch.Tensor | None:
        """What protects the old tasks, added to the task loss (None: nothing)."""
        return None

    def after_step(self, grad: torch.Tensor) -> None:
        """Called after every optimizer step with the gradient that step used."""

    def batch_loss(self, tasks: list[Task], task_id: int, idx: torch.Tensor) -> torch.Tensor:
        task = tasks[task_id]
        return F.cross_entropy(self.active_logits(task.x_train[idx], task_id), self.train_labels(task, task_id, idx))

    def learn_task(self, task_id, tasks, generator, progress=None):
        batches = self.batches(tasks, task_id, generator)
        losses = []
        for it in range(self.config.iters):
            loss = self.batch_loss(tasks, task_id, batches[it])
            penalty = self.penalty(task_id)
            self.optimizer.zero_grad(set_to_none=True)
            (loss if penalty is None else loss + penalty).backward()
            grad = self.W.grad.detach().clone() if self.wants_grad else None
            self.optimizer.step()
            self.after_step(grad)
            record_step(losses, loss, it, task_id, progress)
        finish_progress(progress, self.config.iters)
        return losses

    #: Whether ``after_step`` needs the step's gradient (SI does).
    wants_grad = False

    def batches(self, tasks: list[Task], task_id: int, generator) -> torch.Tensor:
        """Training-example indices ``[iters, batch]`` of the task (``Settings.sampling``)."""
        task = tasks[task_id]
        return batch_indices(len(task.x_train), self.config, generator).to(task.x_train.device)

    def modules(self):
        return {"weights": self.weights}

    def stateful(self):
        return {**super().stateful(), "optimizer": self.optimizer}
