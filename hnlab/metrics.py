"""Continual-learning metrics from the accuracy matrix ``R[i][j]``.

``R[i][j]`` is the score on task j after training through task i. Definitions follow
../shared/papers/README.md; introduced in notebooks/01_toy1d.ipynb (MSE) and
notebooks/03_benchmarks.ipynb (accuracy).
"""

from __future__ import annotations

import numpy as np


def _square(matrix) -> np.ndarray:
    R = np.asarray(matrix, dtype=float)
    if R.ndim != 2 or R.shape[0] != R.shape[1] or R.shape[0] == 0:
        raise ValueError(f"the accuracy matrix must be square and non-empty, got shape {R.shape}")
    return R


def final_scores(matrix) -> list[float]:
    """Per-task score after the last task (the last row)."""
    return _square(matrix)[-1].tolist()


def during_scores(matrix) -> list[float]:
    """Per-task score right after learning it (the diagonal)."""
    return np.diag(_square(matrix)).tolist()


def final_mean(matrix) -> float:
    return float(np.mean(final_scores(matrix)))


def during_mean(matrix) -> float:
    return float(np.mean(during_scores(matrix)))


def backward_transfer(matrix) -> float:
    """BWT: mean over j < T of R[T, j] - R[j, j] (negative means forgetting)."""
    R = _square(matrix)
    if len(R) < 2:
        return 0.0
    return float(np.mean(R[-1, :-1] - np.diag(R)[:-1]))


def forgetting(matrix) -> float:
    """Chaudhry's forgetting: mean over j < T of max_i R[i, j] - R[T, j]."""
    R = _square(matrix)
    if len(R) < 2:
        return 0.0
    return float(np.mean(R[:-1, :-1].max(axis=0) - R[-1, :-1]))


def forward_transfer(matrix, untrained) -> float:
    """FWT: mean over j >= 2 of R[j-1, j] minus the untrained network's score on task j."""
    R = _square(matrix)
    b = np.asarray(untrained, dtype=float)
    if b.shape != (len(R),):
        raise ValueError(f"untrained scores need one value per task ({len(R)}), got shape {b.shape}")
    if len(R) < 2:
        return 0.0
    j = np.arange(1, len(R))
    return float(np.mean(R[j - 1, j] - b[j]))


def summary(matrix, untrained=None) -> dict:
    """All metrics as a JSON-ready dict."""
    out = {
        "final": final_mean(matrix),
        "during": during_mean(matrix),
        "bwt": backward_transfer(matrix),
        "forgetting": forgetting(matrix),
    }
    if untrained is not None:
        out["fwt"] = forward_transfer(matrix, untrained)
    return out
