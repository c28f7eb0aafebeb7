"""Hypernetworks with one interface: ``hnet(task_ids) -> W [T, P]``."""

from .base import HyperNetwork, as_task_ids
from .chunked import ChunkedHMLP
from .direct import DirectWeights
from .lstm import GrowLSTMHNet, LSTMHNet
from .mask import MaskGenerator
from .mlp import HMLP

__all__ = [
    "HyperNetwork",
    "HMLP",
    "ChunkedHMLP",
    "DirectWeights",
    "MaskGenerator",
    "LSTMHNet",
    "GrowLSTMHNet",
    "as_task_ids",
]
