"""Methods on the benchmarks at CIFAR's shape with ResNet targets (notebooks/08_conv_targets.ipynb).

The same two parts as every method: a weight generator and a recipe. What the ResNet benchmarks add
to the recipe is shared here (``ConvMethod``): each batch is augmented on the device (random crop with
padding 4; horizontal flips for CIFAR), a task's steps follow ``Settings.epochs``, the target keeps
batch-norm statistics per task, and test sets are scored in slices. Task-incremental (CL1) only, one
head of ``classes_per_task`` outputs per task, as von Oswald et al. (Fig. 5).

- ``hnet`` (``ConvHNet``): the chunked hypernetwork generates every weight of the ResNet, batch-norm
  scales and shifts included; the output regularizer (with look-ahead) protects old tasks; task t is
  evaluated with the statistics checkpointed after task t (von Oswald App. C, option 3).
- ``finetune_target`` (``ConvFinetune``): one ResNet trained directly through the sequence, one Adam,
  its batch-norm statistics updated continually (no checkpointing), as in their Fig. 5.
- ``from_scratch`` (``FromScratch``): a fresh ResNet per task: the reference for forward transfer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..data.images import augment
from ..targets import RESNETS, ResNet
from ..targets.resnet_nn import default_weights
from ..train import TrainConfig, batch_indices, finish_progress, make_optimizer, old_task_penalty, record_step
from .base import Method
from .hnet import make_hnet
from .settings import Settings

#: Test images scored per call.
EVAL_SLICE = 500


def make_resnet(s: Settings) -> ResNet:
    """The benchmark's ResNet: a head of ``classes_per_task`` per task, statistics per task."""
    return RESNETS[s.target](s.classes_per_task, num_heads=s.num_tasks, num_stats=s.num_tasks)


