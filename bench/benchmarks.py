"""Benchmark runs of any registered method with the papers' settings, written as JSON to results/.

    HNLAB_DATA=../shared/data python bench/benchmarks.py --method si --benchmark splitmnist --scenario 2 --seeds 5
    python bench/benchmarks.py --method ewc --scenario 3 --seeds 5 --resume   # continue after a stop
    python bench/benchmarks.py --table     # regenerate results/README.md from results/*.json

The JSON is rewritten after every seed and a checkpoint after every task (``--checkpoint-dir``),
so a stop loses at most one task; see hnlab.experiments.benchmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hnlab.cli import device_choice, parse_param, whole_number  # noqa: E402
from hnlab.data.mnist import load_mnist  # noqa: E402
from hnlab.experiments.benchmarks import check_run, run_benchmark  # noqa: E402
from hnlab.methods import METHODS, paper_settings  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.results_table import write_table  # noqa: E402
from hnlab.train import SAMPLINGS  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", default="hnet", help=f"one of {', '.join(METHODS)}")
    p.add_argument("--benchmark", default="splitmnist", choices=["splitmnist", "permutedmnist"])
    p.add_argument("--scenario", type=int, default=1, choices=[1, 2, 3])
    p.add_argument("--seeds", type=whole_number(1), default=3)
    p.add_argument("--first-seed", type=whole_number(0), default=0)
    p.add_argument("--num-tasks", type=whole_number(0), default=0, help="0: the paper's value")
    p.add_argument("--iters", type=whole_number(0), default=0, help="per task; 0: the paper's value")
    p.add_argument("--beta", type=float, default=0.0, help="hypernetwork methods; 0: the paper's value")
    p.add_argument("--hparam", action="append", type=parse_param, help="the method's own setting, e.g. lam=1e4")
    p.add_argument(
        "--hnet-init", default="", help="pytorch or a hnlab.init method; empty: the authors' xavier_harmonic"
    )
    p.add_argument("--hnet-activation", default="", help="hypernet hidden activation; empty: the authors' script's")
    p.add_argument(
        "--sampling",
        default="epochs",
        choices=SAMPLINGS,
        help="batches: epoch sweeps in a fresh random order (the authors' data handlers) or uniform draws",
    )
    p.add_argument("--compare", default="", help="comma-separated methods run on the same seeds and scenario")
    p.add_argument("--device", type=device_choice, default="auto")
    p.add_argument("--out", default=None, help="JSON path (default results/<benchmark>_cl<scenario>_<method>.json)")
    p.add_argument(
        "--checkpoint-dir", default=str(ROOT / "runs" / "checkpoints" / "bench"), help="a checkpoint per task"
    )
    p.add_argument("--resume", action="store_true", help="continue from the checkpoints of an interrupted run")
    p.add_argument("--table", action="store_true", help="only regenerate results/README.md")
    return p


def checked_run(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """``(settings, compared methods)``, or the parser's one-line error (exit 2) before any data loads."""
    try:
        s = paper_settings(
            args.benchmark,
            args.scenario,
            args.method,
            hparams=dict(args.hparam or []),
            num_tasks=args.num_tasks,
            iters=args.iters,
            beta=args.beta,
            hnet_init=args.hnet_init,
            hnet_activation=args.hnet_activation,
            sampling=args.sampling,
        )
        compare = check_run(args.seeds, args.first_seed, [m for m in args.compare.split(",") if m])
        return s, compare
    except ValueError as err:
        parser.error(str(err))


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table:
        print(write_table(ROOT / "results"))
        return
    s, compare = checked_run(parser, args)
    device = args.device
    data = load_mnist(device=device)
    out = args.out or ROOT / "results" / f"{args.benchmark}_cl{args.scenario}_{args.method}.json"
    start = time.perf_counter()

    def write(results: dict) -> dict:
        results.update(device=str(device), machine=machine_info(device), wall_seconds=time.perf_counter() - start)
        write_results(out, results)
        return results

    results = run_benchmark(
        s,
        data,
        args.seeds,
        device,
        compare,
        progress=True,
        first_seed=args.first_seed,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        on_seed=write,
    )
    write(results)
    print(json.dumps({k: results[k] for k in ("method", "final_acc", "scenario_acc", "during_acc", "baselines")}))
    print(write_table(ROOT / "results"))


if __name__ == "__main__":
    main()
