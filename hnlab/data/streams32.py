"""Task sequences at CIFAR's shape for convolutional targets (notebooks/08_conv_targets.ipynb).

- ``split_cifar10_100``: task 1 is all of CIFAR-10, then CIFAR-100 in groups of ten classes
  (von Oswald et al., Sec. 4.3 and Fig. 5).
- ``split_cifar100``: CIFAR-100 in N tasks of 100/N classes, the class order fixed by a seed
  (HyperMask: 10 tasks of 10; partial hypernetworks: 20 of 5).
- ``fashion_mnist32``, the stream that runs where CIFAR is not at hand ("fashion+mnist-32"): task
  1 is all ten Fashion-MNIST classes (the big first task, like CIFAR-10), then MNIST in tasks of two
  digits; the 28x28 grey images are padded to 32x32 and repeated to 3 channels.

Every task's labels run from 0 to its number of classes - 1; inputs are ``ByteImages`` (bytes
in memory, floats per batch). ``max_train`` / ``max_test`` keep a seeded random subset of each
task (the lesson's smoke mode and the CPU default).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import check_count
from .cifar import CifarData, load_cifar
from .images import ByteImages
from .mnist import MnistData, load_mnist
from .sequences import SPLIT_PAIRS
from .task import Task

#: What results say the data were, per sequence.
DATA_NAMES = {"fashion_mnist32": "fashion+mnist-32", "split_cifar10_100": "cifar-10/100", "split_cifar100": "cifar-100"}


def _as_bytes(x: torch.Tensor, side: int = 28) -> torch.Tensor:
    """Float images ``[N, side*side]`` in [0, 1] (``load_mnist``) back to ``uint8 [N, 1, side, side]``."""
    return x.mul(255).round_().to(torch.uint8).reshape(len(x), 1, side, side)


def _pick(n: int, limit: int | None, generator: torch.Generator) -> torch.Tensor | None:
    """A sorted seeded random subset of ``range(n)`` of ``limit`` items (None: keep all)."""
    if limit is None or limit >= n:
        return None
    return torch.randperm(n, generator=generator)[:limit].sort().values


def _task(name, x_tr, y_tr, x_te, y_te, classes, generator, max_train, max_test, device) -> Task:
    """Task of the images whose label is in ``classes``, relabelled 0..len(classes)-1."""
    lookup = torch.full((int(max(y_tr.max(), y_te.max())) + 1,), -1, dtype=torch.long)
    lookup[torch.as_tensor(classes)] = torch.arange(len(classes))
    parts = []
    for x, y, limit in ((x_tr, y_tr, max_train), (x_te, y_te, max_test)):
        rows = (lookup[y.cpu()] >= 0).nonzero().squeeze(1)
        keep = _pick(len(rows), limit, generator)
        rows = rows if keep is None else rows[keep]
        parts += [ByteImages(x[rows.to(x.device)].to(device)), lookup[y.cpu()[rows]].to(device)]
    return Task(name, *parts, loss="ce")


def _check(num_tasks, high, max_train, max_test) -> None:
    check_count("num_tasks", num_tasks, 1, high)
    for name, value in (("max_train", max_train), ("max_test", max_test)):
        if value is not None:
            check_count(name, value)


def fashion_mnist32(
    fashion: MnistData, mnist: MnistData, num_tasks: int = 6, seed: int = 0, device=None, max_train=None, max_test=None
) -> list[Task]:
    """Task 1: the ten Fashion-MNIST classes; tasks 2..6: MNIST digit pairs (0/1, 2/3, ...)."""
    _check(num_tasks, 1 + len(SPLIT_PAIRS), max_train, max_test)
    device = fashion.x_train.device if device is None else device
    generator = torch.Generator().manual_seed(seed)
    tasks = [
        _task("fashion", *_bytes_of(fashion), list(range(10)), generator, max_train, max_test, device),
    ]
    digits = _bytes_of(mnist)
    for a, b in SPLIT_PAIRS[: num_tasks - 1]:
        tasks.append(_task(f"{a}/{b}", *digits, [a, b], generator, max_train, max_test, device))
    return tasks


def _bytes_of(data: MnistData) -> tuple[torch.Tensor, ...]:
    return _as_bytes(data.x_train), data.y_train, _as_bytes(data.x_test), data.y_test


def split_cifar10_100(
    cifar10: CifarData, cifar100: CifarData, num_tasks: int = 6, device=None, max_train=None, max_test=None, seed=0
) -> list[Task]:
    """Task 1: CIFAR-10; tasks 2..: CIFAR-100 classes 0-9, 10-19, ... (von Oswald et al.)."""
    _check(num_tasks, 11, max_train, max_test)
    device = cifar10.x_train.device if device is None else device
    generator = torch.Generator().manual_seed(seed)
    ten = (cifar10.x_train, cifar10.y_train, cifar10.x_test, cifar10.y_test)
    hundred = (cifar100.x_train, cifar100.y_train, cifar100.x_test, cifar100.y_test)
    tasks = [_task("cifar10", *ten, list(range(10)), generator, max_train, max_test, device)]
    for t in range(num_tasks - 1):
        classes = list(range(10 * t, 10 * t + 10))
        name = f"cifar100 {classes[0]}-{classes[-1]}"
        tasks.append(_task(name, *hundred, classes, generator, max_train, max_test, device))
    return tasks


def split_cifar100(
    cifar100: CifarData, num_tasks: int = 10, seed: int = 0, device=None, max_train=None, max_test=None
) -> list[Task]:
    """CIFAR-100 in ``num_tasks`` tasks of ``100 // num_tasks`` classes; ``seed`` fixes the class order."""
    _check(num_tasks, 100, max_train, max_test)
    if 100 % num_tasks:
        raise ValueError(f"num_tasks must divide 100 (tasks of equal size), got {num_tasks}")
    device = cifar100.x_train.device if device is None else device
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(100, generator=generator).tolist()
    size, data = 100 // num_tasks, (cifar100.x_train, cifar100.y_train, cifar100.x_test, cifar100.y_test)
    return [
        _task(f"cifar100 task {t + 1}", *data, order[t * size : (t + 1) * size], generator, max_train, max_test, device)
        for t in range(num_tasks)
    ]


