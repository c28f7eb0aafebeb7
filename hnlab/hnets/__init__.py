"""Hypernetworks with one interface: ``hnet(task_ids) -> W [T, P]``."""

from .base import HyperNetwork, as_task_ids
from .chunked import ChunkedHMLP
from .direct import DirectWeights
from .mask import MaskGenerator
from .mlp import HMLP

__all__ = ["HyperNetwork", "HMLP", "ChunkedHMLP", "DirectWeights", "MaskGenerator", "as_task_ids"]
