"""One benchmark configuration: the benchmark, the scenario, the networks and the method's own values.

``Settings`` holds what every method shares (tasks, iterations, batches, learning rate, the target
MLP) and what the hypernetwork methods add (the chunked hypernetwork, beta); ``hparams`` holds
the chosen method's own hyperparameters (EWC's lambda, SI's c, ...), which each method module
declares with their sources. ``hnlab.methods.paper_settings`` fills both for a method by name.
Introduced in notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..checks import is_int
from ..init import INIT_METHODS
from ..targets import RESNETS, activation_fn
from ..train import check_sampling
from .conv_settings import CONV_BENCHMARKS, CONV_CLASSES, CONV_PAPER

#: The MLP benchmarks of lessons 03-06; the ResNet ones (lesson 08) are ``CONV_BENCHMARKS``.
BENCHMARKS = ("splitmnist", "permutedmnist")
SCENARIOS = (1, 2, 3)
#: ``"pytorch"`` keeps PyTorch's default Linear init; the rest are ``hnlab.init`` methods.
HNET_INITS = ("pytorch", *INIT_METHODS)


@dataclass
class Settings:
    """One benchmark configuration; ``hnlab.methods.paper_settings`` fills it with the papers' values."""

    benchmark: str
    scenario: int
    num_tasks: int
    iters: int
    batch_size: int
    lr: float
    beta: float
    target_hidden: tuple[int, ...]
    hnet_hidden: tuple[int, ...]
    hnet_activation: str
    chunk_size: int
    emb_dim: int
    chunk_emb_dim: int
    hnet_init: str
    lookahead: bool = True
    sampling: str = "epochs"
    method: str = "hnet"
    hparams: dict = field(default_factory=dict)
    #: ResNet targets at CIFAR's shape (``hnlab.methods.conv_settings``): which ResNet, and
    #: passes over each task's data (0: ``iters`` steps per task).
    target: str = "mlp"
    epochs: int = 0

    @property
    def classes_per_task(self) -> int:
        if self.benchmark == "split_cifar100":
            return 100 // self.num_tasks
        return 2 if self.benchmark == "splitmnist" else CONV_CLASSES.get(self.benchmark, 10)

    @property
    def in_features(self) -> int:
        return 784 if self.benchmark == "splitmnist" else 1024


#: von Oswald et al. App. C and the authors' scripts (see ../shared/papers/README.md).
#: ``hnet_init``: their MNIST scripts draw every hypernet weight from torch's Xavier-uniform
#: (Glorot, the harmonic mean of fan-in and fan-out) with zero biases, and the embeddings
#: from N(0, 1). PyTorch's default Linear init makes the generated weights ~20x larger and
#: costs 0.3 points of SplitMNIST CL1, 2-3 of CL2/CL3 (see results/README.md).
#: ``Settings.sampling`` (default ``"epochs"``): their data handlers sweep each task's data in
#: epochs, a fresh order each; uniform draws gave SplitMNIST CL1 99.64 against 99.72 (20 seeds).
#: The shared values (iterations, batch, lr, target) are also van de Ven & Tolias's for EWC and SI.
PAPER = {
    "splitmnist": dict(
        num_tasks=5,
        iters=2000,
        batch_size=128,
        lr=1e-3,
        beta=0.01,
        target_hidden=(400, 400),
        hnet_hidden=(10, 10),
        hnet_activation="relu",
        chunk_size=42000,
        emb_dim=96,
        chunk_emb_dim=96,
        hnet_init="xavier_harmonic",
    ),
    # beta: 0.01 in the paper's text, 0.1 in the authors' scripts that produced Table 1; we follow the scripts.
    "permutedmnist": dict(
        num_tasks=10,
        iters=5000,
        batch_size=128,
        lr=1e-4,
        beta=0.1,
        target_hidden=(1000, 1000),
        hnet_hidden=(25, 25),
        hnet_activation="elu",
        chunk_size=78000,
        emb_dim=24,
        chunk_emb_dim=8,
        hnet_init="xavier_harmonic",
    ),
    **CONV_PAPER,
}
#: Settings that may be overridden besides the ``PAPER`` values.
EXTRA = ("lookahead", "sampling")


def base_settings(benchmark: str = "splitmnist", scenario: int = 1, **overrides) -> Settings:
    """The paper's shared settings for ``benchmark``; an override of None or 0 keeps the paper's value."""
    if benchmark not in (*BENCHMARKS, *CONV_BENCHMARKS):
        raise ValueError(f"unknown benchmark {benchmark!r}; choose one of {(*BENCHMARKS, *CONV_BENCHMARKS)}")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be 1, 2 or 3 (CL1/CL2/CL3), got {scenario!r}")
    values = dict(PAPER[benchmark])
    unknown = set(overrides) - set(values) - set(EXTRA)
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; choose from {sorted([*values, *EXTRA])}")
    values.update({k: (tuple(v) if isinstance(v, list) else v) for k, v in overrides.items() if v})
    if "epochs" in values and overrides.get("iters") and not overrides.get("epochs"):
        values["epochs"] = 0  # a ResNet benchmark given iters: that many steps per task, not epochs
    _check_values(benchmark, values)
    return Settings(benchmark, scenario, **values)


def _check_values(benchmark: str, values: dict) -> None:
    for name in ("num_tasks", "iters", "batch_size", "chunk_size", "emb_dim", "chunk_emb_dim"):
        if not (is_int(values[name]) and values[name] > 0):
            raise ValueError(f"{name} must be a positive int, got {values[name]!r}")
    for name in ("lr", "beta"):
        if isinstance(values[name], bool) or not isinstance(values[name], (int, float)) or values[name] < 0:
            raise ValueError(f"{name} must be a non-negative number, got {values[name]!r}")
    for name in ("hnet_hidden", "target_hidden"):
        if not all(is_int(h) and h > 0 for h in values[name]):
            raise ValueError(f"{name} must be positive ints such as [25, 25], got {list(values[name])!r}")
    activation_fn(values["hnet_activation"])  # a clear error for an unknown name
    if values["hnet_init"] not in HNET_INITS:
        raise ValueError(f"unknown hnet_init {values['hnet_init']!r}; choose one of {list(HNET_INITS)}")
    check_sampling(values.get("sampling", "epochs"))
    if "target" in values and benchmark in CONV_BENCHMARKS:
        if values["target"] not in RESNETS or not is_int(values["epochs"]) or values["epochs"] < 0:
            raise ValueError(f"target must be one of {list(RESNETS)} and epochs an int >= 0, got {values['target']!r}")
    if benchmark == "splitmnist" and values["num_tasks"] > 5:
        raise ValueError(f"SplitMNIST has at most 5 tasks, got num_tasks={values['num_tasks']}")


def smoke_settings(s: Settings) -> Settings:
    """A seconds-long version: 2-3 tasks, 30 iterations, a small target."""
    return replace(s, num_tasks=min(s.num_tasks, 3), iters=30, target_hidden=(50,), chunk_size=2000, epochs=0)
