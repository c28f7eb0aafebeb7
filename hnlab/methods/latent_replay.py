"""Latent replay, the partial hypernetworks' baseline (Hemati et al. 2023; lesson 09).

The same cut at freeze depth k as ``partial_hnet`` (``hnlab.methods.partial.PartialMethod``): after
experience 1 the frozen part turns images into features, and a class-balanced buffer keeps features
of each finished experience (``ClassBalancedBuffer``: the capacity, 200 for split CIFAR-100, shared
equally by every class seen so far, so older classes give up stored features as new ones come).
Every step of experience t >= 2 replays a batch of stored features with the current batch through
ONE rest network (one head per experience, one set of batch-norm statistics):

    loss = CE(current batch) + replay_coef * CE(replayed features, each through its own task's head)

For k = 0 the features are the images themselves (plain replay). Own settings: ``freeze_depth``
(default 2), ``buffer_size`` (default 200), ``replay_coef`` (default 1, the paper's c = 1 in Fig. 7).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .conv import EVAL_SLICE
from .partial import FLOAT_BYTES, PartialMethod
from .settings import Settings


class ClassBalancedBuffer:
    """At most ``capacity`` stored features, ``capacity // classes seen`` per class (task, label)."""

    def __init__(self, capacity):
        if isinstance(capacity, bool) or capacity != int(capacity) or capacity < 1:
            raise ValueError(f"buffer_size must be an int >= 1 (stored features), got {capacity!r}")
        self.capacity = int(capacity)
        self.x = self.y = self.t = None

    def __len__(self) -> int:
        return 0 if self.y is None else len(self.y)

    def classes(self) -> torch.Tensor:
        """The classes stored, as rows ``(task, label)``."""
        return torch.empty(0, 2, dtype=torch.long) if self.y is None else torch.stack([self.t, self.y], 1).unique(dim=0)

    def quota(self, new_classes: int) -> int:
        q = self.capacity // (len(self.classes()) + new_classes)
        if q < 1:
            raise ValueError(
                f"buffer_size {self.capacity} is smaller than the classes seen; give at least one per class"
            )
        return q

    def choose(self, y: torch.Tensor, generator) -> torch.Tensor:
        """Indices of a random ``quota`` examples of each class of labels ``y`` (one new task)."""
        labels = y.unique()
        q = self.quota(len(labels))
        picks = []
        for c in labels.tolist():
            rows = (y == c).nonzero().squeeze(1)
            picks.append(rows[torch.randperm(len(rows), generator=generator)[:q].to(rows.device)])
        return torch.cat(picks)

    def add(self, x: torch.Tensor, y: torch.Tensor, task_id: int) -> None:
        """Store features ``x`` of task ``task_id`` (chosen by ``choose``); older classes keep ``quota``."""
        t = torch.full_like(y, task_id)
        if self.y is None:
            self.x, self.y, self.t = x, y, t
            return
        q = self.quota(len(y.unique()))
        keep = torch.cat([self._first(q, ti, yi) for ti, yi in self.classes().tolist()])
        self.x, self.y, self.t = (torch.cat([a[keep], b]) for a, b in ((self.x, x), (self.y, y), (self.t, t)))

    def _first(self, q: int, task: int, label: int) -> torch.Tensor:
        return ((self.t == task) & (self.y == label)).nonzero().squeeze(1)[:q]

    def sample(self, n: int, generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        idx = torch.randint(len(self), (n,), generator=generator).to(self.y.device)
        return self.x[idx], self.y[idx], self.t[idx]

    def counts(self) -> dict[tuple[int, int], int]:
        return {(t, y): int(((self.t == t) & (self.y == y)).sum()) for t, y in self.classes().tolist()}

    def state_dict(self) -> dict:
        return {"x": self.x, "y": self.y, "t": self.t}

    def load_state_dict(self, state: dict) -> None:
        self.x, self.y, self.t = state["x"], state["y"], state["t"]


class LatentReplay(PartialMethod):
    name = "latent_replay"
    title = "latent replay: first k stages frozen after experience 1, a class-balanced buffer of their features"
    hparam_names = ("freeze_depth", "buffer_size", "replay_coef")
    stats_per_task = False

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"freeze_depth": 2.0, "buffer_size": 200.0, "replay_coef": 1.0}

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.buffer = ClassBalancedBuffer(s.hparams.get("buffer_size", 200))
        self.replay_coef = s.hparams.get("replay_coef", 1.0)
        self.W_rest = nn.Parameter(self.W0_rest.clone())

    def rest_weights(self, task_id):
        return self.W_rest

    def rest_parameters(self, task_id):
        return [self.W_rest]

    def step(self, task_id, x, y, generator):
        h = self.split.features(x, self.frozen)
        heads = torch.full_like(y, task_id)
        n = len(y)
        if len(self.buffer):
            hb, yb, tb = self.buffer.sample(n, generator)
            h, y, heads = torch.cat([h, hb]), torch.cat([y, yb]), torch.cat([heads, tb])
        C = self.tnet.num_classes
        out = self.split.rest(h, self.W_rest, stats=0).view(len(y), -1, C)[torch.arange(len(y)), heads]
        loss = F.cross_entropy(out[:n], y[:n])
        total = loss if n == len(y) else loss + self.replay_coef * F.cross_entropy(out[n:], y[n:])
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        self.opt.step()
        return loss.detach()

    @torch.no_grad()
    def end_task(self, task_id, tasks):
        super().end_task(task_id, tasks)
        if task_id == len(tasks) - 1:
            return  # nothing left to replay for
        task = tasks[task_id]
        idx = self.buffer.choose(task.y_train, torch.Generator().manual_seed(task_id))
        feats = torch.cat(
            [
                self.split.features(task.x_train[idx[i : i + EVAL_SLICE]], self.frozen)
                for i in range(0, len(idx), EVAL_SLICE)
            ]
        )
        self.buffer.add(feats, task.y_train[idx], task_id)

    def memory(self):
        """The full buffer's size (the paper's Table 6), and how many features it holds now."""
        floats = self.buffer.capacity * math.prod(self.split.feature_shape())
        return {"buffer_items": len(self.buffer), "memory_mb": floats * FLOAT_BYTES / 2**20}

    def stateful(self):
        return {**super().stateful(), "buffer": self.buffer}

    def modules(self):
        return {**super().modules(), "weights": nn.ParameterList([self.W_rest])}
