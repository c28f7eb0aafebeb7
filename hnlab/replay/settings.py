"""The replay model's settings per benchmark, as the authors' code sets them (von Oswald et al. 2020).

Source: chrhenning/hypercl, ``mnist/train_args_default.py`` (../shared/papers/README.md,
"Hypernetwork-protected replay"). Where the paper differs, the code that produced Table 1 wins:
the paper's VAE beta is 0.05, the code's 0.01 (SplitMNIST) and 0.1 (PermutedMNIST); App. C
draws PermutedMNIST's task code from a Gaussian, the code uses a one-hot code. The classifier,
the task-inference network, iterations, batch and learning rate are the benchmark's
(``hnlab.methods.settings.PAPER``). Introduced in notebooks/07_replay.ipynb.
"""

from __future__ import annotations

from .vae import ReplayVAE

#: Encoder and decoder hidden sizes, and the decoder's hypernetwork, per benchmark; decoder sizes
#: per method (``hnet_r`` / ``hnet_tir``).
REPLAY = {
    "splitmnist": dict(
        enc_hidden=(400, 400),
        dec_hidden={"hnet_r": (250, 350), "hnet_tir": (50, 150)},
        hnet_hidden=(10, 10),
        hnet_activation="elu",
        chunk_size=50_000,
        emb_dim=96,
        chunk_emb_dim=96,
    ),
    "permutedmnist": dict(
        enc_hidden=(1000, 1000),
        dec_hidden={"hnet_r": (400, 400), "hnet_tir": (1000, 1000)},
        hnet_hidden=(25, 25),
        hnet_activation="elu",
        chunk_size=85_000,
        emb_dim=24,
        chunk_emb_dim=8,
    ),
}
LATENT_DIM = TASK_CODE_DIM = 100
#: The output regularizer's beta on the decoder's hypernetwork (the code's values).
VAE_BETA = {"splitmnist": 0.01, "permutedmnist": 0.1}


def make_vae(benchmark: str, method: str, in_features: int, num_tasks: int) -> ReplayVAE:
    """The replay VAE of ``method`` (``"hnet_r"`` or ``"hnet_tir"``) on ``benchmark``."""
    values = dict(REPLAY[benchmark])
    dec_hidden = values.pop("dec_hidden")[method]
    return ReplayVAE(
        in_features, num_tasks, latent_dim=LATENT_DIM, task_code_dim=TASK_CODE_DIM, dec_hidden=dec_hidden, **values
    )
