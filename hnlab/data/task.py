"""A task of a continual-learning sequence: its train and test tensors, resident on a device."""

from __future__ import annotations

from dataclasses import dataclass

import torch

LOSSES = ("mse", "ce")


@dataclass
class Task:
    """One task: ``x_*`` float inputs ``[N, D]``; ``y_*`` targets (floats for ``"mse"``,
    class indices for ``"ce"``). ``loss`` names the task loss and the test metric
    (MSE for ``"mse"``, accuracy in percent for ``"ce"``)."""

    name: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    loss: str = "ce"

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss {self.loss!r}; choose one of {LOSSES}")
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError(f"task {self.name!r}: inputs and targets differ in length")
        if len(self.x_train) == 0:
            raise ValueError(f"task {self.name!r} has no training data")

    @property
    def metric(self) -> str:
        return "mse" if self.loss == "mse" else "accuracy"

    def to(self, device) -> Task:
        move = lambda t: t.to(device)
        return Task(self.name, move(self.x_train), move(self.y_train), move(self.x_test), move(self.y_test), self.loss)
