"""MNIST task sequences: SplitMNIST and PermutedMNIST-N (von Oswald et al., Sec. 4.1).

Both take an ``MnistData`` from ``hnlab.data.mnist.load_mnist`` and return a list of
``Task`` (cross-entropy). Introduced in notebooks/03_benchmarks.ipynb.

PermutedMNIST keeps one padded copy of the images and each task's permutation: a task's
inputs are a ``PermutedImages`` view that permutes only the rows it is asked for, so
100 tasks cost no more memory than one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils._pytree import tree_map

from ..checks import check_count
from .mnist import MnistData
from .task import Task

SPLIT_PAIRS = ((0, 1), (2, 3), (4, 5), (6, 7), (8, 9))


def _check_data(data) -> None:
    if not isinstance(data, MnistData):
        raise TypeError(f"expected MnistData from hnlab.data.mnist.load_mnist, got {type(data).__name__}")


def _validation_cut(n: int, val_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """A random split of ``range(n)`` into (train, validation) indices."""
    if not 0 <= val_size < n:
        raise ValueError(f"val_size must be between 0 and {n - 1} (the training set size), got {val_size}")
    order = torch.randperm(n, generator=generator)
    return order[val_size:].sort().values, order[:val_size].sort().values


def split_mnist(data: MnistData, num_tasks: int = 5, device=None, val_size: int = 0, seed: int = 0) -> list[Task]:
    """SplitMNIST: task t separates the digits ``SPLIT_PAIRS[t]``, labelled 0 and 1.

    With ``val_size > 0`` that many training images of each task are held out and used
    as its test set (for tuning without touching the real test set).
    """
    _check_data(data)
    check_count("num_tasks", num_tasks, 1, len(SPLIT_PAIRS))
    check_count("val_size", val_size, 0)
    device = data.x_train.device if device is None else device
    generator = torch.Generator().manual_seed(seed)
    tasks = []
    for a, b in SPLIT_PAIRS[:num_tasks]:
        train = ((data.y_train == a) | (data.y_train == b)).nonzero().squeeze(1)
        test = ((data.y_test == a) | (data.y_test == b)).nonzero().squeeze(1)
        x_tr, y_tr = data.x_train[train], (data.y_train[train] == b).long()
        x_te, y_te = data.x_test[test], (data.y_test[test] == b).long()
        if val_size:
            keep, val = (i.to(x_tr.device) for i in _validation_cut(len(x_tr), val_size, generator))
            x_tr, y_tr, x_te, y_te = x_tr[keep], y_tr[keep], x_tr[val], y_tr[val]
        tasks.append(Task(f"{a}/{b}", x_tr, y_tr, x_te, y_te, "ce").to(device))
    return tasks


class PermutedImages:
    """Images ``base [N, D]`` seen through a pixel permutation ``perm [D]``, lazily.

    Indexing permutes only the selected rows; any torch function given the whole object
    (for example a target network applied to a test set) sees the permuted tensor.
    """

    def __init__(self, base: torch.Tensor, perm: torch.Tensor):
        self.base, self.perm = base, perm.to(base.device)

    def __len__(self) -> int:
        return len(self.base)

    @property
    def shape(self) -> torch.Size:
        return self.base.shape

    @property
    def device(self) -> torch.device:
        return self.base.device

    def __getitem__(self, idx) -> torch.Tensor:
        return self.base[idx][..., self.perm]

    def materialize(self) -> torch.Tensor:
        return self.base[:, self.perm]

    def to(self, device) -> PermutedImages:
        return PermutedImages(self.base.to(device), self.perm)

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        unwrap = lambda a: a.materialize() if isinstance(a, PermutedImages) else a
        return func(*tree_map(unwrap, args), **tree_map(unwrap, kwargs or {}))


def pad_to_32(x: torch.Tensor) -> torch.Tensor:
    """Pad 28x28 images ``[N, 784]`` with zeros to 32x32 ``[N, 1024]``, as in the paper."""
    return F.pad(x.reshape(-1, 28, 28), (2, 2, 2, 2)).reshape(len(x), 1024)


def permutations(num_tasks: int, seed: int = 0, size: int = 1024, identity_first: bool = True) -> torch.Tensor:
    """``[num_tasks, size]`` pixel permutations fixed by ``seed``; task 0 keeps the pixel
    order when ``identity_first`` (as in the authors' code)."""
    generator = torch.Generator().manual_seed(seed)
    perms = torch.stack([torch.randperm(size, generator=generator) for _ in range(num_tasks)])
    if identity_first:
        perms[0] = torch.arange(size)
    return perms


def permuted_mnist(
    data: MnistData, num_tasks: int = 10, seed: int = 0, device=None, val_size: int = 0, identity_first: bool = True
) -> list[Task]:
    """PermutedMNIST-N: 10-way digit tasks, each with its own fixed pixel permutation of the
    padded 32x32 images (1024 inputs). Task 0 is plain MNIST when ``identity_first``.
    ``val_size`` holds out training images as each task's test set (see ``split_mnist``)."""
    _check_data(data)
    check_count("num_tasks", num_tasks, 1, 1000)
    check_count("val_size", val_size, 0)
    device = data.x_train.device if device is None else device
    x_tr, y_tr = pad_to_32(data.x_train).to(device), data.y_train.to(device)
    x_te, y_te = pad_to_32(data.x_test).to(device), data.y_test.to(device)
    if val_size:
        keep, val = (i.to(device) for i in _validation_cut(len(x_tr), val_size, torch.Generator().manual_seed(seed)))
        x_tr, y_tr, x_te, y_te = x_tr[keep], y_tr[keep], x_tr[val], y_tr[val]
    perms = permutations(num_tasks, seed, 1024, identity_first)
    return [
        Task(f"perm{t}", PermutedImages(x_tr, p), y_tr, PermutedImages(x_te, p), y_te, "ce")
        for t, p in enumerate(perms)
    ]
