"""Save and load what a run needs with the config that made it (notebooks/01_toy1d.ipynb, 03).

``save_checkpoint`` / ``load_checkpoint`` store one module; ``save_state`` / ``load_state`` store
any dict of tensors and plain values (a benchmark run's state after each task, which
``hnlab.experiments.benchmarks`` resumes from). Writes are atomic: a file is either the old one
or the complete new one. A file from another configuration is refused with the differing
settings named; a truncated or foreign file is refused as corrupt.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import torch
from torch import nn

#: 2: the hypernetwork head is stored transposed (``hnlab.hnets.base.head_params_init``);
#: 3: one payload layout for modules and run states.
FORMAT = "hnlab-checkpoint-3"


class CheckpointMismatch(ValueError):
    """The checkpoint was written for another configuration."""


class CheckpointCorrupt(CheckpointMismatch):
    """The file is not a complete hnlab checkpoint (truncated, or something else)."""


def save_state(path, state: dict, config: dict) -> Path:
    """Write ``state`` with ``config`` to ``path`` atomically (no half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "config": config, "state": state}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_state(path, config: dict, map_location="cpu") -> dict:
    """The state saved at ``path`` if it was saved with the same ``config``.

    Raises ``FileNotFoundError`` for a missing file, ``CheckpointCorrupt`` for a file that is not
    a complete checkpoint and ``CheckpointMismatch`` naming the differing settings otherwise.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}; train first or check the path")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointCorrupt(
            f"{path} is corrupt or not a readable hnlab checkpoint ({type(err).__name__}); delete it and train again"
        ) from err
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointCorrupt(f"{path} is not an hnlab checkpoint ({FORMAT}); delete it and train again")
    saved = payload["config"]
    if saved != config:
        keys = sorted(k for k in set(saved) | set(config) if saved.get(k) != config.get(k))
        diffs = ", ".join(f"{k}: saved {saved.get(k)!r} vs now {config.get(k)!r}" for k in keys)
        raise CheckpointMismatch(
            f"{path} was saved with another config ({diffs}); use the matching settings or train a new model"
        )
    return payload["state"]


def save_checkpoint(path, model: nn.Module, config: dict, extra: dict | None = None) -> Path:
    """Write ``model``'s state and ``config`` to ``path`` atomically."""
    return save_state(path, {"model": model.state_dict(), "extra": extra or {}}, config)


def load_checkpoint(path, model: nn.Module, config: dict) -> dict:
    """Load ``path`` into ``model`` if it was saved with the same ``config``; return its extra dict
    (errors as ``load_state``)."""
    state = load_state(path, config)
    model.load_state_dict(state["model"])
    return state["extra"]
