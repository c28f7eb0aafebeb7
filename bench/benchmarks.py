"""Full benchmark runs with the paper's settings, written as JSON to results/.

    HNLAB_DATA=../shared/data python bench/benchmarks.py --benchmark splitmnist --scenario 1 --seeds 3
    python bench/benchmarks.py --table     # regenerate results/README.md from results/*.json

One hypernetwork run per seed gives CL1, CL2 and CL3 (HNET+ENT); see hnlab.experiments.benchmarks.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hnlab.cli import device_choice, whole_number  # noqa: E402
from hnlab.data.mnist import load_mnist  # noqa: E402
from hnlab.experiments.benchmarks import BASELINES, check_run, paper_settings, run_benchmark  # noqa: E402
from hnlab.results import machine_info, write_results  # noqa: E402
from hnlab.results_table import write_table  # noqa: E402
from hnlab.train import SAMPLINGS  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--benchmark", default="splitmnist", choices=["splitmnist", "permutedmnist"])
    p.add_argument("--scenario", type=int, default=1, choices=[1, 2, 3])
    p.add_argument("--seeds", type=whole_number(1), default=3)
    p.add_argument("--first-seed", type=whole_number(0), default=0)
    p.add_argument("--num-tasks", type=whole_number(0), default=0, help="0: the paper's value")
    p.add_argument("--iters", type=whole_number(0), default=0, help="per task; 0: the paper's value")
    p.add_argument("--beta", type=float, default=0.0, help="0: the paper's value")
    p.add_argument(
        "--hnet-init", default="", help="pytorch or a hnlab.init method name; empty: the authors' xavier_harmonic"
    )
    p.add_argument(
        "--hnet-activation", default="", help="hypernet hidden-layer activation; empty: the authors' script's"
    )
    p.add_argument(
        "--sampling",
        default="epochs",
        choices=SAMPLINGS,
        help="batches: epoch sweeps in a fresh random order (the authors' data handlers) or uniform draws",
    )
    p.add_argument("--baselines", default="", help=f"comma-separated subset of {','.join(BASELINES)}")
    p.add_argument("--device", type=device_choice, default="auto")
    p.add_argument("--out", default=None, help="JSON path (default results/<benchmark>_cl<scenario>.json)")
    p.add_argument("--table", action="store_true", help="only regenerate results/README.md")
    return p


def checked_run(parser: argparse.ArgumentParser, args: argparse.Namespace):
    """``(settings, baselines)``, or the parser's one-line error (exit 2) before any data loads."""
    try:
        s = paper_settings(
            args.benchmark,
            args.scenario,
            num_tasks=args.num_tasks,
            iters=args.iters,
            beta=args.beta,
            hnet_init=args.hnet_init,
            hnet_activation=args.hnet_activation,
            sampling=args.sampling,
        )
        baselines = check_run(args.seeds, args.first_seed, [b for b in args.baselines.split(",") if b])
        return s, baselines
    except ValueError as err:
        parser.error(str(err))


def main(argv=None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.table:
        print(write_table(ROOT / "results"))
        return
    s, baselines = checked_run(parser, args)
    device = args.device
    data = load_mnist(device=device)
    start = time.perf_counter()
    results = run_benchmark(s, data, args.seeds, device, baselines, progress=True, first_seed=args.first_seed)
    results.update(device=str(device), machine=machine_info(device), wall_seconds=time.perf_counter() - start)
    out = args.out or ROOT / "results" / f"{args.benchmark}_cl{args.scenario}.json"
    write_results(out, results)
    print(json.dumps({k: results[k] for k in ("final_acc", "scenario_acc", "during_acc", "baselines", "seconds")}))
    print(write_table(ROOT / "results"))


if __name__ == "__main__":
    main()
