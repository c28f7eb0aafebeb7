"""Save and load a trained hypernetwork with the config that made it (notebooks/01_toy1d.ipynb)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

#: 2: the hypernetwork head is stored transposed (``hnlab.hnets.base.head_params_init``).
FORMAT = "hnlab-checkpoint-2"


class CheckpointMismatch(ValueError):
    """The checkpoint was written for another configuration."""


def save_checkpoint(path, model: nn.Module, config: dict, extra: dict | None = None) -> Path:
    """Write ``model``'s state and ``config`` to ``path`` atomically (no half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": config, "state": model.state_dict(), "extra": extra or {}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_checkpoint(path, model: nn.Module, config: dict) -> dict:
    """Load ``path`` into ``model`` if it was saved with the same ``config``; return its extra dict.

    Raises ``FileNotFoundError`` for a missing file and ``CheckpointMismatch`` naming the
    differing settings when the checkpoint comes from another configuration.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train first or check the path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointMismatch(
            f"{path} is not a readable hnlab checkpoint ({err}); delete it and train again"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointMismatch(f"{path} is not an hnlab checkpoint ({FORMAT}); delete it and train again")
    saved = payload["config"]
    if saved != config:
        keys = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        diffs = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {config.get(k)!r}" for k in keys)
        raise CheckpointMismatch(
            f"{path} was saved with another config ({diffs}); use the matching settings or train a new model"
        )
    model.load_state_dict(payload["state"])
    return payload["extra"]
