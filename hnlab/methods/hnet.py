"""HNET: a chunked hypernetwork protected by the output regularizer (von Oswald et al. 2020).

The generator is ``ChunkedHMLP``; the recipe is ``hnlab.train.train_task`` (the task loss plus
beta times the output regularizer with look-ahead over every old task, from the head's Gram
matrices) with a fresh Adam per task, as the authors' scripts do. Without a task id it answers
by entropy (HNET+ENT, ``hnlab.infer``): every seen task's network looks at the input, the most
certain one answers. ``finetune_hnet`` is the same with beta 0. Introduced in
notebooks/03_benchmarks.ipynb.

Scenarios: CL1 and CL3 train a head per task (CL3 infers the task, and so the head); CL2 trains
one shared head and infers which task's network answers, as the authors' scripts do.
"""

from __future__ import annotations

import torch

from ..hnets import ChunkedHMLP
from ..infer import infer_from_logits, per_network_logits, scenario_accuracies
from ..init import init_hypernet_
from ..targets import MLP
from ..train import TrainConfig, head_of, train_task
from .base import Method
from .settings import Settings


def make_tnet(s: Settings) -> MLP:
    """The target MLP of HNET: a head per task for CL1/CL3, one shared head for CL2."""
    heads = 1 if s.scenario == 2 else s.num_tasks
    return MLP(s.in_features, s.target_hidden, s.classes_per_task, "relu", num_heads=heads)


def make_hnet(s: Settings, tnet: MLP) -> ChunkedHMLP:
    """The chunked hypernetwork, initialized by ``s.hnet_init`` (one of ``HNET_INITS``)."""
    hnet = ChunkedHMLP(
        tnet.param_shapes,
        s.num_tasks,
        s.chunk_size,
        s.emb_dim,
        s.chunk_emb_dim,
        s.hnet_hidden,
        s.hnet_activation,
    )
    return hnet if s.hnet_init == "pytorch" else init_hypernet_(hnet, s.hnet_init, activation="relu")


def train_config(s: Settings, beta: float | None = None) -> TrainConfig:
    return TrainConfig(
        iters=s.iters,
        batch_size=s.batch_size,
        lr=s.lr,
        beta=s.beta if beta is None else beta,
        lookahead=s.lookahead,
        sampling=s.sampling,
    )


class HNet(Method):
    name = "hnet"
    title = "chunked hypernetwork + output regularizer; HNET+ENT without a task id"

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.tnet = make_tnet(s)
        self.hnet = make_hnet(s, self.tnet).to(self.device)
        self.config = train_config(s, self.beta)

    beta = None  # None: the settings' beta

    def learn_task(self, task_id, tasks, generator, progress=None):
        return train_task(self.hnet, self.tnet, tasks, task_id, self.config, generator, progress)

    def logits(self, x, task_id):
        W = self.hnet([task_id]).squeeze(0)
        return self.tnet(x, W, head=head_of(self.tnet, task_id))

    def predict(self, x, num_seen):
        task_hat, label_hat = infer_from_logits(per_network_logits(self.tnet, x, self.hnet(list(range(num_seen)))))
        if self.settings.scenario == 2:
            return label_hat
        return task_hat * self.settings.classes_per_task + label_hat

    @torch.no_grad()
    def extra_scores(self, tasks):
        """CL1/CL2/CL3 and task inference read from this one run (``hnlab.infer.scenario_accuracies``)."""
        return {"compression_ratio": self.hnet.compression_ratio(), **scenario_accuracies(self.hnet, self.tnet, tasks)}

    def modules(self):
        return {"hnet": self.hnet}


class FinetuneHNet(HNet):
    name = "finetune_hnet"
    title = "the same hypernetwork without the regularizer (beta 0): forgetting through the generator"
    beta = 0.0
