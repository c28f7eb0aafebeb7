"""EWC (Kirkpatrick et al. 2017) and online EWC (Schwarz et al. 2018) on the target MLP.

After each task the diagonal Fisher of the task's training set is taken at the learned weights
(``hnlab.regularizers.ewc.mlp_fisher``: the per-sample gradients' squares summed in closed form,
equal to ``diagonal_fisher``'s torch.func route, over the classes active in the scenario); later
tasks pay ``lambda / 2 sum F (W - W*)^2``, one term per old task (EWC) or one running term with
decay gamma (online EWC). Introduced in notebooks/03_benchmarks.ipynb.

Hyperparameters: van de Ven & Tolias's ``param_values.py`` at commit f0b1461 (December 2019), the
values behind the rows of von Oswald et al.'s Table 1 (../shared/papers/README.md).
"""

from __future__ import annotations

from ..regularizers import EWCPenalty, mlp_fisher
from .direct import Direct

#: EWC lambda per (benchmark, scenario): van de Ven & Tolias, param_values.py @ f0b1461.
EWC_LAMBDA = {
    ("splitmnist", 1): 1e7,
    ("splitmnist", 2): 1e6,
    ("splitmnist", 3): 1e8,
    ("permutedmnist", 1): 500.0,
    ("permutedmnist", 2): 500.0,
    ("permutedmnist", 3): 1.0,
}
#: Online EWC (lambda, gamma) per (benchmark, scenario), the same source.
ONLINE_EWC = {
    ("splitmnist", 1): (1e8, 0.8),
    ("splitmnist", 2): (1e8, 0.7),
    ("splitmnist", 3): (1e9, 0.8),
    ("permutedmnist", 1): (500.0, 0.8),
    ("permutedmnist", 2): (1000.0, 0.9),
    ("permutedmnist", 3): (5.0, 1.0),
}


class EWC(Direct):
    name = "ewc"
    title = "elastic weight consolidation: a Fisher-weighted pull towards every old task's weights"
    hparam_names = ("lam",)

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {"lam": EWC_LAMBDA[benchmark, scenario]}

    def __init__(self, s, device="cpu"):
        super().__init__(s, device)
        self.ewc = self.make_penalty(s.hparams)

    def make_penalty(self, hparams: dict) -> EWCPenalty:
        return EWCPenalty(hparams["lam"])

    def penalty(self, task_id):
        return self.ewc(self.W) if self.ewc.num_terms else None

    def end_task(self, task_id, tasks):
        W = self.W.detach()
        fisher = mlp_fisher(self.tnet, W, tasks[task_id].x_train, lambda y: self.active_outputs(y, task_id))
        self.ewc.consolidate(W.clone(), fisher)

    def stateful(self):
        return {**super().stateful(), "ewc": self.ewc}


class OnlineEWC(EWC):
    name = "online_ewc"
    title = "online EWC: one running Fisher, older tasks decayed by gamma"
    hparam_names = ("lam", "gamma")

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        lam, gamma = ONLINE_EWC[benchmark, scenario]
        return {"lam": lam, "gamma": gamma}

    def make_penalty(self, hparams):
        return EWCPenalty(hparams["lam"], online=True, gamma=hparams["gamma"])
