"""Benchmark lesson 01 at the paper's settings (3 tasks x 4000 iterations).

    python bench/toy1d.py --out runs/bench/toy1d.json [--seeds 0 1 2] [--threads 1]

Writes the lesson's keys (``mse_hnet``, ``mse_multitask``, ``mse_finetune``, ``seconds``,
``device``, ``config``) for the first seed plus ``seconds_per_iter`` (the regularized
hypernetwork run: wall time / total iterations) and, with several seeds, ``per_seed``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from hnlab.cli import device_choice, whole_number  # noqa: E402
from hnlab.experiments.toy import ToyConfig, run_toy1d  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="where to write the JSON")
    parser.add_argument("--seeds", type=whole_number(0), nargs="+", default=[0])
    parser.add_argument(
        "--threads", type=whole_number(1), default=1, help="torch threads (1 is fastest for this tiny model)"
    )
    parser.add_argument("--device", type=device_choice, default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    runs = []
    for seed in args.seeds:
        res = run_toy1d(ToyConfig(seed=seed), device=args.device, progress=False)
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
    first = runs[0]
    out = {**first, "device": res["device"], "config": res["config"], "machine": machine_info(args.device)}
    if len(runs) > 1:
        out["per_seed"] = runs
    write_results(args.out, out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
