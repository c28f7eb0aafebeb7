"""Markdown tables of benchmark results JSON (results/README.md; notebooks/03_benchmarks.ipynb).

``method_rows``: one row per method and benchmark, CL1 / CL2 / CL3 next to the papers' numbers,
pooled over every file of the method's paper settings. The HNET sections below it keep every
setting that was tried. ``write_table`` regenerates the file and keeps what follows
``HAND_WRITTEN`` (investigations, timings, the toy) as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from . import metrics
from .paired import paired_section

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


HAND_WRITTEN = "<!-- Generated above; everything below this line is kept as written. -->\n"

#: Task-averaged accuracy after the last task, CL1 / CL2 / CL3, as the papers report it.
PAPER_ROWS = {
    ("hnet", "splitmnist"): (99.79, 87.01, 69.48, "von Oswald T1, HNET+ENT"),
    ("hnet", "permutedmnist"): (97.57, 92.80, 91.75, "von Oswald T1, HNET+ENT"),
    ("online_ewc", "splitmnist"): (99.12, 64.32, 19.96, "von Oswald T1 (van de Ven & Tolias)"),
    ("online_ewc", "permutedmnist"): (95.96, 94.42, 33.88, "von Oswald T1 (van de Ven & Tolias)"),
    ("si", "splitmnist"): (99.09, 65.36, 19.99, "von Oswald T1 (van de Ven & Tolias)"),
    ("si", "permutedmnist"): (94.75, 95.33, 29.31, "von Oswald T1 (van de Ven & Tolias)"),
    ("ewc", "splitmnist"): (98.64, 63.95, 20.10, "Chandra T1 (van de Ven & Tolias)"),
    ("ewc", "permutedmnist"): (94.74, 94.31, 25.04, "Chandra T1 (van de Ven & Tolias)"),
    ("hnet_iwr", "splitmnist"): (99.79, 88.51, 71.90, "Chandra T1"),
    ("hnet_iwr", "permutedmnist"): (97.60, 93.90, 92.15, "Chandra T1"),
    ("lstm_hnet", "splitmnist"): (99.82, 89.50, 71.31, "Chandra T1"),
    ("lstm_hnet", "permutedmnist"): (97.65, 93.11, 92.10, "Chandra T1"),
    ("lstm_hnet_iwr", "splitmnist"): (99.85, 90.17, 71.54, "Chandra T1"),
    ("lstm_hnet_iwr", "permutedmnist"): (97.74, 94.26, 92.21, "Chandra T1"),
    ("lstm_grow", "splitmnist"): (99.85, 97.11, 83.21, "Chandra T1"),
    ("lstm_grow", "permutedmnist"): (97.88, 95.46, 92.23, "Chandra T1"),
    ("hnet_r", "splitmnist"): (99.83, 98.00, 95.30, "von Oswald T1, HNET+R"),
    ("hnet_r", "permutedmnist"): (97.87, 97.60, 97.76, "von Oswald T1, HNET+R"),
    ("hnet_tir", "splitmnist"): (99.79, 94.43, 89.59, "von Oswald T1, HNET+TIR"),
    ("hnet_tir", "permutedmnist"): (97.57, 97.58, 97.59, "von Oswald T1, HNET+TIR"),
}
#: Scenarios a method trains exactly as in CL1, read from its CL1 runs' entropy scores when it has no runs of
#: its own there: every task-conditioned generator keeps a head per task for CL3; HyperMask has one shared head.
FROM_CL1_RUNS = {
    "hnet": (3,),
    "hnet_iwr": (3,),
    "lstm_hnet": (3,),
    "lstm_hnet_iwr": (3,),
    "lstm_grow": (3,),
    "hypermask": (2, 3),
}
#: Settings that decide whether a results file ran a method with the papers' settings.
SHARED_KEYS = ("num_tasks", "iters", "lr", "batch_size", "target_hidden", "sampling")
HNET_KEYS = ("beta", "hnet_init", "hnet_activation", "hnet_hidden", "chunk_size", "emb_dim", "chunk_emb_dim")
METHODS_HEADER = (
    "| method | benchmark | CL1 | CL2 | CL3 | paper CL1 / CL2 / CL3 | during (CL1 / CL2 / CL3) "
    "| BWT (CL1 / CL2 / CL3) | forgetting (CL1 / CL2 / CL3) | seeds | train s/seed |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _method(r: dict) -> str:
    return r.get("method", "hnet")


def is_paper_setting(r: dict) -> bool:
    """Whether ``r`` ran its method with the papers' settings (``hnlab.methods.paper_settings``)."""
    from .methods import paper_settings

    paper = paper_settings(r["benchmark"], r["scenario"], _method(r)).__dict__
    c = {"sampling": OLD_SAMPLING, "hnet_init": OLD_INIT, "hparams": {}, **r["config"]}
    keys = SHARED_KEYS + (HNET_KEYS if "hnet" in _method(r) else ())
    # a file written before a method gained a setting ran that setting's default
    return all(_same(c.get(k), paper[k]) for k in keys) and {**paper["hparams"], **c["hparams"]} == paper["hparams"]


