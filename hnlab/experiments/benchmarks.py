"""Any registered method on SplitMNIST or PermutedMNIST, in CL1, CL2 or CL3, over seeds.

``run_benchmark(paper_settings("splitmnist", 2, "si"), data, seeds=5)`` trains the method once per
seed, scores every task in the scenario after every task (the score matrix ``R[i][j]``), and
returns the results dict that lesson 03 and ``bench/benchmarks.py`` write as JSON. ``compare``
runs other methods on the same seeds and scenario, so every comparison is on paired seeds.
With ``checkpoint_dir`` a run saves its state after every finished task; with ``resume`` it
continues from there (a finished seed is not retrained). Introduced in
notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .. import metrics
from ..checkpoint import load_state, save_state
from ..checks import check_count
from ..data.mnist import MnistData
from ..data.sequences import permuted_mnist, split_mnist
from ..data.streams32 import StreamData
from ..device import reuse_freed_memory
from ..methods import METHODS, Settings, check_methods, method_class, paper_settings, scenario_scores, with_method
from ..methods.hnet import make_hnet, make_tnet, train_config

__all__ = [
    "fig4_settings",
    "make_hnet",
    "make_tasks",
    "make_tnet",
    "run_benchmark",
    "run_seed",
    "train_config",
]


def make_tasks(s: Settings, data: MnistData | StreamData, seed: int = 0, device=None):
    if isinstance(data, StreamData):  # the benchmarks at CIFAR's shape (hnlab.data.streams32)
        return data.tasks(s.num_tasks, seed, device)
    if s.benchmark == "splitmnist":
        return split_mnist(data, s.num_tasks, device=device)
    return permuted_mnist(data, s.num_tasks, seed=seed, device=device)


@dataclass
class RunState:
    """Where one seed's run stands: the tasks done, their score rows, losses and seconds."""

    next_task: int = 0
    matrix: list[list[float]] = field(default_factory=list)
    losses: list[list[float]] = field(default_factory=list)
    train_seconds: float = 0.0


def run_config(s: Settings, seed: int, data_source: str) -> dict:
    """What a checkpoint must match to be resumed: every setting, the seed and the data."""
    return json.loads(json.dumps({**asdict(s), "seed": seed, "data": data_source}))


def checkpoint_path(folder, s: Settings, seed: int) -> Path:
    return Path(folder) / f"{s.benchmark}_cl{s.scenario}_{s.method}_seed{seed}.pt"


def save_run(path: Path, config: dict, method, run: RunState, generator: torch.Generator) -> None:
    state = {
        **asdict(run),
        "method": method.state_dict(),
        "generator": generator.get_state(),
        "torch_rng": torch.get_rng_state(),
    }
    save_state(path, state, config)


def restore_run(path: Path, config: dict, method, generator: torch.Generator) -> RunState:
    state = load_state(path, config, map_location=method.device)
    method.load_state_dict(state["method"])
    generator.set_state(state["generator"].cpu())
    torch.set_rng_state(state["torch_rng"].cpu())
    return RunState(state["next_task"], state["matrix"], state["losses"], state["train_seconds"])


def run_seed(
    s: Settings,
    tasks,
    seed: int,
    device="cpu",
    progress: bool = True,
    checkpoint: Path | None = None,
    resume: bool = False,
    data_source: str = "",
) -> dict:
    """Train method ``s.method`` through ``tasks`` with ``seed``; its score matrix and scores."""
    torch.manual_seed(seed)
    method = method_class(s.method, s.benchmark)(s, device)
    generator = torch.Generator().manual_seed(seed)
    config = run_config(s, seed, data_source)
    run = RunState()
    if resume and checkpoint is not None and checkpoint.exists():
        run = restore_run(checkpoint, config, method, generator)
    reuse_freed_memory()
    steps = [method.steps(t) for t in range(len(tasks))]
    with tqdm(
        total=sum(steps),
        initial=sum(steps[: run.next_task]),
        desc=f"{s.method} seed {seed}",
        disable=not progress,
        leave=False,
    ) as bar:
        for t in range(run.next_task, len(tasks)):
            start = time.perf_counter()
            method.train(True)
            run.losses.append(method.learn_task(t, tasks, generator, bar))
            method.end_task(t, tasks)
            run.train_seconds += time.perf_counter() - start
            run.matrix.append(scenario_scores(method, tasks, s.scenario, t + 1))
            run.next_task = t + 1
            if checkpoint is not None:
                save_run(checkpoint, config, method, run, generator)
    method.train(False)
    extra = method.extra_scores(tasks)
    return {
        "seed": seed,
        "matrix": run.matrix,
        "train_seconds": run.train_seconds,
        f"cl{s.scenario}": run.matrix[-1],
        **extra,
    }


