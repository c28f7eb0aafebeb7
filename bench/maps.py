"""Time the embedding-space map of notebooks/04_embedding_maps.ipynb (issue 5 speed target).

Trains the Fig. 4 SplitMNIST model briefly (or loads ``--checkpoint``), then times only
the map: a ``--resolution`` x ``--resolution`` grid for all five tasks on ``--max-test``
test images each. Writes JSON to ``--out``.

    .venv/bin/python bench/maps.py --out runs/bench/maps.json
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict

import torch

from hnlab.checkpoint import load_checkpoint, save_checkpoint
from hnlab.cli import device_choice, whole_number
from hnlab.data.mnist import load_mnist
from hnlab.data.sequences import split_mnist
from hnlab.experiments.benchmarks import fig4_settings, make_hnet, make_tnet, train_config
from hnlab.maps import all_task_maps, extent_around, learned_points
from hnlab.results import machine_info, write_results
from hnlab.train import train_continual


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--resolution", type=whole_number(2), default=25)
    ap.add_argument("--max-test", type=whole_number(1), default=500)
    ap.add_argument("--chunk-size", type=whole_number(1), default=25, help="grid points per hypernet/target pass")
    ap.add_argument("--train-iters", type=whole_number(1), default=300, help="iterations per task before timing")
    ap.add_argument("--threads", type=whole_number(1), default=2)
    ap.add_argument("--checkpoint", default="runs/bench/maps_fig4.pt")
    ap.add_argument("--device", type=device_choice, default="cpu")
    ap.add_argument("--out", default="runs/bench/maps.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = args.device
    data = load_mnist(device=device)
    tasks = split_mnist(data, device=device)
    cfg = fig4_settings(iters=args.train_iters)
    tnet = make_tnet(cfg)
    hnet = make_hnet(cfg, tnet).to(device)
    config = {"fig4": asdict(cfg), "tnet": tnet.config(), "data": data.source}
    try:
        load_checkpoint(args.checkpoint, hnet, config)
        trained = "loaded"
    except (FileNotFoundError, ValueError):
        result = train_continual(hnet, tnet, tasks, train_config(cfg), desc="train (not timed)")
        save_checkpoint(args.checkpoint, hnet, config, {"matrix": result.matrix})
        trained = f"trained {result.seconds:.0f}s"
    points, _ = learned_points(hnet)
    x_range, y_range = extent_around(points, margin=1.0)
    start = time.perf_counter()
    maps = all_task_maps(
        hnet,
        tnet,
        tasks,
        x_range=x_range,
        y_range=y_range,
        resolution=args.resolution,
        chunk_size=args.chunk_size,
        max_test=args.max_test,
    )
    seconds = time.perf_counter() - start
    own = [float(m.values.max()) for m in maps]
    print(
        f"{args.resolution}x{args.resolution} map x {len(tasks)} tasks x {args.max_test} test images: "
        f"{seconds:.1f} s on {args.threads} threads ({trained}; data {data.source})"
    )
    write_results(
        args.out,
        {
            "seconds": seconds,
            "grid_points": args.resolution**2 * len(tasks),
            "per_task_seconds": [m.seconds for m in maps],
            "max_accuracy": own,
            "config": vars(args) | {"fig4": asdict(cfg)},
            "data": data.source,
            "machine": machine_info(device),
        },
    )


if __name__ == "__main__":
    main()
