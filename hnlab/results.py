"""What every lesson shares at its start and end: smoke mode, the run's header, results JSON.

See the notebook contract in ../shared/DESIGN.md; used by every notebook in notebooks/.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from pathlib import Path

import torch


def smoke_default() -> bool:
    """Smoke mode's default: true when ``$HNLAB_SMOKE`` is 1/true/yes (set by ``make test``)."""
    return os.environ.get("HNLAB_SMOKE", "0").strip().lower() in ("1", "true", "yes")


def check_params(**params) -> None:
    """Check notebook parameters against their annotated types: ``check_params(seed=(seed, int))``.

    Raises one ``TypeError`` naming every parameter whose value has the wrong type.
    """
    wrong = []
    for name, (value, kinds) in params.items():
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        ok = isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)
        if not ok:
            names = " or ".join(k.__name__ if k is not type(None) else "None" for k in kinds)
            wrong.append(f"{name}={value!r} (expected {names})")
    if wrong:
        raise TypeError("bad notebook parameters: " + "; ".join(wrong))


def check_lesson(namespace: dict, choices: dict | None = None, positive=()) -> None:
    """Check a lesson's parameters in one call: ``check_lesson(globals())`` after the parameters cell.

    Every name annotated in the parameters cell (``seed: int = 0  # help``; IPython records
    the annotations in ``__annotations__``) must hold a value of its annotated type (an int
    passes for a float, a bool never passes for an int); ``choices`` maps names to their
    allowed values, ``positive`` names numbers that must be > 0. Raises one ``TypeError`` or
    ``ValueError`` naming every bad parameter, before any data loads.
    """
    annotations = namespace.get("__annotations__", {})
    if not annotations:
        raise ValueError("no annotated parameters found: call check_lesson(globals()) after the parameters cell")
    kinds = {float: (float, int)}
    check_params(**{name: (namespace[name], kinds.get(kind, kind)) for name, kind in annotations.items()})
    wrong = [
        f"{name}={namespace[name]!r} (choose one of {', '.join(map(repr, allowed))})"
        for name, allowed in (choices or {}).items()
        if namespace[name] not in allowed
    ]
    wrong += [f"{name}={namespace[name]!r} (must be > 0)" for name in positive if not namespace[name] > 0]
    if wrong:
        raise ValueError("bad notebook parameters: " + "; ".join(wrong))


def machine_info(device: torch.device) -> dict:
    """Where a result was measured: device, CPU threads, torch version."""
    info = {
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "platform": platform.platform(terse=True),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


def _clean(value):
    """Make results JSON-safe: tensors to lists, devices to their names, NaN/inf to None."""
    if isinstance(value, torch.device):
        return str(value)
    if isinstance(value, torch.Tensor):
        return _clean(value.tolist())
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


def write_results(path, results: dict) -> Path:
    """Write ``results`` as JSON to ``path`` atomically (directories made as needed)."""
    if not isinstance(results, dict):
        raise TypeError("results must be a dict")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(_clean(results), f, indent=2)
    os.replace(tmp, path)
    return path


def read_results(path) -> dict:
    with open(path) as f:
        return json.load(f)
