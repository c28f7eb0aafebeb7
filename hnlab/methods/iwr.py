"""HNET IWR: HNET whose output regularizer weights every generated weight by the old task's Fisher.

Chandra et al. 2023 (Eq. 3-4; ``hnlab.regularizers.iwr``): when task t ends, the diagonal empirical
Fisher of task t's generated main-network weights is taken on its training data with the true labels;
later tasks pay ``beta / (T-1) sum_t sum_i F_t,i (Theta_t,i - Theta*_t,i)^2`` with the look-ahead,
through one batched hypernetwork call per step (the Gram route cannot weight per weight).
``IWR`` is a mixin: ``lstm_hnet_iwr`` (``hnlab.methods.lstm``) is the same recipe on LSTM_NET.
Introduced in notebooks/05_lstm_hypernetworks.ipynb.

Own setting ``fisher_norm`` (default 1): 1 divides each task's Fisher by its mean, so that beta keeps
the scale of HNET's regularizer (the paper states neither beta nor a normalisation, and Eq. 4's Fisher
is small: the squared gradients of a loss near zero; lesson 05 shows its scale); 0 uses Eq. 4 as
written (sweep beta then).
"""

from __future__ import annotations

import torch

from ..regularizers import IWRPenalty, generated_fisher
from ..train import head_of, train_task
from .hnet import HNet

IWR_DEFAULTS = {"fisher_norm": 1.0}


class IWR:
    """The IWR recipe on top of an HNET-like method (``self.hnet``, ``self.tnet``, ``self.config``)."""

    @property
    def iwr(self) -> IWRPenalty:
        if not hasattr(self, "_iwr"):
            self._iwr = IWRPenalty(normalize=bool(self.settings.hparams.get("fisher_norm", 1.0)))
        return self._iwr

    def learn_task(self, task_id, tasks, generator, progress=None):
        return train_task(self.hnet, self.tnet, tasks, task_id, self.config, generator, progress, self.iwr.make)

    def end_task(self, task_id, tasks):
        task = tasks[task_id]
        with torch.no_grad():
            W = self.hnet([task_id]).squeeze(0)
        fisher = generated_fisher(self.tnet, W, task.x_train, task.y_train, head_of(self.tnet, task_id))
        self.iwr.add(task_id, fisher, W)

    def stateful(self):
        return {**super().stateful(), "iwr": self.iwr}


class HNetIWR(IWR, HNet):
    name = "hnet_iwr"
    title = "chunked hypernetwork + Fisher-weighted output regularizer (IWR, Chandra et al.)"
    hparam_names = ("fisher_norm",)

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return dict(IWR_DEFAULTS)
