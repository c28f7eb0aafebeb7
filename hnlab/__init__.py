"""hnlab: an interactive lab for hypernetworks in continual learning.

The core idea: a hypernetwork maps task ids to flat weight vectors, ``hnet(task_ids) ->
W [T, P]``, and a target network is a function ``tnet(x, W)`` of them.
"""

from .device import pick_device, seed_everything
from .hnets import HMLP, ChunkedHMLP, DirectWeights, HyperNetwork
from .targets import MLP
from .train import ContinualResult, TrainConfig, evaluate_tasks, train_continual, train_multitask

__version__ = "0.1.0"
__all__ = [
    "pick_device",
    "seed_everything",
    "HyperNetwork",
    "HMLP",
    "ChunkedHMLP",
    "DirectWeights",
    "MLP",
    "TrainConfig",
    "ContinualResult",
    "train_continual",
    "train_multitask",
    "evaluate_tasks",
]
