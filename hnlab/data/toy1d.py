"""The 1D nonlinear regression toy of von Oswald et al. (Fig. 2, App. C); notebooks/01_toy1d.ipynb."""

from __future__ import annotations

import torch

from .task import Task

#: (name, function, input domain) of the three toy tasks.
TOY_TASKS = (
    ("x+3", lambda x: x + 3, (-4.0, -2.0)),
    ("2x^2-1", lambda x: 2 * x**2 - 1, (-1.0, 1.0)),
    ("(x-3)^3", lambda x: (x - 3) ** 3, (2.0, 4.0)),
)


def toy1d_tasks(
    num_train: int = 100,
    num_test: int = 100,
    noise: float = 0.05,
    seed: int = 0,
    device="cpu",
    same_draws: bool = False,
) -> list[Task]:
    """The three toy tasks: ``num_train`` noisy points drawn uniformly from each domain
    (noise std ``noise``) and ``num_test`` noise-free points evenly spaced over it.

    ``same_draws``: every task draws from a fresh generator seeded with ``seed``, so the tasks
    share their uniform draws (shifted to each domain) and their noise, as in the authors' code
    (``data_random_seed``, lesson 01); otherwise one generator runs on through the tasks.
    """
    if num_train < 1 or num_test < 1:
        raise ValueError("num_train and num_test must be positive")
    gen = torch.Generator().manual_seed(seed)
    tasks = []
    for name, fn, (lo, hi) in TOY_TASKS:
        if same_draws:
            gen = torch.Generator().manual_seed(seed)
        x_train = lo + (hi - lo) * torch.rand(num_train, 1, generator=gen)
        y_train = fn(x_train) + noise * torch.randn(num_train, 1, generator=gen)
        x_test = torch.linspace(lo, hi, num_test).unsqueeze(1)
        tasks.append(Task(name, x_train, y_train, x_test, fn(x_test), loss="mse").to(device))
    return tasks


def toy1d_curve(task_index: int, num: int = 200, margin: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Dense ground truth ``(x [num, 1], y [num, 1])`` of one toy task, for plots."""
    _, fn, (lo, hi) = TOY_TASKS[task_index]
    x = torch.linspace(lo - margin, hi + margin, num).unsqueeze(1)
    return x, fn(x)