class ConvMethod(Method):
    """What every method on a ResNet benchmark shares (see the module docstring)."""

    scenarios = (1,)
    #: Batch-norm statistics per task (False: one set, updated continually).
    stats_per_task = True

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.tnet = make_resnet(s).to(self.device)
        self.flip = s.benchmark != "fashion_mnist32"  # digits and letters are not mirror images

    def steps_for(self, n: int) -> int:
        """Steps of a task of ``n`` training images: ``epochs`` passes, else ``iters``."""
        s = self.settings
        return -(-s.epochs * n // s.batch_size) if s.epochs else s.iters

    def steps(self, task_id: int) -> int:
        return self.settings.iters

    def stats_of(self, task_id: int) -> int:
        return task_id if self.stats_per_task else 0

    def config(self, iters: int, beta: float = 0.0) -> TrainConfig:
        s = self.settings
        return TrainConfig(iters=iters, batch_size=s.batch_size, lr=s.lr, beta=beta, lookahead=s.lookahead)

    # -- the recipe -------------------------------------------------------------------
    def weights(self, task_id: int) -> torch.Tensor:
        """The flat weights ``[P]`` task ``task_id`` trains and answers with."""
        raise NotImplementedError

    def optimizer(self, task_id: int, cfg: TrainConfig) -> torch.optim.Optimizer:
        raise NotImplementedError

    def penalty(self, task_id: int, cfg: TrainConfig, generator):
        """``penalty(it, optimizer)`` protecting old tasks, or None."""
        return None

    def learn_task(self, task_id, tasks, generator, progress=None):
        task = tasks[task_id]
        cfg = self.config(self.steps_for(len(task.x_train)), getattr(self, "beta", 0.0))
        optimizer, penalty = self.optimizer(task_id, cfg), self.penalty(task_id, cfg, generator)
        batches = batch_indices(len(task.x_train), TrainConfig(cfg.iters, cfg.batch_size, sampling="epochs"), generator)
        losses = []
        for it in range(cfg.iters):
            idx = batches[it].to(task.y_train.device)
            x = augment(task.x_train[idx], generator, flip=self.flip)
            out = self.tnet(x, self.weights(task_id), head=task_id, stats=self.stats_of(task_id))
            loss = F.cross_entropy(out, task.y_train[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if penalty is not None:
                (cfg.beta * penalty(it, optimizer if cfg.lookahead else None)).backward()
            optimizer.step()
            record_step(losses, loss, it, task_id, progress)
        finish_progress(progress, cfg.iters)
        return losses

    @torch.no_grad()
    def logits(self, x, task_id, stats: int | None = None):
        """Task ``task_id``'s logits, scored in slices; ``stats`` picks other batch-norm statistics."""
        W = self.weights(task_id)
        stats = self.stats_of(task_id) if stats is None else stats
        return torch.cat(
            [self.tnet(x[i : i + EVAL_SLICE], W, head=task_id, stats=stats) for i in range(0, len(x), EVAL_SLICE)]
        )

    def predict(self, x, num_seen):
        raise NotImplementedError("the ResNet benchmarks are task-incremental (CL1): give the task id")

    @torch.no_grad()
    def extra_scores(self, tasks):
        """Accuracy per task with task 1's batch-norm statistics, and the first layer's statistics per task."""
        self.train(False)
        first = [
            100 * float((self.logits(t.x_test, i, stats=0).argmax(-1) == t.y_test).float().mean())
            for i, t in enumerate(tasks)
        ]
        a, b = self.tnet.stats.offsets["stem.bn"]
        return {
            "acc_task1_stats": first,
            "bn_stem_mean": self.tnet.stats.running_mean[:, a:b].tolist(),
            "bn_stem_var": self.tnet.stats.running_var[:, a:b].tolist(),
            "target_params": self.tnet.num_params,
        }

    def modules(self):
        return {"tnet": self.tnet}


class ConvHNet(ConvMethod):
    name = "hnet"
    title = "chunked hypernetwork generating a ResNet (batch-norm statistics per task) + output regularizer"

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.hnet = make_hnet(s, self.tnet).to(self.device)
        self.beta = s.beta

    def weights(self, task_id):
        return self.hnet(task_emb=self.hnet.task_emb[task_id].unsqueeze(0)).squeeze(0)

    def optimizer(self, task_id, cfg):
        return make_optimizer(self.hnet.trainable_parameters(task_id), cfg)

    def penalty(self, task_id, cfg, generator):
        return old_task_penalty(self.hnet, task_id, cfg, generator)

    def extra_scores(self, tasks):
        return {**super().extra_scores(tasks), "compression_ratio": self.hnet.compression_ratio()}

    def modules(self):
        return {"hnet": self.hnet, "tnet": self.tnet}


class ConvFinetune(ConvMethod):
    name = "finetune_target"
    title = "the ResNet trained directly on each task in turn (forgets)"
    stats_per_task = False

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.W = nn.Parameter(default_weights(self.tnet).to(self.device))
        self._optimizer = make_optimizer([self.W], self.config(1))

    def weights(self, task_id):
        return self.W

    def optimizer(self, task_id, cfg):
        return self._optimizer  # one Adam through the sequence, as van de Ven & Tolias

    def modules(self):
        return {"tnet": self.tnet, "weights": nn.ParameterList([self.W])}

    def stateful(self):
        return {**super().stateful(), "optimizer": self._optimizer}


class FromScratch(ConvMethod):
    name = "from_scratch"
    title = "a fresh ResNet per task (no transfer, no forgetting): the forward-transfer reference"

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.Ws = nn.ParameterList(nn.Parameter(default_weights(self.tnet)) for _ in range(s.num_tasks)).to(self.device)

    def weights(self, task_id):
        return self.Ws[task_id]

    def optimizer(self, task_id, cfg):
        return make_optimizer([self.Ws[task_id]], cfg)

    def modules(self):
        return {"tnet": self.tnet, "weights": self.Ws}


CONV_METHODS: dict[str, type[ConvMethod]] = {cls.name: cls for cls in (ConvHNet, ConvFinetune, FromScratch)}