def _same(a, b) -> bool:
    return list(a) == list(b) if isinstance(b, tuple) else a == b


def _cell(values: list[float], fmt: str = ".2f") -> str:
    return "-" if not values else f"{np.mean(values):{fmt}}"


def method_rows(results: list[dict]) -> list[str]:
    """One row per (method, benchmark) over every file with the papers' settings, all seeds pooled."""
    chosen = [r for r in results if is_paper_setting(r)]
    keys = sorted({(_method(r), r["benchmark"]) for r in chosen}, key=lambda k: (k[1], k[0]))
    return [
        _method_row(method, bench, [r for r in chosen if (_method(r), r["benchmark"]) == (method, bench)])
        for method, bench in keys
    ]


def _scenario_runs(group: list[dict], scenario: int) -> tuple[list[float], list[list], list[float]]:
    """Final accuracies, score matrices and seconds of every seed trained in ``scenario``. HNET's CL3
    falls back to the CL1 runs' entropy scores (the same training: a head per task)."""
    files = [r for r in group if r["scenario"] == scenario]
    if files:
        return (
            [a for r in files for a in r.get("final_acc_per_seed", [r["final_acc"]])],
            [m for r in files for m in r["acc_matrix"]],
            [t for r in files for t in r["train_seconds_per_seed"]],
        )
    if group and scenario in FROM_CL1_RUNS.get(_method(group[0]), ()):
        cl1 = [r for r in group if r["scenario"] == 1 and f"cl{scenario}" in r.get("scenario_acc", {})]
        return [r["scenario_acc"][f"cl{scenario}"] for r in cl1 for _ in r["seeds"]], [], []
    return [], [], []


def _method_row(method: str, bench: str, group: list[dict]) -> str:
    runs = {c: _scenario_runs(group, c) for c in (1, 2, 3)}
    paper = PAPER_ROWS.get((method, bench))
    paper_cell = "-" if paper is None else f"{paper[0]:.2f} / {paper[1]:.2f} / {paper[2]:.2f} ({paper[3]})"
    per = lambda f: " / ".join(_cell([f(m) for m in runs[c][1]]) for c in (1, 2, 3))
    seconds = " / ".join(f"{min(runs[c][2]):.0f}-{max(runs[c][2]):.0f}" if runs[c][2] else "-" for c in (1, 2, 3))
    return (
        f"| {method} | {bench}-{group[0]['config']['num_tasks']} | "
        + " | ".join(_cell(runs[c][0]) for c in (1, 2, 3))
        + f" | {paper_cell} | {per(metrics.during_mean)} | {per(metrics.backward_transfer)} | "
        f"{per(metrics.forgetting)} | {' / '.join(str(len(runs[c][0])) for c in (1, 2, 3))} | {seconds} |"
    )


def methods_section(results: list[dict]) -> str:
    return (
        "## Every method with the papers' settings\n\n"
        "Each method trained and scored in each scenario as lesson 03 describes; where a method trains a scenario "
        "exactly as CL1 (CL3 of the hypernetwork methods, a head per task; CL2 and CL3 of HyperMask) and has no runs "
        "of its own there, its number is read from its CL1 runs. Seeds and seconds per "
        "scenario. SplitMNIST keeps the digit pairs 0/1, 2/3, ... in every seed, as von Oswald et al. do "
        "(van de Ven & Tolias relabel them per seed).\n\n" + "\n".join([METHODS_HEADER, *method_rows(results)]) + "\n\n"
    )


README_START, README_END = "<!-- methods-table -->", "<!-- /methods-table -->"


