"""Synaptic intelligence (Zenke et al. 2017) on the target MLP.

Every step adds ``-grad * step`` to each weight's running path integral; at a task's end the
importance grows by that integral over ``(change over the task)^2 + xi``, and later tasks pay
``c sum importance (W - W_prev)^2`` (``hnlab.regularizers.si``). Introduced in
notebooks/03_benchmarks.ipynb.

Hyperparameters: van de Ven & Tolias's ``param_values.py`` at commit f0b1461 (December 2019), the
values behind the rows of von Oswald et al.'s Table 1; xi = 0.1 in their code.
"""

from __future__ import annotations

from ..regularizers import SynapticIntelligence
from .direct import Direct

#: SI's c per (benchmark, scenario): van de Ven & Tolias, param_values.py @ f0b1461.
SI_C = {
    ("splitmnist", 1): 50.0,
    ("splitmnist", 2): 500.0,
    ("splitmnist", 3): 0.5,
    ("permutedmnist", 1): 5.0,
    ("permutedmnist", 2): 5.0,
    ("permutedmnist", 3): 0.1,
}


class SI(Direct):
    name = "si"
    title = "synaptic intelligence: importance from each weight's contribution along the training path"
    hparam_names = ("c", "xi")
    wants_grad = True

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"c": SI_C[benchmark, scenario], "xi": 0.1}

    def __init__(self, s, device="cpu"):
        super().__init__(s, device)
        self.si = SynapticIntelligence(self.W, s.hparams["c"], s.hparams["xi"])

    def penalty(self, task_id):
        return self.si.penalty(self.W) if task_id > 0 else None

    def after_step(self, grad):
        self.si.after_step(self.W, grad)

    def end_task(self, task_id, tasks):
        self.si.end_task(self.W)

    def stateful(self):
        return {**super().stateful(), "si": self.si}
