"""Multitask training, the upper bound: when task t arrives, train on the data of tasks 1..t together.

The target network is trained directly with the heads of its scenario (``hnlab.methods.direct``).
Each step draws an equal share of the batch from every task seen so far, so a step costs what a
fine-tuning step costs and the last task's training sees all data jointly (van de Ven &
Tolias's "joint" bound). Introduced in notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

from dataclasses import replace

import torch
import torch.nn.functional as F

from ..train import batch_indices
from .direct import Direct


class Multitask(Direct):
    name = "multitask"
    title = "every task seen so far trained together (the upper bound; not continual learning)"

    def batches(self, tasks, task_id, generator):
        """Per seen task, indices ``[iters, share]``; the shares add up to the batch size (at least 1 each)."""
        share = max(1, self.config.batch_size // (task_id + 1))
        cfg = replace(self.config, batch_size=share)
        per_task = [batch_indices(len(t.x_train), cfg, generator) for t in tasks[: task_id + 1]]
        return torch.stack(per_task, dim=1).to(tasks[task_id].x_train.device)  # [iters, seen, share]

    def batch_loss(self, tasks, task_id, idx):
        """Cross-entropy over every seen task's equal share in ONE forward pass, each share through its own
        head (CL1), the shared head (CL2) or the classes seen so far with global labels (CL3)."""
        x = torch.cat([tasks[k].x_train[rows] for k, rows in enumerate(idx)])
        y = torch.cat([self.train_labels(tasks[k], k, rows) for k, rows in enumerate(idx)])
        outputs = self.tnet(x, self.W)
        if self.settings.scenario == 1:  # share k reads head k
            logits = self.blockwise_heads(outputs, len(idx))
        else:
            logits = self.active_outputs(outputs, task_id)
        return F.cross_entropy(logits, y)
