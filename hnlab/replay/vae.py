"""A VAE whose decoder weights come from a hypernetwork (von Oswald et al. 2020, Sec. 2.3, App. B).

The generator of hypernetwork-protected replay: the encoder has its own weights (shared by all
tasks, unprotected: only the decoder must remember); the decoder is a functional MLP target
``decoder([z; code_t], W)`` whose weights ``W [T, P]`` a chunked hypernetwork generates, so the
output regularizer (with look-ahead) protects every old task's decoder while a new task is
learned, with no replay of the replay model. Samples of any set of old tasks come from ONE
decoder call with ``W [T, P]``. Introduced in notebooks/07_replay.ipynb.

The loss, as the authors' code: binary cross-entropy averaged over pixels plus the KL divergence
summed over the latent and divided by the input size (a per-pixel scale),

    L = mean_b [ mean_d BCE(x_bd, sigmoid(decoder(z_b))_d) + KL(q(z|x_b) || N(0, I)) / D ].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..hnets import ChunkedHMLP, as_task_ids
from ..init import init_hypernet_
from ..targets import MLP
from ..train import train_generated


class Encoder(nn.Module):
    """``x [B, D] -> (mean, log-variance) [B, latent]``: an MLP with ReLU and its own weights."""

    def __init__(self, in_features: int, hidden: tuple[int, ...], latent_dim: int):
        super().__init__()
        sizes = (in_features, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Linear(sizes[-1], 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for layer in self.hidden:
            x = torch.relu(layer(x))
        return self.out(x).chunk(2, dim=-1)


class ReplayVAE(nn.Module):
    """Encoder with own weights + decoder generated per task by a chunked hypernetwork.

    ``decoder`` is an ``hnlab.targets.MLP`` from ``[z; one-hot task code]`` to pixel logits;
    ``hnet(task_ids) -> W [T, P]`` gives its weights (the one interface of every generator).
    """

    def __init__(
        self,
        in_features: int,
        num_tasks: int,
        enc_hidden: tuple[int, ...],
        dec_hidden: tuple[int, ...],
        latent_dim: int = 100,
        task_code_dim: int = 100,
        hnet_hidden: tuple[int, ...] = (10, 10),
        hnet_activation: str = "elu",
        chunk_size: int = 50_000,
        emb_dim: int = 96,
        chunk_emb_dim: int = 96,
        hnet_init: str = "xavier_harmonic",
    ):
        super().__init__()
        if task_code_dim < num_tasks:
            raise ValueError(f"task_code_dim ({task_code_dim}) must be at least num_tasks ({num_tasks})")
        self.in_features, self.latent_dim, self.task_code_dim = in_features, latent_dim, task_code_dim
        self.encoder = Encoder(in_features, tuple(enc_hidden), latent_dim)
        self.decoder = MLP(latent_dim + task_code_dim, tuple(dec_hidden), in_features, "relu")
        hnet = ChunkedHMLP(
            self.decoder.param_shapes, num_tasks, chunk_size, emb_dim, chunk_emb_dim, hnet_hidden, hnet_activation
        )
        self.hnet = hnet if hnet_init == "pytorch" else init_hypernet_(hnet, hnet_init, activation="relu")

    def decoder_inputs(self, z: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """``[z; code_t]`` for latents ``z [T, n, latent]`` of tasks ``task_ids [T]``."""
        code = F.one_hot(task_ids, self.task_code_dim).to(z.dtype)
        return torch.cat([z, code[:, None, :].expand(*z.shape[:2], -1)], dim=-1)

    def decode_logits(self, z: torch.Tensor, task_ids, W: torch.Tensor) -> torch.Tensor:
        """Pixel logits ``[T, n, D]`` of latents ``z [T, n, latent]``, task t's decoder ``W[t]``."""
        ids = as_task_ids(task_ids, self.hnet.num_tasks, z.device)
        return self.decoder(self.decoder_inputs(z, ids), W)

    def loss(self, x: torch.Tensor, task_id: int, W: torch.Tensor) -> torch.Tensor:
        """The VAE loss (module docstring) of a batch ``x [B, D]`` of task ``task_id`` with its
        decoder weights ``W [P]``."""
        mean, logvar = self.encoder(x)
        z = mean + torch.randn_like(mean) * (0.5 * logvar).exp()
        code = torch.zeros(len(z), self.task_code_dim, device=z.device)
        code[:, task_id] = 1
        logits = self.decoder(torch.cat([z, code], dim=-1), W)  # one network: the plain linear layers
        bce = F.binary_cross_entropy_with_logits(logits, x)
        kl = -0.5 * (1 + logvar - mean.pow(2) - logvar.exp()).sum(-1).mean()
        return bce + kl / self.in_features

    @torch.no_grad()
    def sample(self, task_ids, n: int, W: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` images ``[T, n, D]`` in [0, 1] of every task in ``task_ids``: the decoder's
        Bernoulli means for ``z ~ N(0, I)``, all tasks in one call (``W`` from ``self.hnet``
        unless given)."""
        ids = as_task_ids(task_ids, self.hnet.num_tasks, self.hnet.task_emb[0].device)
        W = self.hnet(ids) if W is None else W
        z = torch.randn(len(ids), n, self.latent_dim, device=W.device)
        return torch.sigmoid(self.decode_logits(z, ids, W))

    def config(self) -> dict:
        return {"decoder": self.decoder.config(), "hnet": self.hnet.config(), "latent_dim": self.latent_dim}


def train_vae_task(vae: ReplayVAE, task, task_id: int, cfg, generator=None, progress=None) -> list[float]:
    """Learn task ``task_id``'s images: the encoder and the hypernetwork's parameters for the task
    train on the VAE loss, the output regularizer with ``cfg.beta`` (and look-ahead) keeps the old
    tasks' decoders; the task loss every 10 steps (``hnlab.train.train_generated``)."""
    batch_loss = lambda W, idx: vae.loss(task.x_train[idx], task_id, W)
    return train_generated(
        vae.hnet, task_id, task, cfg, batch_loss, generator, progress, extra_params=tuple(vae.encoder.parameters())
    )
