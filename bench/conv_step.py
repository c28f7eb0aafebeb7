"""Images per second of a training step: the generated ResNet-32 against the same ResNet-32 in torch.nn.

    python bench/conv_step.py --out results/conv_step.json [--steps 10] [--batch 32] [--device auto]

Three steps on the same random 32x32 batch (the cost does not depend on pixel values), each
forward, cross-entropy, backward and an Adam step:

- ``plain``: ``hnlab.targets.resnet_nn.TorchResNet`` (nn.Conv2d, nn.BatchNorm2d, nn.Linear);
- ``generated``: the paper's linear chunked hypernetwork (chunks of 7,000, embeddings 32) generates
  the functional ResNet-32's 468,540 weights, task 1 (nothing to protect);
- ``generated_reg``: the same at task 6, the output regularizer with look-ahead over 5 old tasks.

The ratio ``generated / plain`` of seconds per step is the cost of generating the weights (lesson 08,
target at most 1.5). Also times T = 6 networks in one call, forward and backward in training mode:
grouped convolutions (``ResNet.forward``), ``torch.func.vmap`` (``ResNet.forward_vmap``) and a loop.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hnlab.cli import whole_number  # noqa: E402
from hnlab.data import Task  # noqa: E402
from hnlab.data.images import ByteImages  # noqa: E402
from hnlab.device import pick_device, reuse_freed_memory  # noqa: E402
from hnlab.methods import paper_settings  # noqa: E402
from hnlab.methods.conv import ConvHNet  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.targets.resnet_nn import TorchResNet, default_weights  # noqa: E402
from hnlab.train import make_optimizer  # noqa: E402


def timed(steps: int, device, **fns) -> dict[str, float]:
    """Median seconds of each ``fn()`` over ``steps`` rounds after two warm-up rounds; the functions
    take turns within a round, so a busy machine slows them alike."""
    times = {name: [] for name in fns}
    for i in range(steps + 2):
        for name, fn in fns.items():
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if device.type == "cuda":
                torch.cuda.synchronize()
            if i >= 2:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def fake_tasks(n: int, batch: int, device) -> list[Task]:
    x = ByteImages(torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, device=device))
    y = torch.randint(10, (n,), device=device)
    return [Task(f"random {t}", x, y, x, y) for t in range(6)]


def step_times(batch: int, steps: int, device) -> dict:
    s = paper_settings("split_cifar10_100", 1, "hnet", iters=steps + 2, batch_size=batch)
    x = torch.rand(batch, 3, 32, 32, device=device)
    y = torch.randint(10, (batch,), device=device)
    method = ConvHNet(s, device)
    net = TorchResNet(method.tnet).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)

    def plain():
        loss = F.cross_entropy(net(x)[:, :10], y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    hnet_opt = make_optimizer(method.hnet.trainable_parameters(0), method.config(1))

    def generated():
        loss = F.cross_entropy(method.tnet(x, method.weights(0), head=0, stats=0), y)
        hnet_opt.zero_grad(set_to_none=True)
        loss.backward()
        hnet_opt.step()

    out = timed(steps, device, plain=plain, generated=generated)
    tasks = fake_tasks(max(batch * (steps + 2), 64), batch, device)
    start = time.perf_counter()
    method.learn_task(5, tasks, torch.Generator().manual_seed(0))  # iters = steps + 2, 5 old tasks
    out["generated_reg"] = (time.perf_counter() - start) / (steps + 2)
    return out


def batched_times(batch: int, steps: int, device, T: int = 6) -> dict:
    """Seconds of forward + backward of T ResNet-32s on one batch, training mode."""
    s = paper_settings("split_cifar10_100", 1, "hnet")
    tnet = ConvHNet(s, device).tnet.train()
    W = torch.stack([default_weights(tnet) for _ in range(T)]).to(device).requires_grad_()
    x = torch.rand(batch, 3, 32, 32, device=device)

    def run(forward):
        return lambda: forward().square().mean().backward()

    return timed(
        steps,
        device,
        grouped=run(lambda: tnet(x, W)),
        vmap=run(lambda: tnet.forward_vmap(x, W)),
        loop=run(lambda: torch.stack([tnet(x, W[t], stats=t) for t in range(T)])),
    )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/conv_step.json")
    parser.add_argument("--steps", type=whole_number(), default=10)
    parser.add_argument("--batch", type=whole_number(), default=32)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    device = pick_device(args.device)
    reuse_freed_memory()
    torch.manual_seed(0)
    steps = step_times(args.batch, args.steps, device)
    batched = batched_times(args.batch, max(3, args.steps // 2), device)
    results = {
        "batch": args.batch,
        "steps": args.steps,
        "seconds_per_step": steps,
        "images_per_second": {k: args.batch / v for k, v in steps.items()},
        "ratio_generated_to_plain": steps["generated"] / steps["plain"],
        "ratio_generated_reg_to_plain": steps["generated_reg"] / steps["plain"],
        "six_networks_seconds": batched,
        "machine": machine_info(device),
    }
    write_results(args.out, results)
    for key, value in results.items():
        if key != "machine":
            print(f"{key}: {value}")
    return results


if __name__ == "__main__":
    main()
