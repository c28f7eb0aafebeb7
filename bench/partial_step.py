"""Seconds per training step of partial hypernetworks and latent replay at freeze depths k = 0..4.

    python bench/partial_step.py --out results/partial_step.json [--steps 5] [--batch 32] [--device auto]

Hemati et al. (Table 2, Sec. 4.3) find HN-2 about half as slow as the full hypernetwork HN-0: the
frozen stem and first k stages cost one forward pass and no backward, and fewer weights are
generated. Each method runs experience 1 for two steps on random 32x32 images (split
Fashion-MNIST-32 settings: slim ResNet-18, 2 classes per experience), freezes, and then the timed
step is one of experience 2: forward, cross-entropy, (for ``partial_hnet``) the first-order
look-ahead with the output regularizer over the old task, (for ``latent_replay``) a replayed batch
of stored features, and an Adam step. All ten steps take turns within a round (``conv_step.timed``).
Lesson 09 reads the ratio ``HN-2 / HN-0``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conv_step import fake_tasks, timed  # noqa: E402

from hnlab.cli import whole_number  # noqa: E402
from hnlab.device import pick_device, reuse_freed_memory  # noqa: E402
from hnlab.methods import method_class, paper_settings  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.targets.partial import FREEZE_DEPTHS  # noqa: E402
from hnlab.train import make_optimizer  # noqa: E402

METHODS = ("partial_hnet", "latent_replay")


def ready_method(name: str, k: int, batch: int, device):
    """``name`` at depth k after experience 1 (two steps), set up for experience 2; and its step."""
    s = paper_settings("split_fashion32", 1, name, {"freeze_depth": k}, iters=2, batch_size=batch)
    method = method_class(name, s.benchmark)(s, device)
    tasks = fake_tasks(4 * batch, batch, device)
    for t in tasks:
        t.y_train, t.y_test = t.y_train % 2, t.y_test % 2
    g = torch.Generator().manual_seed(0)
    method.learn_task(0, tasks, g)
    method.end_task(0, tasks)
    method.opt = make_optimizer(method.rest_parameters(1), method.config(1))
    method.begin_task(1)
    x, y = tasks[1].x_train[:batch], tasks[1].y_train[:batch]
    return method, lambda: method.step(1, x, y, g)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/partial_step.json")
    parser.add_argument("--steps", type=whole_number(), default=5)
    parser.add_argument("--batch", type=whole_number(), default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    reuse_freed_memory()
    torch.manual_seed(0)
    methods, steps = {}, {}
    for name in METHODS:
        for k in FREEZE_DEPTHS:
            key = f"{'HN' if name == 'partial_hnet' else 'LR'}-{k}"
            methods[key], steps[key] = ready_method(name, k, args.batch, device)
    seconds = timed(args.steps, device, **steps)
    results = {
        "batch": args.batch,
        "steps": args.steps,
        "seconds_per_step": seconds,
        "ratio_hn2_to_hn0": seconds["HN-2"] / seconds["HN-0"],
        "ratio_lr2_to_lr0": seconds["LR-2"] / seconds["LR-0"],
        "hnet_params": {
            key: sum(p.numel() for p in m.hnet.parameters()) for key, m in methods.items() if key[0] == "H"
        },
        "generated_params": {key: m.split.num_rest for key, m in methods.items() if key[0] == "H"},
        "machine": machine_info(device),
    }
    write_results(args.out, results)
    print(json.dumps({k: v for k, v in results.items() if k != "machine"}, indent=1))
    return results


if __name__ == "__main__":
    main()
