"""A markdown table of benchmark results JSON (results/README.md; notebooks/03_benchmarks.ipynb)."""

from __future__ import annotations

import json
from pathlib import Path

HEADER = (
    "| benchmark | trained as | data | hnet init, activation, batches | beta | seeds | iters/task | CL1 "
    "| CL2 (HNET+ENT) | CL3 (HNET+ENT) | during (CL1) | baselines (final, trained scenario) | train s/seed | device |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)
#: Results JSON written before ``hnet_init`` existed used PyTorch's default Linear init, and
#: those written before ``sampling`` existed drew batches with replacement.
OLD_INIT, OLD_SAMPLING = "pytorch", "replacement"


def setting_key(r: dict) -> tuple:
    """What makes two results comparable: the same benchmark, training, data and settings."""
    c = r["config"]
    hnet = f"{c.get('hnet_init', OLD_INIT)}, {c['hnet_activation']}, {c.get('sampling', OLD_SAMPLING)}"
    return (f"{r['benchmark']}-{c['num_tasks']}", r["scenario"], r["data"], hnet, c["beta"], c["iters"])


def table_row(r: dict) -> str:
    acc = r["scenario_acc"]
    base = ", ".join(f"{k} {v:.2f}" for k, v in r.get("baselines", {}).items()) or "-"
    if base != "-" and r.get("baseline_seeds", r["seeds"]) != r["seeds"]:
        seeds = r["baseline_seeds"]
        base += f" (seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))})"
    threads = r.get("threads", [r.get("machine", {}).get("threads", "?")])
    name, scenario, data, hnet, beta, iters = setting_key(r)
    return (
        f"| {name} | CL{scenario} | {data} | {hnet} | {beta:g} | "
        f"{', '.join(map(str, r['seeds']))} | {iters} | {acc['cl1']:.2f} | {acc['cl2']:.2f} | "
        f"{acc['cl3']:.2f} | {r['during_acc']:.2f} | {base} | {_seconds_cell(r)} | "
        f"{r.get('device', '?')} ({', '.join(map(str, threads))} threads) |"
    )


def _seconds_cell(r: dict) -> str:
    """Mean training seconds per seed; the range for pooled rows, whose runs may differ in threads and load."""
    per_seed = r["train_seconds_per_seed"]
    if "threads" in r:  # set by pool()
        return f"{min(per_seed):.0f}-{max(per_seed):.0f}"
    return f"{sum(per_seed) / len(per_seed):.0f}"


def markdown_table(results: list[dict]) -> str:
    """One row per results dict (from ``hnlab.experiments.benchmarks.run_benchmark``)."""
    return "\n".join([HEADER, *(table_row(r) for r in results)])


def pool(results: list[dict]) -> list[dict]:
    """Merge results of the same setting (``setting_key``) run in separate files: means over
    all their seeds (each file's mean weighted by its number of seeds)."""
    groups: dict[tuple, list[dict]] = {}
    for r in results:
        groups.setdefault(setting_key(r), []).append(r)
    return [_merge(group) for group in groups.values()]


def _seed_mean(group: list[dict], value) -> float:
    """Mean of ``value(r)`` over the files of ``group``, each weighted by its number of seeds."""
    weights = [len(r["seeds"]) for r in group]
    return sum(w * value(r) for w, r in zip(weights, group)) / sum(weights)


def _merge(group: list[dict]) -> dict:
    with_baselines = [r for r in group if r.get("baselines")]
    names = with_baselines[0]["baselines"] if with_baselines else {}
    merged = dict(group[0])
    merged.update(
        seeds=sorted(s for r in group for s in r["seeds"]),
        scenario_acc={k: _seed_mean(group, lambda r, k=k: r["scenario_acc"][k]) for k in group[0]["scenario_acc"]},
        during_acc=_seed_mean(group, lambda r: r["during_acc"]),
        baselines={k: _seed_mean(with_baselines, lambda r, k=k: r["baselines"][k]) for k in names},
        baseline_seeds=sorted(s for r in with_baselines for s in r["seeds"]),
        train_seconds_per_seed=[t for r in group for t in r["train_seconds_per_seed"]],
        threads=sorted({r.get("machine", {}).get("threads", "?") for r in group}, key=str),
    )
    return merged


PROTOCOL_HEADER = (
    "| benchmark | data | hnet init, activation, batches | beta | iters/task | CL1 (multi-head) "
    "| CL2 (shared head, HNET+ENT) | CL3 (multi-head, HNET+ENT) |\n|---|---|---|---|---|---|---|---|"
)


def protocol_rows(pooled: list[dict]) -> list[str]:
    """The authors' scripts train CL1 and CL3 with a head per task and CL2 with one shared head:
    one row per setting with CL1 and CL3 from the multi-head runs, CL2 from the shared-head runs."""
    by_key = {setting_key(r): r for r in pooled}
    rows = []
    for (name, scenario, data, hnet, beta, iters), multi in by_key.items():
        if scenario != 1:
            continue
        shared = by_key.get((name, 2, data, hnet, beta, iters))
        cl2 = f"{shared['scenario_acc']['cl2']:.2f} ({_seed_list(shared)})" if shared else "-"
        acc = multi["scenario_acc"]
        rows.append(
            f"| {name} | {data} | {hnet} | {beta:g} | {iters} | {acc['cl1']:.2f} ({_seed_list(multi)}) | "
            f"{cl2} | {acc['cl3']:.2f} ({_seed_list(multi)}) |"
        )
    return rows


def _seed_list(r: dict) -> str:
    seeds = r["seeds"]
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return f"seeds {seeds[0]}-{seeds[-1]}" if contiguous and len(seeds) > 2 else f"seeds {', '.join(map(str, seeds))}"


def write_table(folder) -> Path:
    """Regenerate ``folder/README.md`` from every ``folder/*.json``."""
    folder = Path(folder)
    loaded = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    results = [r for r in loaded if "scenario_acc" in r]  # other benchmarks (toy, cl_step) live beside them
    pooled = pool(results)
    text = (
        "# Measured benchmark results\n\nGenerated by `python bench/benchmarks.py --table` from the JSON "
        "files here; accuracies are task-averaged test accuracy (%) after the last task, mean over seeds. "
        "Paper (von Oswald et al. 2020, Table 1): SplitMNIST 99.79 / 87.01 / 69.48, "
        "PermutedMNIST-10 97.57 / 92.80 / 91.75 (CL1 / CL2 / CL3).\n\n"
        "## As the authors' scripts report it\n\nCL1 and CL3 from runs trained with a head per task, "
        "CL2 from runs trained with one shared head (`--scenario 2`), as in the authors' scripts; "
        "mean over the seeds in brackets. Batches: `epochs` sweeps through each task's data in a fresh "
        "random order every epoch (the authors' data handlers), `replacement` draws uniformly.\n\n"
        + "\n".join([PROTOCOL_HEADER, *protocol_rows(pooled)])
        + "\n\n"
        "## All seeds of each setting\n\n" + markdown_table(pooled) + "\n\n"
        "## One row per results file\n\n" + markdown_table(results) + "\n"
    )
    (folder / "README.md").write_text(text)
    return folder / "README.md"
