"""Partial hypernetworks (Hemati et al. 2023): freeze the first layers, generate the rest (lesson 09).

Both methods of the paper share one recipe for the first experience and one split of the network
(``PartialMethod``): the slim ResNet-18 is cut at freeze depth k (``hnlab.targets.partial``); during
experience 1 the frozen part (stem + first k stages, trained directly) and the rest learn together;
after it the frozen part never changes again (no optimizer holds it, its features are computed
without gradients in evaluation mode with experience 1's batch-norm statistics, re-estimated with the
final weights at the end of experience 1: ``recalibrate``).

- ``partial_hnet`` (``PartialHNetMethod``): the rest is generated per task by the channel-wise
  hypernetwork (``hnlab.hnets.partial``); from experience 2 on every step applies the look-ahead
  gradient of Alg. 1 (``hnlab.regularizers.virtual``: first order by default, ``second_order=1``
  for the second-order one) with the output regularizer over up to ``reg_tasks`` = 20 sampled old
  tasks, weighted by ``Settings.beta`` = c = 0.5. Batch-norm statistics of the rest are kept per task.
- ``latent_replay``: ``hnlab.methods.latent_replay``.

Own settings (``Settings.hparams``): ``freeze_depth`` k in 0..4 (default 2), ``reg_tasks``,
``second_order`` (0 or 1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data.images import augment
from ..data.streams_partial import FLIP_STREAMS, PARTIAL_STREAMS
from ..hnets.partial import PartialHNet
from ..regularizers.virtual import lookahead_grads, regularizer_at
from ..targets.partial import SplitResNet, check_freeze_depth
from ..targets.resnet_nn import default_weights
from ..train import TrainConfig, batch_indices, finish_progress, make_optimizer, record_step
from .conv import EVAL_SLICE, ConvMethod
from .settings import Settings

#: Bytes per stored float (the paper's Table 6 counts 32-bit tensors).
FLOAT_BYTES = 4
#: Training images (and per pass) that re-estimate an experience's batch-norm statistics at its end.
RECAL_IMAGES, RECAL_BATCH = 2048, 256


class PartialMethod(ConvMethod):
    """A ResNet cut at freeze depth k whose first part is trained on experience 1, then frozen."""

    hparam_names = ("freeze_depth",)

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.flip = s.benchmark in FLIP_STREAMS if s.benchmark in PARTIAL_STREAMS else self.flip
        self.k = check_freeze_depth(s.hparams.get("freeze_depth", 2), len(self.tnet.widths))
        self.split = SplitResNet(self.tnet, self.k)
        W0 = default_weights(self.tnet).to(self.device)
        self.frozen = nn.Parameter(W0[: self.split.num_frozen].clone())
        self.W0_rest = W0[self.split.num_frozen :]

    # -- the part each method fills in ----------------------------------------------------------
    def rest_weights(self, task_id: int) -> torch.Tensor:
        """``W_rest [P_r]`` task ``task_id`` answers with."""
        raise NotImplementedError

    def rest_parameters(self, task_id: int) -> list[nn.Parameter]:
        """What the optimizer trains during task ``task_id`` (besides the frozen part in experience 1)."""
        raise NotImplementedError

    def step(self, task_id: int, x: torch.Tensor, y: torch.Tensor, generator) -> torch.Tensor:
        """One step of experience ``task_id >= 1`` (features of the frozen part are given): the task loss."""
        raise NotImplementedError

    def begin_task(self, task_id: int) -> None:
        """What a method prepares before experience ``task_id`` (regularizer targets, say)."""

    # -- the shared recipe ----------------------------------------------------------------------
    def weights(self, task_id):
        return self.split.full(self.frozen, self.rest_weights(task_id))

    def learn_task(self, task_id, tasks, generator, progress=None):
        task = tasks[task_id]
        cfg = self.config(self.steps_for(len(task.x_train)))
        first = [self.frozen] if task_id == 0 and self.frozen.numel() else []
        self.opt = make_optimizer(first + self.rest_parameters(task_id), cfg)
        self.begin_task(task_id)
        batches = batch_indices(len(task.x_train), TrainConfig(cfg.iters, cfg.batch_size, sampling="epochs"), generator)
        losses = []
        for it in range(cfg.iters):
            idx = batches[it].to(task.y_train.device)
            x, y = augment(task.x_train[idx], generator, flip=self.flip), task.y_train[idx]
            loss = self.first_step(x, y) if task_id == 0 else self.step(task_id, x, y, generator)
            record_step(losses, loss, it, task_id, progress)
        finish_progress(progress, cfg.iters)
        return losses

    def first_step(self, x, y) -> torch.Tensor:
        """Experience 1: the whole network (frozen part included) learns from the task loss."""
        loss = F.cross_entropy(self.tnet(x, self.weights(0), head=0, stats=0), y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss

    def end_task(self, task_id, tasks):
        if task_id == 0 or self.stats_per_task:
            self.recalibrate(task_id, tasks[task_id])
        if task_id == 0:
            self.frozen.requires_grad_(False)

    @torch.no_grad()
    def recalibrate(self, task_id: int, task) -> None:
        """Re-estimate task ``task_id``'s batch-norm statistics with its final weights: the average of the
        batch statistics of up to ``RECAL_IMAGES`` training images (PyTorch's ``momentum=None``).

        After a short experience the running averages still remember the first steps' weights (30 steps
        of experience 1: 52 % test accuracy with them, 96 % with batch statistics); the frozen part
        would keep that lag for good. The paper trains to convergence, where both agree."""
        stats, was_training, momentum = self.tnet.stats, self.tnet.training, self.tnet.stats.momentum
        self.tnet.train(True)
        W = self.rest_weights(task_id).detach()
        for i, a in enumerate(range(0, min(len(task.x_train), RECAL_IMAGES), RECAL_BATCH)):
            stats.momentum = 1 / (i + 1)
            x = task.x_train[a : a + RECAL_BATCH]
            if task_id == 0:
                self.tnet(x, self.split.full(self.frozen.detach(), W), head=0, stats=0)
            else:
                self.split.rest(self.split.features(x, self.frozen), W, self.stats_of(task_id), head=task_id)
        stats.momentum = momentum
        self.tnet.train(was_training)

    @torch.no_grad()
    def logits(self, x, task_id, stats: int | None = None):
        W = self.rest_weights(task_id)
        stats = self.stats_of(task_id) if stats is None else stats
        return torch.cat(
            [
                self.split.rest(self.split.features(x[i : i + EVAL_SLICE], self.frozen), W, stats, head=task_id)
                for i in range(0, len(x), EVAL_SLICE)
            ]
        )

    def memory(self) -> dict:
        """What the method keeps besides the network (the paper's Table 6), in floats."""
        return {}

    def extra_scores(self, tasks):
        return {
            **super().extra_scores(tasks),
            "freeze_depth": self.k,
            "frozen_params": self.split.num_frozen,
            "generated_params": self.split.num_rest,
            "feature_shape": list(self.split.feature_shape()),
            **self.memory(),
        }

    def modules(self):
        return {"tnet": self.tnet, "frozen": nn.ParameterList([self.frozen])}


class PartialHNetMethod(PartialMethod):
    name = "partial_hnet"
    title = "partial hypernetwork: first k stages frozen after experience 1, the rest generated per task"
    hparam_names = ("freeze_depth", "reg_tasks", "second_order")

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"freeze_depth": 2.0, "reg_tasks": 20.0, "second_order": 0.0}

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        reg_tasks, second = s.hparams.get("reg_tasks", 20), s.hparams.get("second_order", 0)
        if reg_tasks < 1 or reg_tasks != int(reg_tasks) or second not in (0, 1):
            raise ValueError(f"reg_tasks must be an int >= 1 and second_order 0 or 1, got {reg_tasks!r}, {second!r}")
        self.reg_tasks, self.second_order = int(reg_tasks), bool(second)
        hnet = PartialHNet(self.split.rest_names, self.split.rest_shapes, s.num_tasks, s.emb_dim, s.hnet_hidden)
        self.hnet = hnet.to(self.device)
        self.cosines: list[list[float]] = [[] for _ in range(s.num_tasks)]

    def rest_weights(self, task_id):
        return self.hnet(task_id).squeeze(0)

    def rest_parameters(self, task_id):
        return self.hnet.trainable_parameters(task_id)

    def begin_task(self, task_id):
        self.targets = None if task_id == 0 else self.hnet(list(range(task_id))).detach()

    def step(self, task_id, x, y, generator):
        h = self.split.features(x, self.frozen)
        loss = F.cross_entropy(self.split.rest(h, self.rest_weights(task_id), task_id, head=task_id), y)
        shared, own = self.hnet.shared_parameters(), [self.hnet.task_emb[task_id], self.hnet.tables[task_id]]
        s = self.settings
        if s.beta == 0:
            grads_shared = torch.autograd.grad(loss, shared, retain_graph=True)
            grads_own = torch.autograd.grad(loss, own)
        else:
            ids = torch.randperm(task_id, generator=generator)[: self.reg_tasks].to(self.device)
            targets = self.targets[ids]
            reg = lambda values: regularizer_at(self.hnet, shared, values, targets, ids)
            grads_shared, grads_own, cosine = lookahead_grads(
                loss, shared, own, reg, s.lr, s.beta, self.second_order, s.lookahead
            )
            self.cosines[task_id].append(cosine)
        for p, g in zip([*shared, *own], [*grads_shared, *grads_own]):
            p.grad = g
        self.opt.step()
        return loss.detach()

    def memory(self):
        total = sum(p.numel() for p in self.hnet.parameters())
        return {
            "hnet_params": total,
            "memory_mb": total * FLOAT_BYTES / 2**20,
            "compression_ratio": total / self.split.num_rest,
            "grad_cosine": self.cosines,
        }

    def modules(self):
        return {**super().modules(), "hnet": self.hnet}
