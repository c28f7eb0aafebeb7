"""Hypernetwork-protected replay: HNET+R and HNET+TIR (von Oswald et al. 2020, Sec. 2.3, App. B, C).

A generator remembers the data; a hypernetwork remembers the generator. Both methods train a
VAE task by task whose decoder weights a chunked hypernetwork generates, protected by the output
regularizer (``hnlab.replay``), after the task's classifier work and not after the last task,
as the authors' code orders it.

- ``hnet_r`` (HNET+R): the classifier has its own weights (``Direct``'s network and heads per
  scenario; a fresh Adam per task). Each step: the real batch (cross-entropy) and about one
  batch of replayed images of the old tasks, with soft targets from the classifier as it was
  when the task began (distillation at temperature T, times T^2); half and half. CL3's softmax
  grows by the new task's classes; the old copy's logits for them are padded with 0, as the
  code does.
- ``hnet_tir`` (HNET+TIR): the ``hnet`` method's classifier, trained without replay; in CL2/CL3
  a task-inference network trained on real data of the task and replay of the old ones picks
  the task whose embedding and head answer. CL1 is plain HNET (nothing to infer).

Introduced in notebooks/07_replay.ipynb.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..infer import per_network_logits
from ..replay import VAE_BETA, TaskInferenceNet, make_vae, replay_batch, train_task_inference, train_vae_task
from ..replay.task_inference import task_confusion
from ..train import TrainConfig, make_optimizer
from .direct import Direct, direct_config
from .hnet import HNet
from .settings import Settings


def distillation(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    """Soft cross-entropy of the student's logits against the teacher's soft targets at
    ``temperature``, times ``temperature^2`` (Hinton et al. 2015; the gradient of the KL)."""
    soft = F.softmax(teacher / temperature, dim=-1)
    return -(soft * F.log_softmax(student / temperature, dim=-1)).sum(-1).mean() * temperature**2


def vae_config(s: Settings) -> TrainConfig:
    """The VAE's training: the benchmark's iterations, batch and learning rate; ``vae_beta``."""
    return TrainConfig(
        iters=s.iters,
        batch_size=s.batch_size,
        lr=s.lr,
        beta=s.hparams["vae_beta"],
        lookahead=s.lookahead,
        sampling=s.sampling,
    )


class ReplayMixin:
    """The replay model both methods share: made, trained after each task but the last, saved."""

    def make_replay(self, s: Settings) -> None:
        self.vae = make_vae(s.benchmark, s.method, s.in_features, s.num_tasks).to(self.device)
        self.vae_config = vae_config(s)
        self.vae_losses: list[list[float]] = []

    def learn_replay(self, task_id, tasks, generator, progress) -> None:
        if task_id < self.settings.num_tasks - 1:
            self.vae_losses.append(
                train_vae_task(self.vae, tasks[task_id], task_id, self.vae_config, generator, progress)
            )

    def vae_steps(self, task_id: int) -> int:
        return self.settings.iters if task_id < self.settings.num_tasks - 1 else 0


class HNetR(ReplayMixin, Direct):
    name = "hnet_r"
    title = "own classifier + distilled replay from a hypernetwork-protected VAE (HNET+R)"
    hparam_names = ("vae_beta", "temperature", "replay_weight")

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"vae_beta": VAE_BETA[benchmark], "temperature": 2.0, "replay_weight": 0.5}

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.make_replay(s)

    def steps(self, task_id):
        return self.settings.iters + self.vae_steps(task_id)

    def learn_task(self, task_id, tasks, generator, progress=None):
        self.optimizer = make_optimizer([self.W], self.config)  # a fresh Adam per task, as the code
        self.teacher = self.W.detach().clone()
        self.W_old = self.vae.hnet(list(range(task_id))).detach() if task_id else None
        losses = super().learn_task(task_id, tasks, generator, progress)
        self.learn_replay(task_id, tasks, generator, progress)
        return losses

    def batch_loss(self, tasks, task_id, idx):
        real = super().batch_loss(tasks, task_id, idx)
        if task_id == 0:
            return real
        replayed = replay_batch(self.vae, self.W_old, self.config.batch_size)
        x = replayed.flatten(0, 1)
        student = self.replay_logits(self.tnet(x, self.W), task_id, task_id + 1)
        with torch.no_grad():
            teacher = self.replay_logits(self.tnet(x, self.teacher), task_id, task_id)
        teacher = F.pad(teacher, (0, student.shape[-1] - teacher.shape[-1]))  # CL3: 0 for the new classes
        w = self.settings.hparams["replay_weight"]
        return (1 - w) * real + w * distillation(student, teacher, self.settings.hparams["temperature"])

    def replay_logits(self, outputs: torch.Tensor, num_old: int, num_classes_tasks: int) -> torch.Tensor:
        """Outputs on replay of ``num_old`` tasks (equal blocks): each block through its task's head
        (CL1), the shared head (CL2), or the classes of the first ``num_classes_tasks`` tasks (CL3)."""
        if self.settings.scenario == 1:
            return self.blockwise_heads(outputs, num_old)
        if self.settings.scenario == 2:
            return outputs
        return outputs[..., : self.settings.classes_per_task * num_classes_tasks]

    def modules(self):
        return {**super().modules(), "vae": self.vae}


class HNetTIR(ReplayMixin, HNet):
    name = "hnet_tir"
    title = "HNET classifier + a task-inference network trained on hypernetwork-protected replay (HNET+TIR)"
    hparam_names = ("vae_beta", "replay_weight")

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"vae_beta": VAE_BETA[benchmark], "replay_weight": 0.5}

    def __init__(self, s: Settings, device="cpu"):
        super().__init__(s, device)
        self.replays = s.scenario != 1  # CL1 gives the task: plain HNET
        if self.replays:
            self.make_replay(s)
            self.tir = TaskInferenceNet(s.in_features, s.target_hidden, s.num_tasks).to(self.device)
            self.tir_config = direct_config(s)

    def steps(self, task_id):
        if not self.replays:
            return self.settings.iters
        return self.settings.iters * (1 + (task_id > 0)) + self.vae_steps(task_id)

    def learn_task(self, task_id, tasks, generator, progress=None):
        losses = super().learn_task(task_id, tasks, generator, progress)
        if self.replays:
            weight = self.settings.hparams["replay_weight"]
            task = tasks[task_id]
            train_task_inference(self.tir, self.vae, task, task_id, self.tir_config, generator, progress, weight)
            self.learn_replay(task_id, tasks, generator, progress)
        return losses

    @torch.no_grad()
    def predict(self, x, num_seen):
        if not self.replays:
            return super().predict(x, num_seen)
        task_hat = self.tir.infer(x, num_seen)
        logits = per_network_logits(self.tnet, x, self.hnet(list(range(num_seen))))
        label_hat = logits[task_hat, torch.arange(len(x), device=x.device)].argmax(-1)
        if self.settings.scenario == 2:
            return label_hat
        return task_hat * self.settings.classes_per_task + label_hat

    @torch.no_grad()
    def extra_scores(self, tasks):
        """The task-inference network's accuracy and confusion per task, and entropy's on the same
        hypernetwork (``entropy_*``) to compare with."""
        scores = super().extra_scores(tasks)
        if not self.replays:
            return scores
        confusion = task_confusion(self.tir, tasks)
        return {
            "compression_ratio": scores["compression_ratio"],
            "cl1": scores["cl1"],
            "task_inference": [row[j] for j, row in enumerate(confusion)],
            "task_confusion": confusion,
            "entropy_task_inference": scores["task_inference"],
            "entropy_task_confusion": scores["task_confusion"],
            f"entropy_cl{self.settings.scenario}": scores[f"cl{self.settings.scenario}"],
        }

    def modules(self):
        return {**super().modules(), **({"vae": self.vae, "tir": self.tir} if self.replays else {})}