def readme_rows(results: list[dict]) -> list[str]:
    """The README's compact table: per method, CL1 / CL2 / CL3 on each benchmark next to the paper's."""
    chosen = [r for r in results if is_paper_setting(r)]
    rows = [
        "| method | SplitMNIST (hnlab) | SplitMNIST (paper) | PermutedMNIST-10 (hnlab) | PermutedMNIST-10 (paper) |",
        "|---|---|---|---|---|",
    ]
    for method in sorted({_method(r) for r in chosen}, key=lambda m: (m != "hnet", m)):
        cells = []
        for bench in ("splitmnist", "permutedmnist"):
            group = [r for r in chosen if (_method(r), r["benchmark"]) == (method, bench)]
            runs = [_scenario_runs(group, c)[0] for c in (1, 2, 3)]
            ours = " / ".join(f"{np.mean(a):.2f}" if a else "-" for a in runs)
            seeds = "/".join(str(len(a)) for a in runs)
            paper = PAPER_ROWS.get((method, bench))
            cells += [
                f"{ours} ({seeds} seeds)" if any(runs) else "-",
                "-" if paper is None else f"{paper[0]:.2f} / {paper[1]:.2f} / {paper[2]:.2f}",
            ]
        rows.append(f"| {method} | " + " | ".join(cells) + " |")
    return rows


def update_readme(readme: Path, results: list[dict]) -> None:
    """Replace the table between ``README_START`` and ``README_END`` (or after a lone start marker)."""
    text = readme.read_text()
    if README_START not in text:
        return
    head, _, rest = text.partition(README_START)
    tail = rest.partition(README_END)[2] if README_END in rest else rest
    table = "\n".join(readme_rows(results))
    readme.write_text(f"{head}{README_START}\n{table}\n{README_END}{tail}")


def records(results: dict) -> list[dict]:
    """The benchmark records in one JSON: ``bench/benchmarks.py``'s file is one; lesson 03's holds one
    per scenario (``scenarios``); an ``hnlab sweep``'s ``sweep.json`` holds its finished runs' results."""
    if "sweep" in results and "runs" in results:
        return [x for run in results["runs"] if run["status"] == "ok" for x in records(run.get("results") or {})]
    if isinstance(results.get("scenarios"), dict):
        extra = {k: results[k] for k in ("device", "machine") if k in results}
        return [{**extra, **r} for r in results["scenarios"].values()]
    return [results]


def load_results(folder) -> list[dict]:
    """Every record in ``folder/*.json`` (see ``records``)."""
    return [r for p in sorted(Path(folder).glob("*.json")) for r in records(json.loads(p.read_text()))]


def write_table(folder) -> Path:
    """Regenerate ``folder/README.md`` from every ``folder/*.json``, keeping its hand-written part."""
    folder = Path(folder)
    loaded = load_results(folder)
    every = [r for r in loaded if "scenario_acc" in r]  # other benchmarks (toy, cl_step) live beside them
    results = [r for r in every if r.get("method", "hnet") == "hnet"]
    pooled = pool(results)
    readme = folder / "README.md"
    kept = readme.read_text().partition(HAND_WRITTEN)[2] if readme.exists() else "\n"
    text = (
        "# Measured benchmark results\n\nGenerated by `python bench/benchmarks.py --table` from the JSON "
        "files here; accuracies are task-averaged test accuracy (%) after the last task, mean over seeds. "
        "Paper (von Oswald et al. 2020, Table 1): SplitMNIST 99.79 / 87.01 / 69.48, "
        "PermutedMNIST-10 97.57 / 92.80 / 91.75 (CL1 / CL2 / CL3).\n\n"
        + methods_section(every)
        + paired_section([r for r in every if is_paper_setting(r)])
        + "\n## HNET as the authors' scripts report it\n\nCL1 and CL3 from runs trained with a head per task, "
        "CL2 from runs trained with one shared head (`--scenario 2`), as in the authors' scripts; "
        "mean over the seeds in brackets. Batches: `epochs` sweeps through each task's data in a fresh "
        "random order every epoch (the authors' data handlers), `replacement` draws uniformly.\n\n"
        + "\n".join([PROTOCOL_HEADER, *protocol_rows(pooled)])
        + "\n\n"
        "## All seeds of each setting\n\n" + markdown_table(pooled) + "\n\n"
        "## One row per HNET results file\n\n" + markdown_table(results) + "\n\n" + HAND_WRITTEN + kept
    )
    readme.write_text(text)
    if (folder.parent / "README.md").exists():
        update_readme(folder.parent / "README.md", every)
    return readme
