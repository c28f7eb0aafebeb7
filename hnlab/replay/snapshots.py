"""What a replay model remembers, task after task: the samples of every learned task after each
task, from fixed latent points, so a change in a picture is a change of the decoder alone
(notebooks/07_replay.ipynb)."""

from __future__ import annotations

import torch

from ..data import Task
from ..train import TrainConfig
from .vae import ReplayVAE, train_vae_task


@torch.no_grad()
def decode_fixed(vae: ReplayVAE, z: torch.Tensor) -> torch.Tensor:
    """Images ``[T, n, D]`` of the first ``T`` tasks from latents ``z [T, n, latent]``, one call."""
    ids = list(range(len(z)))
    return torch.sigmoid(vae.decode_logits(z, ids, vae.hnet(ids)))


def learn_and_sample(
    vae: ReplayVAE, tasks: list[Task], cfg: TrainConfig, samples: int = 8, seed: int = 0, progress=None
) -> torch.Tensor:
    """Train ``vae`` through ``tasks`` (``cfg.beta`` protects the old decoders; 0: fine-tuning) and
    after each task decode every learned task from the same latent points: ``[after, task, n, D]``
    on the CPU, NaN for tasks not learned yet."""
    generator = torch.Generator().manual_seed(seed)
    device = vae.hnet.task_emb[0].device
    z = torch.randn(len(tasks), samples, vae.latent_dim, generator=generator).to(device)
    out = torch.full((len(tasks), len(tasks), samples, vae.in_features), float("nan"))
    for t, task in enumerate(tasks):
        train_vae_task(vae, task, t, cfg, generator, progress)
        out[t, : t + 1] = decode_fixed(vae, z[: t + 1]).cpu()
    return out


@torch.no_grad()
def latent_traversal(vae: ReplayVAE, task_id: int, steps: int = 7, span: float = 2.5, dims=(0, 1)) -> torch.Tensor:
    """Task ``task_id``'s images ``[steps, steps, D]`` over a grid of two latent directions ``dims``
    (from -span to span; every other latent coordinate 0), one decoder call."""
    values = torch.linspace(-span, span, steps)
    device = vae.hnet.task_emb[0].device
    z = torch.zeros(steps, steps, vae.latent_dim)
    z[..., dims[0]] = values[:, None]
    z[..., dims[1]] = values[None, :]
    W = vae.hnet([task_id])
    images = torch.sigmoid(vae.decode_logits(z.view(1, -1, vae.latent_dim).to(device), [task_id], W))
    return images.view(steps, steps, -1).cpu()
