"""What every continual learner is: a weight generator plus a recipe (../shared/DESIGN.md).

A ``Method`` builds its models for a benchmark and scenario (``Settings``), learns one task at a
time (``learn_task``), does its end-of-task work (``end_task``: a snapshot, a Fisher, SI's
importance), answers with a task id (``logits``) and without one (``predict``), and exposes its
state for checkpoints. The runner (``hnlab.experiments.benchmarks``) knows only this interface, so
every method gets the same protocol, score matrix and results JSON. Introduced in
notebooks/03_benchmarks.ipynb.

The scenarios (van de Ven & Tolias 2019), and how ``scenario_scores`` scores them:

- CL1: the task id is given; ``logits(x, t)`` answers with task t's head. Right when the
  within-task label is right.
- CL2: no task id; ``predict(x, num_seen)`` gives the within-task label.
- CL3: no task id; ``predict`` gives the global class ``t * C + label`` (SplitMNIST: the digit;
  PermutedMNIST: one of 10 T classes), which is right only when the task is right too.
"""

from __future__ import annotations

from typing import ClassVar

import torch

from ..data import Task
from .settings import Settings

#: Test inputs scored at once when every task's network answers together.
EVAL_BATCH = 2000


class Method:
    """Base class of every registered method; subclasses fill in the recipe."""

    name: ClassVar[str] = ""
    #: One line for tables and the lesson: what the method is.
    title: ClassVar[str] = ""
    scenarios: ClassVar[tuple[int, ...]] = (1, 2, 3)
    #: The method's own hyperparameters and their defaults per (benchmark, scenario); see each module.
    hparam_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, s: Settings, device="cpu"):
        self.settings, self.device = s, torch.device(device)

    @classmethod
    def default_hparams(cls, benchmark: str, scenario: int) -> dict:
        """The method's own values for ``benchmark`` and ``scenario`` (empty: it has none)."""
        return {}

    # -- the recipe -------------------------------------------------------------------
    def learn_task(self, task_id: int, tasks: list[Task], generator: torch.Generator, progress=None) -> list[float]:
        """Train on ``tasks[task_id]``; return the task loss every 10 steps."""
        raise NotImplementedError

    def steps(self, task_id: int) -> int:
        """Training steps ``learn_task`` takes for ``task_id`` (the progress bar's share)."""
        return self.settings.iters

    def end_task(self, task_id: int, tasks: list[Task]) -> None:
        """What the method does once a task is learned (nothing by default)."""

    def logits(self, x: torch.Tensor, task_id: int) -> torch.Tensor:
        """Outputs ``[B, C]`` of task ``task_id``'s classifier (the task id is given: CL1)."""
        raise NotImplementedError

    def predict(self, x: torch.Tensor, num_seen: int) -> torch.Tensor:
        """Labels ``[B]`` without a task id after ``num_seen`` tasks: within-task labels in CL2,
        global classes ``t * C + label`` in CL3."""
        raise NotImplementedError

    def extra_scores(self, tasks: list[Task]) -> dict:
        """Method-specific numbers for the results JSON after the last task (none by default)."""
        return {}

    # -- state ------------------------------------------------------------------------
    def modules(self) -> dict[str, torch.nn.Module]:
        """The method's modules by name (their state goes into checkpoints)."""
        return {}

    def stateful(self) -> dict:
        """Everything with a ``state_dict`` a resumed run needs, by name: the modules, and what a method
        adds (an optimizer kept across tasks, EWC's or SI's penalty, a replay buffer)."""
        return self.modules()

    def state_dict(self) -> dict:
        """Everything a resumed run needs, as tensors and plain values."""
        return {name: part.state_dict() for name, part in self.stateful().items()}

    def load_state_dict(self, state: dict) -> None:
        for name, part in self.stateful().items():
            part.load_state_dict(state[name])

    def train(self, mode: bool = True) -> None:
        for module in self.modules().values():
            module.train(mode)


def global_labels(task: Task, task_id: int, classes_per_task: int) -> torch.Tensor:
    """CL3 labels of a task's test set: class ``task_id * C + y``."""
    return task.y_test + task_id * classes_per_task


@torch.no_grad()
def scenario_scores(method: Method, tasks: list[Task], scenario: int, num_seen: int) -> list[float]:
    """Test accuracy (percent) of every task in ``scenario`` after ``num_seen`` tasks: one row of
    the score matrix."""
    method.train(False)
    C = method.settings.classes_per_task
    scores = []
    for t, task in enumerate(tasks):
        if scenario == 1:
            right = (method.logits(task.x_test, t).argmax(-1) == task.y_test).sum()
        else:
            y = task.y_test if scenario == 2 else global_labels(task, t, C)
            right = sum(
                (method.predict(task.x_test[i : i + EVAL_BATCH], num_seen) == y[i : i + EVAL_BATCH]).sum()
                for i in range(0, len(y), EVAL_BATCH)
            )
        scores.append(100 * float(right) / len(task.y_test))
    method.train(True)
    return scores
