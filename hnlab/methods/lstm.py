"""LSTM_NET, LSTM_NET IWR and GROW (Chandra et al. 2023) as registered methods.

- ``lstm_hnet``: HNET's recipe (``hnlab.train.train_task``: the output regularizer with look-ahead
  through the head's Gram matrices, a fresh Adam per task, HNET+ENT without a task id) with the
  chunked hypernetwork replaced by ``hnlab.hnets.LSTMHNet``.
- ``lstm_hnet_iwr``: the same with the Fisher-weighted regularizer (``hnlab.methods.iwr``).
- ``lstm_grow``: ``hnlab.hnets.GrowLSTMHNet``; task 1 trains everything, later tasks only their own
  input weights, output layer and embedding (copied from the previous task's); task loss only.
  CL2/CL3 by entropy task inference like HNET.

Own settings (defaults from Chandra Sec. 4.2 and ../shared/papers/README.md): ``lstm_hidden`` 64,
``lstm_emb`` and ``lstm_chunk_emb`` 96 each, ``lstm_chunk`` the chunk size, 0 for the largest that
keeps the trainable parameters (theta and task embeddings) at or below those of the HNET built from
the same settings (SplitMNIST 6,022: 465,638 against 465,672; PermutedMNIST 30,094: 2,029,934
against 2,029,939). When no chunk fits (the small targets of smoke runs), HNET's chunk size is used.
The rest (Adam, lr, iterations, batch, beta, look-ahead) are the HNET rows'.
Introduced in notebooks/05_lstm_hypernetworks.ipynb.
"""

from __future__ import annotations

from ..hnets import ChunkedHMLP, GrowLSTMHNet, LSTMHNet
from ..hnets.lstm import largest_chunk
from ..train import batch_indices, head_of, optimize, task_loss
from .base import Method
from .hnet import HNet, make_tnet, train_config
from .iwr import IWR, IWR_DEFAULTS
from .settings import Settings

LSTM_DEFAULTS = {"lstm_hidden": 64.0, "lstm_emb": 96.0, "lstm_chunk_emb": 96.0, "lstm_chunk": 0.0}


def _int_setting(hparams: dict, name: str) -> int:
    value = hparams[name]
    if float(value) != int(value):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    return int(value)


def hnet_size(s: Settings, tnet) -> int:
    """Trainable parameters of the HNET of the same settings: theta and every task embedding."""
    h = ChunkedHMLP(tnet.param_shapes, s.num_tasks, s.chunk_size, s.emb_dim, s.chunk_emb_dim, s.hnet_hidden)
    return h.num_theta() + sum(e.numel() for e in h.task_emb)


def lstm_chunk_size(s: Settings, tnet) -> int:
    """``lstm_chunk``, or for 0 the largest chunk within HNET's parameter count (module docstring)."""
    hp = {**LSTM_DEFAULTS, **s.hparams}
    chunk = _int_setting(hp, "lstm_chunk")
    if chunk:
        return chunk
    dims = [_int_setting(hp, k) for k in ("lstm_emb", "lstm_chunk_emb", "lstm_hidden")]
    if min(dims) < 1:
        raise ValueError(f"lstm_emb, lstm_chunk_emb and lstm_hidden must be positive, got {dims}")
    found = largest_chunk(hnet_size(s, tnet), tnet.num_params, s.num_tasks, *dims)
    return found or min(s.chunk_size, tnet.num_params)


def make_lstm_hnet(s: Settings, tnet, grow: bool = False) -> LSTMHNet:
    """The LSTM hypernetwork (or GROW's) for settings ``s`` and target ``tnet``."""
    hp = {**LSTM_DEFAULTS, **s.hparams}
    cls = GrowLSTMHNet if grow else LSTMHNet
    return cls(
        tnet.param_shapes,
        s.num_tasks,
        lstm_chunk_size(s, tnet),
        emb_dim=_int_setting(hp, "lstm_emb"),
        chunk_emb_dim=_int_setting(hp, "lstm_chunk_emb"),
        hidden_size=_int_setting(hp, "lstm_hidden"),
        head_init="pytorch" if s.hnet_init == "pytorch" else "xavier_harmonic",
    )


class LSTMHNetMethod(HNet):
    name = "lstm_hnet"
    title = "LSTM hypernetwork (LSTM_NET) + output regularizer; HNET+ENT without a task id"
    hparam_names = tuple(LSTM_DEFAULTS)
    grow = False

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return dict(LSTM_DEFAULTS)

    def __init__(self, s: Settings, device="cpu"):
        Method.__init__(self, s, device)
        self.tnet = make_tnet(s)
        self.hnet = make_lstm_hnet(s, self.tnet, self.grow).to(self.device)
        self.config = train_config(s, self.beta)

    def parameter_counts(self) -> dict:
        """Trainable parameters of this generator and of the HNET it is compared with."""
        own = self.hnet.num_theta() + sum(e.numel() for e in self.hnet.task_emb)
        return {
            "chunk_size": self.hnet.chunk_size,
            "num_chunks": self.hnet.num_chunks,
            "trainable_params": own,
            "hnet_trainable_params": hnet_size(self.settings, self.tnet),
            "target_params": self.tnet.num_params,
        }

    def extra_scores(self, tasks):
        return {**super().extra_scores(tasks), **self.parameter_counts()}


class LSTMHNetIWR(IWR, LSTMHNetMethod):
    name = "lstm_hnet_iwr"
    title = "LSTM hypernetwork + Fisher-weighted output regularizer (LSTM_NET IWR)"
    hparam_names = (*LSTM_DEFAULTS, *IWR_DEFAULTS)

    @classmethod
    def default_hparams(cls, benchmark, scenario):
        return {**LSTM_DEFAULTS, **IWR_DEFAULTS}


class LSTMGrow(LSTMHNetMethod):
    name = "lstm_grow"
    title = "GROW: shared frozen LSTM, per-task input and output weights, no regularizer"
    grow = True
    beta = 0.0

    def learn_task(self, task_id, tasks, generator, progress=None):
        hnet, cfg, task = self.hnet, self.config, tasks[task_id]
        hnet.start_task(task_id)
        for p in hnet.theta:  # shared: learned on task 1, frozen afterwards
            p.requires_grad_(task_id == 0)
        batches = batch_indices(len(task.x_train), cfg, generator).to(task.x_train.device)
        head = head_of(self.tnet, task_id)

        def step_loss(it):
            x, y = task.x_train[batches[it]], task.y_train[batches[it]]
            return task_loss(task, self.tnet(x, hnet([task_id]).squeeze(0), head=head), y)

        return optimize(hnet.trainable_parameters(task_id), cfg, step_loss, task_id, progress)

    def parameter_counts(self):
        h = self.hnet
        return {
            **super().parameter_counts(),
            "trainable_params": h.size_after(h.num_tasks),
            "shared_params": h.shared_size(),
            "params_per_task": h.per_task_size(),
            "params_after_task": [h.size_after(t) for t in range(1, h.num_tasks + 1)],
        }
