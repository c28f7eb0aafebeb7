"""Initialization for hypernetworks (notebooks/02_init_variance.ipynb, Chang et al. 2020).

``full``: classical Xavier/Kaiming and hyperfan-in/-out for a full hypernetwork;
``chunked``: hyperfan for a chunked hypernetwork; ``diagnostics``: what an init does to
the generated weights and the main net's activations. ``init_hypernet_`` picks by name.
"""

from __future__ import annotations

import torch

from .chunked import chunked_hyperfan_init_
from .full import (
    DISTRIBUTIONS,
    HYPERFAN_MODES,
    MODES,
    SCHEMES,
    _check_choice,
    classical_init_,
    classical_target_weights,
    classical_variance,
    fans,
    harmonic_mean,
    hyperfan_head_variances,
    hyperfan_init_,
    hyperfan_target_variances,
    layer_roles,
)

INIT_METHODS = (
    "xavier",
    "kaiming",
    "xavier_fan_out",
    "xavier_harmonic",
    "kaiming_fan_out",
    "kaiming_harmonic",
    "hyperfan_in",
    "hyperfan_out",
)


def init_hypernet_(
    hnet,
    method: str,
    activation: str = "linear",
    distribution: str = "uniform",
    generator: torch.Generator | None = None,
):
    """Initialize any hnlab hypernetwork by name (one of ``INIT_METHODS``; plain
    ``"xavier"``/``"kaiming"`` are fan-in). ``activation`` is the main net's; a chunked
    hypernetwork gets the chunked hyperfan (``hnlab.init.chunked``). Returns ``hnet``."""
    _check_choice("init method", method, INIT_METHODS)
    if method.startswith("hyperfan_"):
        init = chunked_hyperfan_init_ if hasattr(hnet, "chunk_emb") else hyperfan_init_
        return init(hnet, method.removeprefix("hyperfan_"), activation, distribution, generator=generator)
    scheme, _, mode = method.partition("_")
    return classical_init_(hnet, scheme, mode or "fan_in", distribution, generator)
