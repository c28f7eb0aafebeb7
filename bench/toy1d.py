"""Benchmark lesson 01 at the paper's settings (3 tasks x 4000 iterations).

    python bench/toy1d.py --out results/toy1d.json --seeds 0 1 2 3 4 5 6 7 8 9 [--batched] [--threads 1]

Without ``--batched``: every seed runs ``run_toy1d`` (hypernetwork, multitask, fine-tuning) one
after the other; writes the lesson's keys for the first seed, ``seconds_per_iter`` (the
regularized hypernetwork: wall time / total iterations) and ``per_seed``.

With ``--batched``: all seeds' regularized hypernetworks (and their fine-tuned twins, beta 0)
train at once, seeds as a batch axis (``hnlab.experiments.toy_seeds``), and one seed runs
unbatched (``train_continual``) in the same process for the timing; writes ``per_seed``
(final MSE per task), ``batched_seconds``, ``one_seed_seconds`` and ``lost`` (seeds with a
final MSE above 0.04).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hnlab.cli import device_choice, whole_number  # noqa: E402
from hnlab.experiments.toy import ToyConfig, run_toy1d, toy_models, toy_tasks  # noqa: E402
from hnlab.experiments.toy_seeds import run_toy_seeds  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.train import train_continual  # noqa: E402

LOST = 0.04  # a task whose final test MSE is above this counts as lost


def unbatched(args) -> dict:
    runs = []
    for seed in args.seeds:
        res = run_toy1d(ToyConfig(seed=seed, iters=args.iters), device=args.device, progress=False)
        cfg = res["config"]
        res["seconds_per_iter"] = res["hnet_seconds"] / (3 * cfg["iters"])
        runs.append(
            {
                k: res[k]
                for k in ("mse_hnet", "mse_multitask", "mse_finetune", "seconds", "hnet_seconds", "seconds_per_iter")
            }
            | {"seed": seed}
        )
        print(
            f"seed {seed}: hnet {res['hnet_seconds']:.1f} s ({res['seconds_per_iter'] * 1e3:.3f} ms/iter); "
            f"MSE hnet {[round(v, 4) for v in res['mse_hnet']]} finetune {[round(v, 3) for v in res['mse_finetune']]}",
            flush=True,
        )
    out = {**runs[0], "device": res["device"], "config": res["config"]}
    if len(runs) > 1:
        out["per_seed"] = runs
    out["lost"] = [r["seed"] for r in runs if max(r["mse_hnet"]) > LOST]
    return out


def batched(args) -> dict:
    cfg = ToyConfig(iters=args.iters)
    one = args.seeds[0]
    hnet, tnet = toy_models(cfg, one, args.device)
    start = time.perf_counter()
    single = train_continual(hnet, tnet, toy_tasks(cfg, args.device), cfg.train_config(), seed=one, progress=False)
    one_seconds = time.perf_counter() - start
    print(f"one seed unbatched (seed {one}): {one_seconds:.1f} s", flush=True)
    hnet_runs = run_toy_seeds(cfg, args.seeds, device=args.device)
    print(f"{len(args.seeds)} seeds batched: {hnet_runs['seconds']:.1f} s", flush=True)
    finetune = run_toy_seeds(cfg, args.seeds, beta=0.0, device=args.device)
    per_seed = [
        {"seed": s, "mse_hnet": f, "during_hnet": d, "mse_finetune": g}
        for s, f, d, g in zip(args.seeds, hnet_runs["final"], hnet_runs["during"], finetune["final"])
    ]
    for r in per_seed:
        print(f"seed {r['seed']}: MSE hnet {[round(v, 4) for v in r['mse_hnet']]}", flush=True)
    return {
        "mse_hnet": per_seed[0]["mse_hnet"],
        "mse_finetune": per_seed[0]["mse_finetune"],
        "per_seed": per_seed,
        "lost": [r["seed"] for r in per_seed if max(r["mse_hnet"]) > LOST],
        "lost_threshold": LOST,
        "batched_seconds": hnet_runs["seconds"],
        "batched_finetune_seconds": finetune["seconds"],
        "one_seed_seconds": one_seconds,
        "one_seed": one,
        "one_seed_mse_hnet": single.final,
        "seconds": hnet_runs["seconds"],
        "seconds_per_iter": hnet_runs["seconds"] / (3 * cfg.iters),
        "device": str(args.device),
        "config": cfg.to_dict(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the JSON")
    parser.add_argument("--seeds", type=whole_number(0), nargs="+", default=[0])
    parser.add_argument("--iters", type=whole_number(1), default=ToyConfig().iters, help="iterations per task")
    parser.add_argument("--batched", action="store_true", help="all seeds at once (seeds as a batch axis)")
    parser.add_argument(
        "--threads", type=whole_number(1), default=1, help="torch threads (1 is fastest for this tiny model)"
    )
    parser.add_argument("--device", type=device_choice, default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = batched(args) if args.batched else unbatched(args)
    out |= {"mode": "batched" if args.batched else "one seed at a time", "threads": args.threads}
    out["machine"] = machine_info(args.device)
    write_results(args.out, out)
    print(f"lost (final MSE > {LOST}): seeds {out['lost']}; wrote {args.out}")


if __name__ == "__main__":
    main()