@dataclass
class StreamData:
    """The loaded image sets of a benchmark at CIFAR's shape and how much of each task to keep.

    ``tasks(num_tasks, seed)`` builds the sequence; ``source`` names the data in results
    (``"fashion+mnist-32"``, with the cut when there is one).
    """

    benchmark: str
    sets: tuple
    max_train: int | None = None
    max_test: int | None = None
    #: Appended to ``source`` (say what stands in for a missing set).
    note: str = ""

    @property
    def source(self) -> str:
        name = DATA_NAMES[self.benchmark]
        if any(getattr(d, "source", "full") == "subset" for d in self.sets):
            name += " (MNIST: the shipped subset)"
        if self.max_train or self.max_test:
            name += f" (at most {self.max_train or 'all'} training / {self.max_test or 'all'} test images per task)"
        return f"{name} ({self.note})" if self.note else name

    def tasks(self, num_tasks: int, seed: int = 0, device=None) -> list[Task]:
        cut = dict(max_train=self.max_train, max_test=self.max_test, device=device, seed=seed)
        if self.benchmark == "fashion_mnist32":
            return fashion_mnist32(*self.sets, num_tasks=num_tasks, **cut)
        if self.benchmark == "split_cifar10_100":
            return split_cifar10_100(*self.sets, num_tasks=num_tasks, **cut)
        return split_cifar100(*self.sets, num_tasks=num_tasks, **cut)


def load_stream(benchmark: str, root=None, device="cpu", max_train=None, max_test=None, download=True) -> StreamData:
    """Load what ``benchmark`` (a key of ``DATA_NAMES``) needs from the data root (``HNLAB_DATA``)."""
    if benchmark not in DATA_NAMES:
        raise ValueError(f"unknown benchmark {benchmark!r}; choose one of {list(DATA_NAMES)}")
    if benchmark == "fashion_mnist32":
        sets = tuple(load_mnist(n, root, device, download) for n in ("fashion_mnist", "mnist"))
    elif benchmark == "split_cifar10_100":
        sets = tuple(load_cifar(n, root, device, download) for n in ("cifar10", "cifar100"))
    else:
        sets = (load_cifar("cifar100", root, device, download),)
    return StreamData(benchmark, sets, max_train, max_test)
