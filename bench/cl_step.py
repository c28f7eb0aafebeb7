"""Seconds per training step in the PermutedMNIST setting, with 0, 1, 10 and 100 old tasks.

    python bench/cl_step.py --out results/cl_step.json [--steps 20] [--plain]
    python bench/cl_step.py --method lstm_hnet --out results/cl_step_lstm_hnet.json
    python bench/cl_step.py --method hypermask --hparam chunk=78000 --out results/cl_step_hypermask_chunked.json

``--method`` (default ``hnet``) times any registered method's ``learn_task`` the same way: the
LSTM hypernetworks (``lstm_hnet``, Gram route), IWR (``hnet_iwr``, ``lstm_hnet_iwr``: random
Fisher rows for the old tasks, the plain batched route), GROW (``lstm_grow``: built with one set
per task, so 100 old tasks hold 101 sets, about 0.8 GB).

Paper's chunked hypernet (25-25 ELU, chunk 78,000, task emb 24, chunk emb 8), 1000-1000
target, batch 128, look-ahead on. Every measurement uses the same networks: one shared
10-way head and embeddings for the largest task count, so that only the number of
protected tasks changes (a multi-head target would grow by a head per task). The
regularizer is hnlab.regularizers.fast (``--plain``: the batched plain formula). Also times
HNET+ENT over the PermutedMNIST-10 test sets. Random inputs stand in for images: the cost of a
step does not depend on pixel values.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hnlab.cli import parse_param, whole_number, whole_numbers  # noqa: E402
from hnlab.data import Task  # noqa: E402
from hnlab.device import reuse_freed_memory  # noqa: E402
from hnlab.experiments.benchmarks import make_hnet, make_tnet, paper_settings, train_config  # noqa: E402
from hnlab.infer import scenario_accuracies  # noqa: E402
from hnlab.methods import METHODS  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.train import train_task  # noqa: E402


def fake_task(n_train: int, n_test: int) -> Task:
    return Task(
        "random",
        torch.rand(n_train, 1024),
        torch.randint(10, (n_train,)),
        torch.rand(n_test, 1024),
        torch.randint(10, (n_test,)),
    )


def step_seconds(
    old_tasks: int, steps: int, plain: bool, num_tasks: int, method: str = "hnet", hparams: dict | None = None
) -> float:
    """Median over 3 repeats of the seconds per step while learning task ``old_tasks`` (tasks
    before it protected): a ``steps + 1``-step run minus a 1-step run, so that the per-task
    snapshot and optimizer set-up are not counted."""
    if method != "hnet":
        return method_step_seconds(method, old_tasks, steps, plain, num_tasks, hparams or {})
    s = paper_settings("permutedmnist", 2, num_tasks=num_tasks)
    tnet = make_tnet(s)
    hnet = make_hnet(s, tnet)
    cfg = train_config(s)
    cfg.fast_reg = not plain
    tasks = [fake_task(1024, 10)] * (old_tasks + 1)

    def run(iters: int) -> float:
        cfg.iters = iters
        start = time.perf_counter()
        train_task(hnet, tnet, tasks, old_tasks, cfg)
        return time.perf_counter() - start

    run(2)  # warm-up
    return statistics.median((run(steps + 1) - run(1)) / steps for _ in range(3))


def method_step_seconds(method: str, old_tasks: int, steps: int, plain: bool, num_tasks: int, hparams: dict) -> float:
    """``step_seconds`` for any registered method, through its ``learn_task``."""
    tasks_built = old_tasks + 1 if method == "lstm_grow" else num_tasks
    s = paper_settings("permutedmnist", 2, method, hparams=hparams, num_tasks=tasks_built)
    learner = METHODS[method](s)
    if hasattr(learner, "iwr"):  # IWR needs a Fisher per old task
        for t in range(old_tasks):
            learner.iwr.add(t, torch.rand(learner.tnet.num_params))
    if hasattr(learner, "config"):  # the HNET-style methods; HyperMask picks its route by its chunking
        learner.config.fast_reg = not plain
    tasks = [fake_task(1024, 10)] * (old_tasks + 1)
    generator = torch.Generator().manual_seed(0)

    def run(iters: int) -> float:
        if hasattr(learner, "config"):
            learner.config.iters = iters
        else:  # HyperMask reads its settings
            learner.settings = replace(learner.settings, iters=iters)
        start = time.perf_counter()
        learner.learn_task(old_tasks, tasks, generator)
        return time.perf_counter() - start

    run(2)  # warm-up
    return statistics.median((run(steps + 1) - run(1)) / steps for _ in range(3))


def baseline_ratios(baseline: str, timed: dict, base: dict) -> dict:
    """``--baseline``: its seconds per step with the same old-task counts and method / baseline."""
    if not baseline:
        return {}
    return {
        "baseline": baseline,
        "baseline_step_seconds": {str(k): v for k, v in base.items()},
        "ratio_to_baseline": {str(k): timed[k] / base[k] for k in timed},
    }


def regularizer_name(method: str, plain: bool, hparams: dict) -> str:
    if method == "hypermask":
        return "fast (Gram), chunked mask generator" if hparams.get("chunk") else "plain (the authors' full generator)"
    if method == "lstm_grow":
        return "none (GROW)"
    if method.endswith("_iwr"):
        return "plain, Fisher-weighted (IWR)"
    return "plain" if plain else "fast (Gram)"


def ent_eval_seconds(n_test: int = 10000) -> float:
    """HNET+ENT (all 10 networks on every test image) over 10 test sets of ``n_test`` images."""
    s = paper_settings("permutedmnist", 3)
    tnet = make_tnet(s)
    hnet = make_hnet(s, tnet)
    tasks = [fake_task(1, n_test)] * 10
    start = time.perf_counter()
    scenario_accuracies(hnet, tnet, tasks)
    return time.perf_counter() - start


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--method", default="hnet", choices=list(METHODS), help="the registered method to time")
    p.add_argument("--hparam", action="append", type=parse_param, help="the method's own setting, e.g. chunk=78000")
    p.add_argument("--baseline", default="", help="a method timed in the same run, alternating; ratios saved")
    p.add_argument("--steps", type=whole_number(1), default=20)
    p.add_argument("--old", type=whole_numbers(0), default="0,1,10,100", help="comma-separated numbers of old tasks")
    p.add_argument("--ent-test-size", type=whole_number(1), default=10000)
    p.add_argument("--plain", action="store_true", help="plain batched regularizer instead of the Gram route")
    p.add_argument(
        "--glibc-default",
        action="store_true",
        help="leave glibc's malloc settings (no hnlab.device.reuse_freed_memory)",
    )
    args = p.parse_args(argv)
    reused = False if args.glibc_default else reuse_freed_memory()
    counts, hparams = args.old, dict(args.hparam or [])
    if args.baseline and args.baseline not in METHODS:
        p.error(f"unknown baseline {args.baseline!r}; registered methods: {', '.join(METHODS)}")
    timed, base = {}, {}
    for k in counts:  # the baseline right after the method: both see the same machine load
        timed[k] = step_seconds(k, args.steps, args.plain, max(counts) + 1, args.method, hparams)
        if args.baseline:
            base[k] = step_seconds(k, args.steps, args.plain, max(counts) + 1, args.baseline)
    result = {
        "method": args.method,
        "hparams": hparams,
        "step_seconds": {str(k): v for k, v in timed.items()},
        **baseline_ratios(args.baseline, timed, base),
        "ent_eval_seconds": ent_eval_seconds(args.ent_test_size),
        "ent_test_size": args.ent_test_size,
        "regularizer": regularizer_name(args.method, args.plain, hparams),
        "steps": args.steps,
        "reuse_freed_memory": reused,
        "machine": machine_info(torch.device("cpu")),
    }
    write_results(args.out, result)
    print(result)


if __name__ == "__main__":
    main()
