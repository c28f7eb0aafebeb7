"""Claims as comparisons on paired seeds: method A against method B on the seeds both ran.

A paper's table says "LSTM_NET beats HNET"; one seed of each can say the opposite by chance. Two
methods run with the same seed see the same task order, data order and test sets, so the
difference per seed is the fair measurement, and how many seeds agree says how much to trust its
mean. ``results/README.md`` gets a section from ``paired_section`` (``bench/benchmarks.py
--table``); lesson 05 reads the same numbers (notebooks/05_lstm_hypernetworks.ipynb).

Scores per seed, from every results file with the papers' settings:

- ``cl1``, ``cl2 (entropy)``, ``cl3``: runs trained with a head per task (scenario 1, or a
  scenario these methods train exactly as CL1), scored with the task id, and by entropy without it
  (``hnlab.infer``): CL2 counts the within-task label, CL3 also the task.
- ``cl2 (shared head)``: runs trained in scenario 2, one head shared by the tasks (the authors'
  CL2 for HNET).
"""

from __future__ import annotations

import numpy as np

from . import metrics

#: Chandra et al.'s claims on SplitMNIST, as (method A, method B): "A scores above B".
CHANDRA_CLAIMS = (
    ("lstm_hnet", "hnet"),
    ("hnet_iwr", "hnet"),
    ("lstm_hnet_iwr", "lstm_hnet"),
    ("lstm_grow", "lstm_hnet"),
    ("lstm_grow", "hnet"),
)
SCORES = ("cl1", "cl2 (entropy)", "cl2 (shared head)", "cl3")
MULTI_HEAD = {"cl1": "cl1", "cl2 (entropy)": "cl2", "cl3": "cl3"}


def seed_scores(results: list[dict], method: str, benchmark: str = "splitmnist") -> dict[str, dict[int, float]]:
    """``{score: {seed: accuracy}}`` of ``method``, averaged where a seed ran several times.

    A run of ``method`` trained beside another method (``--compare``, stored under that run's
    ``baselines``) was trained by the same code in the same process as what it is compared with;
    where a seed has such runs they are used, and the method's own files only for the other seeds
    (results files from earlier versions of hnlab can differ by a few points in CL2/CL3)."""
    own: dict[str, dict[int, list[float]]] = {score: {} for score in SCORES}
    beside: dict[str, dict[int, list[float]]] = {score: {} for score in SCORES}
    for r in results:
        if r["benchmark"] != benchmark:
            continue
        if r.get("method", "hnet") == method:
            _add_runs(own, r["scenario"], r.get("runs", []), r)
        runs = [
            {**run["baselines"][method], "seed": run["seed"]}
            for run in r.get("runs", [])
            if method in run.get("baselines", {})
        ]
        _add_runs(beside, r["scenario"], runs)
    return {score: {seed: float(np.mean(v)) for seed, v in {**own[score], **beside[score]}.items()} for score in SCORES}


def _add_runs(found: dict, scenario: int, runs: list[dict], record: dict | None = None) -> None:
    """Each run's scores by seed: CL2 of a shared-head run (the record's final accuracies where given: in
    older files the matrix holds CL1 scores), or CL1 / CL2 / CL3 of a run with a head per task."""
    if scenario == 2:
        if record is not None:
            finals = record["final_acc_per_seed"] if "final_acc_per_seed" in record else [record["final_acc"]]
            pairs = zip(record["seeds"], finals)
        else:
            pairs = ((run["seed"], metrics.final_mean(run["matrix"])) for run in runs)
        for seed, acc in pairs:
            found["cl2 (shared head)"].setdefault(seed, []).append(acc)
        return
    for run in runs:
        if "cl3" in run:  # trained with a head per task
            for score, key in MULTI_HEAD.items():
                found[score].setdefault(run["seed"], []).append(float(np.mean(run[key])))


def paired_difference(a: dict[int, float], b: dict[int, float]) -> dict:
    """A - B on the seeds both have: mean, standard error, the seeds where A is higher, the seeds."""
    seeds = sorted(set(a) & set(b))
    diff = np.array([a[s] - b[s] for s in seeds])
    sem = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan")
    return {
        "seeds": seeds,
        "mean": float(diff.mean()) if seeds else float("nan"),
        "sem": sem,
        "wins": int((diff > 0).sum()),
    }


def _verdict(d: dict) -> str:
    if len(d["seeds"]) < 2:
        return "too few seeds"
    if d["mean"] > 2 * d["sem"]:
        return "confirmed" if d["wins"] == len(d["seeds"]) else "ahead, not on every seed"
    if d["mean"] < -2 * d["sem"]:
        return "reversed" if d["wins"] == 0 else "behind, not on every seed"
    return "not shown"


def paired_section(results: list[dict], claims=CHANDRA_CLAIMS, benchmark: str = "splitmnist") -> str:
    """Markdown: per method the mean of each score and its seeds, then each claim as a paired
    difference: confirmed when A is above B by more than two standard errors and on every paired seed,
    "ahead, not on every seed" when only the first holds, "not shown" within two standard errors."""
    methods = sorted({m for claim in claims for m in claim}, key=lambda m: (m != "hnet", m))
    scores = {m: seed_scores(results, m, benchmark) for m in methods}
    lines = [
        f"## Chandra et al.'s claims on paired seeds ({benchmark})\n",
        "From the results files with the papers' settings (`hnlab.paired`). Mean over seeds, the seeds in "
        "brackets; each claim is measured on the seeds both methods ran. "
        "CL2 (entropy) and CL3 come from runs with a head per task; CL2 (shared head) from runs "
        "trained with one head.\n",
        "| method | " + " | ".join(SCORES) + " |",
        "|---|" + "---|" * len(SCORES),
    ]
    for m in methods:
        cells = [_mean_cell(scores[m][s]) for s in SCORES]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "| claim | " + " | ".join(SCORES) + " |", "|---|" + "---|" * len(SCORES)]
    for a, b in claims:
        cells = [_claim_cell(paired_difference(scores[a][s], scores[b][s])) for s in SCORES]
        lines.append(f"| {a} > {b} | " + " | ".join(cells) + " |")
    lines.append(
        "\nA claim cell: mean difference A - B +- standard error, seeds where A is higher / paired seeds, verdict.\n"
    )
    return "\n".join(lines) + "\n"


def _mean_cell(by_seed: dict[int, float]) -> str:
    if not by_seed:
        return "-"
    seeds = sorted(by_seed)
    contiguous = len(seeds) > 1 and seeds == list(range(seeds[0], seeds[-1] + 1))
    span = f"{seeds[0]}-{seeds[-1]}" if contiguous else ",".join(map(str, seeds))
    return f"{np.mean(list(by_seed.values())):.2f} ({span})"


def _claim_cell(d: dict) -> str:
    if not d["seeds"]:
        return "-"
    return f"{d['mean']:+.2f} +- {d['sem']:.2f}, {d['wins']}/{len(d['seeds'])}, {_verdict(d)}"
