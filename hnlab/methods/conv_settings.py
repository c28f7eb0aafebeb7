"""The papers' settings for the benchmarks at CIFAR's shape with ResNet targets (lesson 08).

Merged into ``hnlab.methods.settings.PAPER``; ``Settings.target`` names the ResNet
(``hnlab.targets.RESNETS``) and ``Settings.epochs`` (when > 0) sets each task's steps to that many
passes over its training set, in place of ``iters``. Sources: ../shared/papers/README.md.

- ``split_cifar10_100``: von Oswald et al. App. C: ResNet-32, a linear chunked hypernetwork (no
  hidden layer) from task and chunk embeddings of 32 to chunks of 7,000, Adam 1e-3, batch 32, 200
  epochs per task, beta 0.05. (Their Keras learning-rate schedules are not reproduced.)
- ``split_cifar100``: HyperMask's benchmark (10 tasks of 10 classes, ResNet-20, hypernetwork 100,
  embedding 48, beta 0.01, batch 32, 200 epochs), with HNET's chunking.
- ``fashion_mnist32``: the stream that runs here (``hnlab.data.streams32``) with the split CIFAR-10/100
  settings; lesson 08's CPU default is a stated reduction of them.
- the partial-hypernetwork streams (``hnlab.data.streams_partial``, lesson 09): Hemati et al.'s slim
  ResNet-18, Adam 1e-3, hypernetwork 32 -> 50 -> 32, regularizer c = 0.5 (``beta``); the paper trains
  each experience "until convergence", here one pass (``epochs=1``).
"""

from __future__ import annotations

from ..data.streams_partial import STREAM_SHAPES

_VON_OSWALD = dict(
    num_tasks=6,
    iters=1000,
    epochs=200,
    batch_size=32,
    lr=1e-3,
    beta=0.05,
    target="resnet32",
    target_hidden=(),
    hnet_hidden=(),
    hnet_activation="relu",
    chunk_size=7000,
    emb_dim=32,
    chunk_emb_dim=32,
    hnet_init="pytorch",
)

CONV_PAPER = {
    "split_cifar10_100": dict(_VON_OSWALD),
    "split_cifar100": dict(_VON_OSWALD, num_tasks=10, target="resnet20", beta=0.01, hnet_hidden=(100,), emb_dim=48),
    "fashion_mnist32": dict(_VON_OSWALD),
}
_HEMATI = dict(_VON_OSWALD, epochs=1, beta=0.5, target="slim_resnet18", hnet_hidden=(50,), emb_dim=32)
CONV_PAPER.update({name: dict(_HEMATI, num_tasks=n) for name, (n, _) in STREAM_SHAPES.items()})

CONV_BENCHMARKS = tuple(CONV_PAPER)

#: Head size (classes per task) of the conv benchmarks; split CIFAR-100 has 100 / num_tasks.
CONV_CLASSES = {"split_cifar10_100": 10, "fashion_mnist32": 10, **{k: c for k, (_, c) in STREAM_SHAPES.items()}}