def check_run(seeds: int, first_seed: int = 0, compare=()) -> tuple[str, ...]:
    """A clear error for a bad seed count, first seed or method name before anything trains;
    returns the compared methods as a tuple."""
    check_count("seeds", seeds)
    check_count("first_seed", first_seed, 0)
    return check_methods(compare)


def run_benchmark(
    s: Settings,
    data: MnistData,
    seeds: int = 3,
    device="cpu",
    compare=(),
    progress: bool = True,
    first_seed: int = 0,
    checkpoint_dir=None,
    resume: bool = False,
    on_seed=None,
) -> dict:
    """Run method ``s.method`` (and each method in ``compare``, same scenario) for ``seeds`` seeds;
    the results dict the lesson and bench/benchmarks.py write as JSON. ``on_seed(results)`` is
    called with the results so far after every seed (bench/benchmarks.py writes them)."""
    compare = check_run(seeds, first_seed, compare)
    others = [with_method(s, name) for name in compare if name != s.method]
    start = time.perf_counter()
    runs = []
    for seed in range(first_seed, first_seed + seeds):
        tasks = make_tasks(s, data, seed, device)
        run = _one(s, tasks, seed, device, progress, checkpoint_dir, resume, data.source)
        run["baselines"] = {
            o.method: _one(o, tasks, seed, device, progress, checkpoint_dir, resume, data.source) for o in others
        }
        runs.append(run)
        if on_seed is not None:
            on_seed(summarize(s, runs, data.source, time.perf_counter() - start))
    return summarize(s, runs, data.source, time.perf_counter() - start)


def _one(s, tasks, seed, device, progress, checkpoint_dir, resume, source) -> dict:
    path = None if checkpoint_dir is None else checkpoint_path(checkpoint_dir, s, seed)
    return run_seed(s, tasks, seed, device, progress, path, resume, source)


def _mean_of(runs: list[dict], key: str):
    """Mean over seeds of a per-seed list (element-wise), or None when the method has no such score."""
    if not runs or key not in runs[0]:
        return None
    return np.mean([r[key] for r in runs], axis=0).tolist()


def summarize(s: Settings, runs: list[dict], source: str, seconds: float) -> dict:
    """Means over seeds; ``final_acc`` is the task-averaged accuracy in ``s.scenario`` after the last task."""
    final = [metrics.final_mean(r["matrix"]) for r in runs]
    scenario_acc = {
        f"cl{c}": float(np.mean([np.mean(r[f"cl{c}"]) for r in runs])) for c in (1, 2, 3) if f"cl{c}" in runs[0]
    }
    inference = _mean_of(runs, "task_inference")
    return {
        "method": s.method,
        "benchmark": s.benchmark,
        "scenario": s.scenario,
        "data": source,
        "config": asdict(s),
        "seeds": [r["seed"] for r in runs],
        "final_acc": float(np.mean(final)),
        "final_acc_std": float(np.std(final)),
        "during_acc": float(np.mean([metrics.during_mean(r["matrix"]) for r in runs])),
        "final_acc_per_seed": final,
        "bwt": [metrics.backward_transfer(r["matrix"]) for r in runs],
        "forgetting": [metrics.forgetting(r["matrix"]) for r in runs],
        "scenario_acc": scenario_acc,
        "task_inference_acc": None if inference is None else float(np.mean(inference)),
        "task_confusion": _mean_of(runs, "task_confusion"),
        "acc_matrix": [r["matrix"] for r in runs],
        "per_task": {k: _mean_of(runs, k) for k in ("cl1", "cl2", "cl3") if k in runs[0]},
        "baselines": {
            name: float(np.mean([metrics.final_mean(r["baselines"][name]["matrix"]) for r in runs]))
            for name in runs[0]["baselines"]
        },
        "compression_ratio": runs[0].get("compression_ratio"),
        "train_seconds_per_seed": [r["train_seconds"] for r in runs],
        "seconds": seconds,
        "runs": runs,
    }


def fig4_settings(iters: int | None = None) -> Settings:
    """SplitMNIST CL1 with the paper's settings (target 400-400 with one head per task, chunked
    hypernetwork 10-10, chunks of 42,000, Adam 1e-3, batch 128, beta 0.01, 2000 iterations per task
    unless ``iters``) and 2D task embeddings: von Oswald Fig. 4 (notebooks/04_embedding_maps.ipynb)."""
    return paper_settings("splitmnist", 1, emb_dim=2, iters=iters)


#: Names a user can pass as ``method`` or in ``compare``.
METHOD_NAMES = tuple(METHODS)
