"""The streams of Hemati et al.'s partial hypernetworks (notebooks/09_partial_hypernetworks.ipynb).

The ones that run here, from Fashion-MNIST and MNIST at CIFAR's shape (``hnlab.data.streams32``:
padded to 32x32, 3 channels):

- ``split_fashion32``: Fashion-MNIST in 5 experiences of 2 classes (the paper's split CIFAR-100 is 20 x 5);
- ``noisy_fashion32``: 4 experiences of 2 classes (0/1, 2/3, 4/5, 6/7), experience 2 solarized, 3 blurred,
  4 autocontrast + grayscale + blur (``hnlab.data.corruptions``; the paper: 4 x 5 CIFAR-100 classes);
  ``clean_fashion32`` is the same stream without corruptions (the paper's "normal" stream);
- ``fashion_first32`` / ``mnist_first32``: "similar vs different first experience" (Fig. 4): Fashion-MNIST
  classes 0-4, or MNIST digits 0-4, then Fashion-MNIST classes 5-9.

The paper's, for users who have the CIFAR files (class order from the seed): ``split_cifar100_20`` (20 x 5),
``noisy_cifar100`` / ``clean_cifar100`` (the first 20 shuffled classes in 4 x 5; experience 4 is really
greyed), ``cifar10_first`` / ``mnist_first_cifar`` (5 classes of CIFAR-10 or MNIST, then 5 of CIFAR-100).

Labels run 0..classes-1 within each experience (one head per experience, task-incremental).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import check_count
from .cifar import load_cifar
from .corruptions import NOISY_ORDER, CorruptedImages
from .mnist import MnistData, load_mnist
from .streams32 import StreamData, _bytes_of, _task
from .task import Task

#: What results say the data were, per stream.
PARTIAL_STREAMS = {
    "split_fashion32": "split fashion-mnist-32",
    "noisy_fashion32": "noisy fashion-mnist-32",
    "clean_fashion32": "fashion-mnist-32 (the noisy stream's classes, clean)",
    "fashion_first32": "fashion-mnist 0-4 then 5-9 (32x32)",
    "mnist_first32": "mnist 0-4 then fashion-mnist 5-9 (32x32)",
    "split_cifar100_20": "split cifar-100 (20 x 5)",
    "noisy_cifar100": "noisy cifar-100 (4 x 5)",
    "clean_cifar100": "cifar-100 (the noisy stream's classes, clean)",
    "cifar10_first": "cifar-10 then cifar-100 (5 classes each)",
    "mnist_first_cifar": "mnist-32x32x3 then cifar-100 (5 classes each)",
}
#: Experiences and classes per experience of each stream.
STREAM_SHAPES = {
    "split_fashion32": (5, 2),
    "noisy_fashion32": (4, 2),
    "clean_fashion32": (4, 2),
    "fashion_first32": (2, 5),
    "mnist_first32": (2, 5),
    "split_cifar100_20": (20, 5),
    "noisy_cifar100": (4, 5),
    "clean_cifar100": (4, 5),
    "cifar10_first": (2, 5),
    "mnist_first_cifar": (2, 5),
}
#: Streams of natural images (the others hold digits and clothes): augmented with horizontal flips too.
FLIP_STREAMS = ("split_cifar100_20", "noisy_cifar100", "clean_cifar100", "cifar10_first")


def _arrays(data) -> tuple[torch.Tensor, ...]:
    """``(x_train uint8 [N, C, h, w], y_train, x_test, y_test)`` of an MNIST or a CIFAR set."""
    if isinstance(data, MnistData):
        return _bytes_of(data)
    return data.x_train, data.y_train, data.x_test, data.y_test


def _experiences(benchmark: str, main, other, order: list[int]):
    """``(name, image set, classes, corruption)`` of each experience of ``benchmark``; ``order``: a
    seeded permutation of 100 classes (the CIFAR-100 streams)."""
    n, c = STREAM_SHAPES[benchmark]
    noise = NOISY_ORDER if benchmark.startswith("noisy") else ("clean",) * n
    if benchmark in ("fashion_first32", "mnist_first32"):
        first = (main, "fashion 0-4") if benchmark == "fashion_first32" else (other, "mnist 0-4")
        return [(first[1], first[0], list(range(5)), "clean"), ("fashion 5-9", main, list(range(5, 10)), "clean")]
    if benchmark in ("cifar10_first", "mnist_first_cifar"):
        first = [k for k in order if k < 10][:c]
        label = "cifar10" if benchmark == "cifar10_first" else "mnist"
        return [(f"{label} {first}", other, first, "clean"), (f"cifar100 {order[:c]}", main, order[:c], "clean")]
    if benchmark in ("split_cifar100_20", "noisy_cifar100", "clean_cifar100"):
        return [(f"cifar100 {order[c * t : c * t + c]}", main, order[c * t : c * t + c], noise[t]) for t in range(n)]
    return [(f"fashion {c * t}/{c * t + 1}", main, [c * t, c * t + 1], noise[t]) for t in range(n)]


def partial_stream(benchmark: str, main, other=None, num_tasks=None, seed=0, **cut) -> list[Task]:
    """The experiences of ``benchmark`` (a key of ``PARTIAL_STREAMS``) from ``main`` (Fashion-MNIST, or
    CIFAR-100) and ``other`` (MNIST or CIFAR-10, for the streams that need it); ``seed`` fixes CIFAR-100's
    class order and the subsets; ``cut``: ``max_train``, ``max_test`` (a seeded subset of each experience)
    and ``device``."""
    if benchmark not in PARTIAL_STREAMS:
        raise ValueError(f"unknown stream {benchmark!r}; choose one of {list(PARTIAL_STREAMS)}")
    generator = torch.Generator().manual_seed(seed)
    experiences = _experiences(benchmark, main, other, torch.randperm(100, generator=generator).tolist())
    num_tasks = len(experiences) if num_tasks is None else check_count("num_tasks", num_tasks, 1, len(experiences))
    device = cut.get("device") or main.x_train.device
    tasks = []
    for name, data, classes, noise in experiences[:num_tasks]:
        task = _task(name, *_arrays(data), classes, generator, cut.get("max_train"), cut.get("max_test"), device)
        if noise != "clean":
            task.x_train, task.x_test = CorruptedImages(task.x_train, noise), CorruptedImages(task.x_test, noise)
        tasks.append(task)
    return tasks


@dataclass
class PartialStreamData(StreamData):
    """``StreamData`` for the partial-hypernetwork streams: ``sets`` is ``(main, other)`` (``partial_stream``)."""

    @property
    def source(self) -> str:
        name = PARTIAL_STREAMS[self.benchmark]
        if any(getattr(d, "source", "full") == "subset" for d in self.sets if d is not None):
            name += " (the shipped subset)"
        if self.max_train or self.max_test:
            name += f" (at most {self.max_train or 'all'} training / {self.max_test or 'all'} test images per task)"
        return name

    def tasks(self, num_tasks: int, seed: int = 0, device=None) -> list[Task]:
        cut = dict(max_train=self.max_train, max_test=self.max_test, device=device)
        return partial_stream(self.benchmark, *self.sets, num_tasks=num_tasks, seed=seed, **cut)


def load_partial_stream(benchmark: str, root=None, device="cpu", max_train=None, max_test=None, download=True):
    """The sets ``benchmark`` needs from the data root (``HNLAB_DATA``), as ``PartialStreamData``."""
    if benchmark not in PARTIAL_STREAMS:
        raise ValueError(f"unknown stream {benchmark!r}; choose one of {list(PARTIAL_STREAMS)}")
    cifar = "cifar" in benchmark
    main = (
        load_cifar("cifar100", root, device, download) if cifar else load_mnist("fashion_mnist", root, device, download)
    )
    other = None
    if benchmark.startswith("mnist_first"):
        other = load_mnist("mnist", root, device, download)
    elif benchmark == "cifar10_first":
        other = load_cifar("cifar10", root, device, download)
    return PartialStreamData(benchmark, (main, other), max_train, max_test)
