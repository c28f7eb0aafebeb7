"""What hypernetwork-protected replay costs per step (notebooks/07_replay.ipynb).

    python bench/replay.py --out results/replay_step.json [--benchmark splitmnist] [--steps 20]

Times, in one run on the same networks (the authors' settings for the benchmark, random images in
place of MNIST: a step's cost does not depend on pixel values): replay of every old task as ONE
decoder call with ``W [T, P]`` against one call per old task (4 and 9 old tasks); a VAE step with
the output regularizer and look-ahead against one without old tasks; HNET+R's classifier step with
replay against a plain fine-tuning step. Medians of 3 repeats; ratios are what to compare.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hnlab.cli import whole_number  # noqa: E402
from hnlab.data import Task  # noqa: E402
from hnlab.methods import BENCHMARKS, METHODS, paper_settings  # noqa: E402
from hnlab.replay import make_vae, replay_batch, train_vae_task  # noqa: E402
from hnlab.replay.vae import ReplayVAE  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.train import TrainConfig  # noqa: E402


def median_seconds(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def sampling_seconds(vae: ReplayVAE, old: int, batch: int, steps: int, rounds: int = 7) -> dict:
    """Seconds per replay batch of ``old`` tasks: one call against a loop over the tasks, the two
    alternated ``rounds`` times after a warm-up (medians), so that load on the machine hits both."""
    W = vae.hnet(list(range(old))).detach()
    n = -(-batch // old)
    one = lambda: [replay_batch(vae, W, batch) for _ in range(steps)]
    loop = lambda: [[vae.sample([t], n, W=W[t : t + 1]) for t in range(old)] for _ in range(steps)]
    one(), loop()
    times = {"one": [], "loop": []}
    for _ in range(rounds):
        for name, fn in (("one", one), ("loop", loop)):
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) / steps)
    one_s, loop_s = statistics.median(times["one"]), statistics.median(times["loop"])
    return {"old_tasks": old, "one_call_s": one_s, "loop_s": loop_s, "loop_over_one": loop_s / one_s}


def vae_step_seconds(vae: ReplayVAE, task: Task, task_id: int, s, steps: int) -> float:
    """Seconds per VAE step on task ``task_id`` (its old tasks protected): ``steps + 1`` steps minus 1."""
    run = lambda iters: train_vae_task(vae, task, task_id, TrainConfig(iters=iters, batch_size=128, lr=s.lr, beta=0.01))
    return (median_seconds(lambda: run(steps + 1)) - median_seconds(lambda: run(1))) / steps


def classifier_step_seconds(method: str, s, tasks: list[Task], task_id: int, steps: int) -> float:
    """Seconds per classifier step of ``method`` (``hnet_r`` or ``finetune_target``) on task ``task_id``."""
    model = METHODS[method](paper_settings(s.benchmark, 3, method, iters=steps + 1))
    model.learn_replay = lambda *a: None  # the classifier's steps only
    model.config.iters = steps + 1
    full = median_seconds(lambda: model.learn_task(task_id, tasks, torch.Generator().manual_seed(0)))
    model.config.iters = 1
    one = median_seconds(lambda: model.learn_task(task_id, tasks, torch.Generator().manual_seed(0)))
    return (full - one) / steps


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--benchmark", default="splitmnist", choices=BENCHMARKS)
    parser.add_argument("--steps", type=whole_number(1), default=20)
    parser.add_argument("--out", default="runs/bench/replay_step.json")
    args = parser.parse_args(argv)
    s = paper_settings(args.benchmark, 3, "hnet_r")
    T = s.num_tasks
    vae = make_vae(args.benchmark, "hnet_r", s.in_features, T)
    task = Task(
        "random",
        torch.rand(6000, s.in_features),
        torch.randint(2, (6000,)),
        torch.rand(10, s.in_features),
        torch.randint(2, (10,)),
    )
    tasks = [task] * T
    sampling = [sampling_seconds(vae, old, s.batch_size, args.steps) for old in sorted({1, T - 1})]
    vae_steps = {f"{t}_old": vae_step_seconds(vae, task, t, s, args.steps) for t in (0, T - 1)}
    classifier = {m: classifier_step_seconds(m, s, tasks, T - 1, args.steps) for m in ("finetune_target", "hnet_r")}
    path = write_results(
        args.out,
        {
            "benchmark": args.benchmark,
            "steps": args.steps,
            "sampling": sampling,
            "vae_step_s": vae_steps,
            "classifier_step_s": classifier,
            "machine": machine_info(torch.device("cpu")),
        },
    )
    print(
        f"replay of {T - 1} old tasks: one call {sampling[-1]['one_call_s'] * 1e3:.2f} ms, "
        f"a loop {sampling[-1]['loop_s'] * 1e3:.2f} ms ({sampling[-1]['loop_over_one']:.1f}x)"
    )
    print(
        f"VAE step: {vae_steps['0_old'] * 1e3:.1f} ms without old tasks, {vae_steps[f'{T - 1}_old'] * 1e3:.1f} ms with "
        f"{T - 1} protected; classifier step: fine-tuning {classifier['finetune_target'] * 1e3:.1f} ms, "
        f"HNET+R with replay {classifier['hnet_r'] * 1e3:.1f} ms"
    )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
