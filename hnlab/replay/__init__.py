"""Hypernetwork-protected replay: a VAE whose decoder a hypernetwork generates, and a task-inference
network trained on its samples (von Oswald et al. 2020, Sec. 2.3). Introduced in notebooks/07_replay.ipynb."""

from .settings import REPLAY, VAE_BETA, make_vae
from .task_inference import TaskInferenceNet, replay_batch, replay_labels, train_task_inference
from .vae import Encoder, ReplayVAE, train_vae_task

__all__ = [
    "REPLAY",
    "VAE_BETA",
    "Encoder",
    "ReplayVAE",
    "TaskInferenceNet",
    "make_vae",
    "replay_batch",
    "replay_labels",
    "train_task_inference",
    "train_vae_task",
]
