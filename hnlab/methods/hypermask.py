"""HyperMask (Książek & Spurek 2023): a hypernetwork's semi-binary masks over shared target weights.

The generator is ``hnlab.hnets.MaskGenerator``: task t's network is ``theta * m_t`` with ``m_t``
cut from ``|tanh(hnet(e_t))|`` at the p-th percentile of each tensor. The recipe, as the authors'
code (gmum/HyperMask ``main.py``, ../shared/papers/README.md) does it, per step of task t:

    loss = CE(tnet(x, theta * m_t), y)
         + beta * reg / t                                  (t > 0; the output regularizer)
         + lam * sum |(theta - theta_start) * m_t|         (t > 0; the L1 term)

- ``reg`` is von Oswald's output regularizer on the hypernetwork's RAW outputs (before tanh and
  the mask), the mean over the old tasks of ``||hnet(e_i) - hnet*(e_i)||^2``, without a
  look-ahead, the old embeddings free to move (all of them are in the optimizer). hypnettorch's
  ``calc_fix_target_reg`` already averages over the t old tasks and ``main.py`` divides by t
  again: hnlab follows the code (``double_mean=1``, a weight of beta / t^2 on the sum);
  ``double_mean=0`` divides once, as the paper's formula reads.
- ``theta_start`` is theta when the task starts; ``l1_masked=1`` multiplies the change by the
  task's mask (the last tensor by its uncut ``|tanh(h)|``), as the best settings do.
- During the first task p ramps linearly from 0 to its value (``p (i + 1) / iters``).
- One Adam (lr 1e-3) per task over theta, the hypernetwork and the embeddings; 2000 (SplitMNIST)
  or 5000 (PermutedMNIST) iterations of 128; the last model is kept.

The target has ONE head of C units in every scenario, as the authors' (the masks tell the tasks
apart). Without a task id it answers like HNET+ENT: every seen task's masked network looks at
the input, the lowest-entropy one answers (CL2: its label; CL3: its task and label).

Of ``Settings`` HyperMask uses the tasks, iterations, batch size, sampling and target MLP; its
hypernetwork, beta and learning rate are its own (``hparams``, defaults in ``HYPERMASK``), not the
HNET fields (``beta``, ``lr``, ``hnet_hidden``, ``chunk_size``, ...) that the results' config also lists.

Where hnlab differs from the authors' runs: no SplitMNIST data augmentation (their
``augmentation=True``) and no held-out validation samples (they train on 1000 / 5000 fewer).
Introduced in notebooks/06_hypermask.ipynb.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from ..hnets.mask import MaskGenerator, check_sparsity
from ..infer import infer_from_logits, per_network_logits, scenario_accuracies
from ..regularizers.fast import FastOutputRegularizer
from ..targets import MLP
from ..train import TrainConfig, batch_indices, finish_progress, make_optimizer, record_step
from .base import Method
from .settings import Settings

#: The authors' best settings (gmum/HyperMask ``datasets.py``, ``set_hyperparameters``):
#: beta, lambda (``lam``), sparsity p in percent, embedding size, hypernet width x layers (ELU),
#: Adam's lr, the L1 term multiplied by the mask (1) or not (0), the regularizer divided by the
#: number of old tasks twice (1, the code) or once (0). hnlab's own: ``chunk`` > 0 generates the
#: mask in chunks of that size (von Oswald's chunked hypernetwork, chunk embeddings of ``chunk_emb``)
#: instead of the authors' full hypernetwork (0), and the regularizer takes the Gram route.
HYPERMASK = {
    "splitmnist": dict(
        beta=1e-3, lam=1e-3, sparsity=30.0, emb_dim=128.0, hnet_width=25.0, hnet_layers=2.0, lr=1e-3,
        l1_masked=1.0, double_mean=1.0, chunk=0.0, chunk_emb=8.0,
    ),
    "permutedmnist": dict(
        beta=5e-4, lam=1e-3, sparsity=0.0, emb_dim=24.0, hnet_width=100.0, hnet_layers=2.0, lr=1e-3,
        l1_masked=1.0, double_mean=1.0, chunk=0.0, chunk_emb=8.0,
    ),
}  # fmt: skip


def check_hparams(h: dict) -> None:
    """One clear error for a setting HyperMask cannot run with."""
    check_sparsity(h["sparsity"])
    for name in ("emb_dim", "hnet_width", "chunk_emb"):
        if h[name] < 1 or h[name] != int(h[name]):
            raise ValueError(f"hypermask {name} must be a positive whole number, got {h[name]!r}")
    for name in ("hnet_layers", "chunk"):
        if h[name] < 0 or h[name] != int(h[name]):
            raise ValueError(f"hypermask {name} must be a whole number >= 0, got {h[name]!r}")
    for name in ("l1_masked", "double_mean"):
        if h[name] not in (0, 1):
            raise ValueError(f"hypermask {name} is a switch, 0 or 1, got {h[name]!r}")
    for name in ("beta", "lam", "lr"):
        if h[name] < 0:
            raise ValueError(f"hypermask {name} must be non-negative, got {h[name]!r}")


def make_generator(s: Settings, tnet: MLP) -> MaskGenerator:
    h = s.hparams
    hidden = (int(h["hnet_width"]),) * int(h["hnet_layers"])
    return MaskGenerator(
        tnet.param_shapes,
        s.num_tasks,
        int(h["emb_dim"]),
        hidden,
        "elu",
        h["sparsity"],
        int(h["chunk"]),
        int(h["chunk_emb"]),
    )


def ramped_sparsity(p: float, task_id: int, it: int, iters: int) -> float:
    """p at step ``it`` of ``task_id``: a linear ramp ``p (it + 1) / iters`` on the first task."""
    return p * min(1.0, (it + 1) / iters) if task_id == 0 else p


def l1_change(theta: torch.Tensor, start: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """``sum |theta - start|``, or ``sum |(theta - start) * mask|`` (the authors' masked L1 term)."""
    diff = theta - start
    return (diff if mask is None else diff * mask).abs().sum()


class HyperMask(Method):
    name = "hypermask"
    title = "shared target weights times a hypernetwork's semi-binary mask per task; entropy without a task id"
    hparam_names = tuple(HYPERMASK["splitmnist"])

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return dict(HYPERMASK[benchmark])

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.hp = {**HYPERMASK[s.benchmark], **s.hparams}
        check_hparams(self.hp)
        self.tnet = MLP(s.in_features, s.target_hidden, s.classes_per_task, "relu")
        self.gen = make_generator(replace(s, hparams=self.hp), self.tnet).to(self.device)
        #: Mean |change| of theta per weight, per tensor, over each task (the L1 term at work).
        self.theta_change: list[list[float]] = []

    def learn_task(self, task_id, tasks, generator, progress=None):
        s, hp, gen, task = self.settings, self.hp, self.gen, tasks[task_id]
        cfg = TrainConfig(iters=s.iters, batch_size=s.batch_size, lr=hp["lr"], beta=0.0, sampling=s.sampling)
        params = [gen.theta, *gen.hnet.theta, *gen.hnet.task_emb]
        optimizer = make_optimizer(params, cfg)  # fused Adam where there is one
        ids = list(range(task_id + 1))
        old_penalty = self.old_task_penalty(ids[:-1]) if task_id > 0 else None
        start = gen.theta.detach().clone()
        batches = batch_indices(len(task.x_train), cfg, generator).to(task.x_train.device)
        scale = hp["beta"] / (task_id if hp["double_mean"] else 1) if task_id > 0 else 0.0
        losses = []
        for it in range(s.iters):
            idx = batches[it]
            h = gen.raw(ids[-1:] if gen.chunked else ids)  # the full route: old rows feed the penalty too
            mask = gen.masks(h[-1:], ramped_sparsity(gen.sparsity, task_id, it, s.iters))
            loss = F.cross_entropy(self.tnet(task.x_train[idx], gen.apply(mask)[0]), task.y_train[idx])
            total = loss
            if task_id > 0:
                reg = old_penalty(h[:-1])
                l1 = l1_change(gen.theta, start, mask[0] if hp["l1_masked"] else None)
                total = loss + scale * reg + hp["lam"] * l1
            optimizer.zero_grad(set_to_none=False)  # keeps the head's gradient buffer (MaskGenerator.raw)
            total.backward()
            optimizer.step()
            record_step(losses, loss, it, task_id, progress)
        finish_progress(progress, s.iters)
        change = (gen.theta.detach() - start).abs()
        self.theta_change.append([part.mean().item() for part in torch.split(change, gen.sizes)])
        return losses

    def old_task_penalty(self, old_ids):
        """``penalty(h_old)``: the mean over the old tasks of ``||h(e_i) - h*_i||^2`` on raw outputs.
        The full hypernetwork reads the old rows ``h_old`` of the step's one batched call; the
        chunked one takes the Gram route (``FastOutputRegularizer``, old embeddings live), whose
        cost does not grow with the number of old tasks."""
        if self.gen.chunked:
            fast = FastOutputRegularizer(self.gen.hnet, old_ids, live_embeddings=True)
            return lambda h_old: fast()
        targets = self.gen.raw(old_ids).detach()
        return lambda h_old: (h_old - targets).pow(2).sum(-1).mean()

    def logits(self, x, task_id):
        return self.tnet(x, self.gen([task_id])[0])

    def predict(self, x, num_seen):
        task_hat, label_hat = infer_from_logits(per_network_logits(self.tnet, x, self.gen(list(range(num_seen)))))
        if self.settings.scenario == 2:
            return label_hat
        return task_hat * self.settings.classes_per_task + label_hat

    @torch.no_grad()
    def extra_scores(self, tasks):
        """CL1/CL2/CL3 and task inference from this run, the kept share per task and tensor, the
        overlap of the first layer's masks between tasks and theta's change per task."""
        ids = list(range(len(tasks)))
        return {
            **scenario_accuracies(self.gen, self.tnet, tasks),
            "mask_tensors": list(self.tnet.param_names),
            "kept_fraction": self.gen.kept_fraction(ids).tolist(),
            "mask_overlap": self.gen.overlap(ids).tolist(),
            "theta_change": self.theta_change,
        }

    @torch.no_grad()
    def masks_by_tensor(self, task_ids=None) -> list[torch.Tensor]:
        """Each target tensor's masks ``[T, *shape]`` for ``task_ids`` (default: all tasks), at full p;
        the last (output biases) as ``|tanh(h)|``, though it multiplies nothing."""
        ids = list(range(self.settings.num_tasks)) if task_ids is None else task_ids
        masks = self.gen.masks(self.gen.raw(ids))
        return [
            m.reshape(len(ids), *shape)
            for m, shape in zip(torch.split(masks, self.gen.sizes, -1), self.gen.target_shapes)
        ]

    def modules(self):
        return {"gen": self.gen}

    def state_dict(self):
        return {**super().state_dict(), "theta_change": self.theta_change}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.theta_change = [list(row) for row in state["theta_change"]]
