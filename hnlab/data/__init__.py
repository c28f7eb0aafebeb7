"""Task sequences: the 1D toy here; MNIST benchmarks in later lessons."""

from .task import Task
from .toy1d import TOY_TASKS, toy1d_curve, toy1d_tasks

__all__ = ["Task", "TOY_TASKS", "toy1d_tasks", "toy1d_curve"]
