"""The streams of Hemati et al.'s partial hypernetworks that run here (notebooks/09_partial_hypernetworks.ipynb).

Fashion-MNIST and MNIST at CIFAR's shape (``hnlab.data.streams32``: padded to 32x32, 3 channels):

- ``split_fashion32``: Fashion-MNIST in 5 experiences of 2 classes (the paper's split CIFAR-100 is 20 x 5);
- ``noisy_fashion32``: 4 experiences of 2 classes (0/1, 2/3, 4/5, 6/7), experience 2 solarized, 3 blurred,
  4 autocontrast + grayscale + blur (``hnlab.data.corruptions``; the paper: 4 x 5 CIFAR-100 classes);
  ``clean_fashion32`` is the same stream without corruptions (the paper's "normal" stream);
- ``fashion_first32`` / ``mnist_first32``: "similar vs different first experience" (Fig. 4): Fashion-MNIST
  classes 0-4, or MNIST digits 0-4, then Fashion-MNIST classes 5-9.

Labels run 0..classes-1 within each experience (one head per experience, task-incremental).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..checks import check_count
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
}
#: Experiences and classes per experience of each stream.
STREAM_SHAPES = {
    "split_fashion32": (5, 2),
    "noisy_fashion32": (4, 2),
    "clean_fashion32": (4, 2),
    "fashion_first32": (2, 5),
    "mnist_first32": (2, 5),
}


def _experiences(benchmark: str, fashion, mnist):
    """``(name, image set, classes, corruption)`` of each experience of ``benchmark``."""
    n, c = STREAM_SHAPES[benchmark]
    if benchmark in ("fashion_first32", "mnist_first32"):
        first = (fashion, "fashion 0-4") if benchmark == "fashion_first32" else (mnist, "mnist 0-4")
        return [(first[1], first[0], list(range(5)), "clean"), ("fashion 5-9", fashion, list(range(5, 10)), "clean")]
    noise = NOISY_ORDER if benchmark == "noisy_fashion32" else ("clean",) * n
    return [(f"fashion {c * t}/{c * t + 1}", fashion, [c * t, c * t + 1], noise[t]) for t in range(n)]


def partial_stream(
    benchmark: str, fashion: MnistData, mnist: MnistData | None = None, num_tasks=None, seed=0, **cut
) -> list[Task]:
    """The experiences of ``benchmark`` (a key of ``PARTIAL_STREAMS``); ``cut``: ``max_train``,
    ``max_test`` (a seeded subset of each experience) and ``device``."""
    if benchmark not in PARTIAL_STREAMS:
        raise ValueError(f"unknown stream {benchmark!r}; choose one of {list(PARTIAL_STREAMS)}")
    experiences = _experiences(benchmark, fashion, mnist)
    num_tasks = len(experiences) if num_tasks is None else check_count("num_tasks", num_tasks, 1, len(experiences))
    generator = torch.Generator().manual_seed(seed)
    device = cut.get("device") or fashion.x_train.device
    tasks = []
    for name, data, classes, noise in experiences[:num_tasks]:
        task = _task(name, *_bytes_of(data), classes, generator, cut.get("max_train"), cut.get("max_test"), device)
        if noise != "clean":
            task.x_train, task.x_test = CorruptedImages(task.x_train, noise), CorruptedImages(task.x_test, noise)
        tasks.append(task)
    return tasks


@dataclass
class PartialStreamData(StreamData):
    """``StreamData`` for the partial-hypernetwork streams: ``sets`` is ``(fashion, mnist)``."""

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
    """Fashion-MNIST (and MNIST for ``mnist_first32``) from the data root (``HNLAB_DATA``) as ``PartialStreamData``."""
    if benchmark not in PARTIAL_STREAMS:
        raise ValueError(f"unknown stream {benchmark!r}; choose one of {list(PARTIAL_STREAMS)}")
    fashion = load_mnist("fashion_mnist", root, device, download)
    mnist = load_mnist("mnist", root, device, download) if benchmark == "mnist_first32" else None
    return PartialStreamData(benchmark, (fashion, mnist), max_train, max_test)
