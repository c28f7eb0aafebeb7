"""``hnlab sweep``: one lesson over a grid of parameters, each grid point one papermill run on Dask.

    hnlab sweep 03 -p method=hnet,si -p seed=0:3 -p scenarios=[1] -p compare=[] -p smoke=True
    hnlab sweep 03 --grid grid.toml --name split-cl1 --scheduler tcp://HOST:8786

A grid axis is ``name=v1,v2,...`` (each value a Python literal, else a string; ``[1],[2]`` is two
lists, ``[1]`` one) or an integer range ``name=A:B`` (``A, A+1, ..., B-1``, Python's slice
convention); an axis with one value is a fixed parameter. A grid file (TOML or YAML) has a
``[grid]`` table of axes (lists or ``"A:B"`` ranges) and a ``[params]`` table of fixed values.

Runs go to a Dask distributed cluster: a ``LocalCluster`` on this machine (``cores // threads``
worker processes, one run at a time each) or a running scheduler (``--scheduler``). Each run
asks for ``threads`` of its worker's ``threads`` resource (and ``gpus`` of ``GPU`` on a
cluster whose workers declare one); its kernel starts with ``OMP_NUM_THREADS=threads``, which
torch reads for its thread count. Everything lands in ``runs/sweeps/<name>/``: ``runs/<point>.json``
(the lesson's results) and ``.ipynb`` (executed), ``sweep.json`` (each run's parameters, status,
error, seconds and results; rewritten after every run, so a stopped sweep keeps what finished) and
``table.md`` / ``table.json``: per cell (the grid less the seed axis) mean, standard error and
seeds of every number in the results. Started again with the same ``--name``, a sweep reruns only
the points that are missing or failed. ``hnlab.results_table.load_results`` reads ``sweep.json``.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import os
import re
import sys
import time
from datetime import datetime
from pathlib import Path

RANGE = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*$")
#: Results keys that are settings or records rather than measured numbers.
NOT_METRICS = ("config", "machine", "device", "scenarios", "smoke", "runs")


class GridError(ValueError):
    """A grid that cannot be run; the message names the bad part."""


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip()


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``[1,2],x`` is two parts."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current]


def parse_values(name: str, raw: str) -> list:
    """The values of one axis from its text (see the module docstring)."""
    if not raw.strip():
        raise GridError(f"{name}= has no value: write {name}=v1,v2 or {name}=A:B")
    match = RANGE.match(raw)
    if match:
        start, stop = int(match[1]), int(match[2])
        if stop <= start:
            raise GridError(f"{name}={raw} is an empty range: A:B means A, A+1, ..., B-1, so B must exceed A")
        return list(range(start, stop))
    parts = _split_top(raw)
    if any(not p.strip() for p in parts):
        raise GridError(f"{name}={raw} has an empty value between commas")
    return [_literal(p) for p in parts]


def parse_axis(text: str) -> tuple[str, list]:
    """``name=v1,v2`` or ``name=A:B`` to ``(name, values)``."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise GridError(f"a grid axis looks like name=v1,v2 or name=A:B, got {text!r}")
    return name.strip(), parse_values(name.strip(), raw)


def read_grid_file(path: Path) -> dict[str, list]:
    """Axes from a TOML or YAML file with the tables ``grid`` (lists or ``"A:B"``) and ``params``."""
    path = Path(path)
    if not path.is_file():
        raise GridError(f"no grid file at {path}")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise GridError(f"{path.name}: a grid file is .toml, .yaml or .yml")
    except GridError:
        raise
    except Exception as err:
        raise GridError(f"{path.name}: {type(err).__name__}: {err}") from None
    unknown = set(data) - {"grid", "params"}
    if unknown or not isinstance(data.get("grid", {}), dict) or not isinstance(data.get("params", {}), dict):
        raise GridError(f"{path.name}: expected only the tables [grid] and [params], got {', '.join(sorted(data))}")
    axes = {}
    for name, values in data.get("grid", {}).items():
        if isinstance(values, str) and RANGE.match(values):
            values = parse_values(name, values)
        if not isinstance(values, list) or not values:
            raise GridError(f"{path.name}: grid.{name} must be a non-empty list of values or a range 'A:B'")
        axes[name] = values
    for name, value in data.get("params", {}).items():
        if name in axes:
            raise GridError(f"{path.name}: {name} is both in [grid] and in [params]")
        axes[name] = [value]
    return axes


def build_grid(specs: list[str] | None = None, grid_file: Path | None = None) -> dict[str, list]:
    """Axes from a grid file and ``-p`` specs (a ``-p`` axis replaces the file's of the same name)."""
    axes = read_grid_file(grid_file) if grid_file else {}
    seen = set()
    for text in specs or []:
        name, values = parse_axis(text)
        if name in seen:
            raise GridError(f"{name} is given twice: put every value in one -p {name}=v1,v2")
        seen.add(name)
        axes[name] = values
    if not axes:
        raise GridError("an empty grid: give at least one -p name=v1,v2 or --grid FILE")
    return axes


def points(axes: dict[str, list]) -> list[dict]:
    """Every combination of the axes' values, the last axis varying fastest; each with its ``id``."""
    varying = [n for n, v in axes.items() if len(v) > 1]
    result, used = [], set()
    for combo in itertools.product(*axes.values()):
        params = dict(zip(axes, combo))
        slug = "_".join(f"{n}-{_slug(params[n])}" for n in varying) or "run"
        slug, k = slug[:120], 1
        while slug in used:
            slug, k = f"{slug[:120]}~{k}", k + 1
        used.add(slug)
        result.append({"id": slug, "params": params})
    return result


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]", "", json.dumps(value)) or "x"


def check_names(notebook: Path, axes: dict[str, list]) -> dict:
    """The notebook's parameters (papermill's reading of its ``parameters`` cell); unknown axes are an error."""
    import papermill as pm

    known = pm.inspect_notebook(str(notebook))
    unknown = [n for n in axes if n not in known]
    if unknown:
        raise GridError(f"{notebook.name} has no parameter {', '.join(unknown)} (it has: {', '.join(known)})")
    if "results_path" in axes:
        raise GridError("results_path is set by the sweep: each run writes runs/<point>.json")
    return known


def run_point(notebook: str, run_dir: str, stem: str, params: dict, threads: int, env: dict, html: bool) -> dict:
    """One grid point on a Dask worker: papermill with ``threads`` threads (``hnlab.cli.execute``)."""
    from .cli import execute

    # The kernel inherits this process's environment; Dask's nanny starts workers with OMP_NUM_THREADS=1.
    os.environ.update({k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    os.environ.update(env)
    row = execute(Path(notebook), Path(run_dir), params, stem=stem, html=html)
    import socket

    row["host"] = socket.gethostname()
    return row


def write_json(path: Path, data) -> None:
    """Write atomically: a sweep killed mid-write keeps its previous record."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def previous_runs(folder: Path) -> dict[str, dict]:
    """Finished runs of an earlier sweep with this name (by id), whose results are still on disk."""
    path = folder / "sweep.json"
    if not path.exists():
        return {}
    old = json.loads(path.read_text())
    return {r["id"]: r for r in old.get("runs", []) if r["status"] == "ok" and (folder / r["results_path"]).exists()}


def _cluster(scheduler, workers, threads, gpus):
    """A Dask client and the resources each run asks for."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="20s")
        declared = [w.get("resources", {}) for w in client.scheduler_info()["workers"].values()]
        if gpus and not any(r.get("GPU", 0) >= gpus for r in declared):
            client.close()
            raise GridError(f"no worker of {scheduler} declares GPU>={gpus} (start them with --resources GPU=1)")
        if any("threads" in r for r in declared):
            return client, None, {"threads": threads, **({"GPU": gpus} if gpus else {})}
        print(f"note: the workers declare no 'threads' resource: each worker thread takes one run ({threads=} unused)")
        return client, None, {"GPU": gpus} if gpus else None
    if gpus:
        raise GridError("--gpus-per-run needs --scheduler: start `dask worker --resources GPU=1` on the GPU machines")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    import importlib.util
    import logging

    cluster = LocalCluster(
        n_workers=workers or max(1, cores // threads),
        threads_per_worker=threads,
        processes=True,
        host="127.0.0.1",
        resources={"threads": threads},
        dashboard_address="127.0.0.1:0" if importlib.util.find_spec("bokeh") else None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster, {"threads": threads}


def run_sweep(
    notebook: Path,
    axes: dict[str, list],
    folder: Path,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    threads: int = 1,
    gpus: int = 0,
    seed_param: str = "seed",
    html: bool = False,
    progress: bool = True,
) -> dict:
    """Run every grid point not already finished in ``folder``; return the sweep's record (``sweep.json``)."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from .cli import failure_reason

    notebook = Path(notebook).resolve()
    known = check_names(notebook, axes)
    folder = Path(folder).resolve()
    (folder / "runs").mkdir(parents=True, exist_ok=True)
    done = previous_runs(folder)
    record = {
        "sweep": folder.name,
        "notebook": str(notebook),
        "grid": axes,
        "seed_param": seed_param,
        "threads_per_run": threads,
        "started": datetime.now().isoformat(timespec="seconds"),
        "runs": [],
    }
    todo = []
    for point in points(axes):
        params = dict(point["params"])
        if "checkpoint_dir" in known and "checkpoint_dir" not in params:  # runs never share checkpoints
            params["checkpoint_dir"] = str(folder / "checkpoints" / point["id"])
        old = done.get(point["id"])
        if old and old["params"] == params:
            record["runs"].append(old)
            continue
        run = {"id": point["id"], "params": params, "status": "pending", "error": None, "seconds": None}
        run["results_path"] = f"runs/{point['id']}.json"
        record["runs"].append(run)
        todo.append(run)
    write_json(folder / "sweep.json", record)
    print(f"sweep {folder.name}: {len(record['runs'])} runs, {len(todo)} to run, results in {folder}", flush=True)
    start = time.perf_counter()
    if todo:
        client, cluster, resources = _cluster(scheduler, workers, threads, gpus)
        try:
            if client.dashboard_link and (cluster is None or cluster.dashboard_link) and scheduler is None:
                print(f"dashboard: {client.dashboard_link}", flush=True)
            env = {k: os.environ[k] for k in ("HNLAB_DATA", "HNLAB_SMOKE") if k in os.environ}
            futures = {
                client.submit(
                    run_point,
                    str(notebook),
                    str(folder / "runs"),
                    run["id"],
                    run["params"],
                    threads,
                    env,
                    html,
                    key=f"hnlab-sweep-{folder.name}-{run['id']}-{time.time_ns()}",
                    resources=resources,
                    pure=False,
                ): run
                for run in todo
            }
            bar = tqdm(total=len(todo), unit="run", disable=not progress, file=sys.stdout)
            for future in as_completed(futures):
                run = futures[future]
                try:
                    row = future.result()
                    ok = row["status"] == "ok"
                    run.update(
                        status="ok" if ok else "failed",
                        error=None if ok else row["status"].removeprefix("FAILED: "),
                        seconds=row["wall_seconds"],
                        host=row.get("host"),
                        results=row["results"],
                    )
                except Exception as err:  # the task itself failed: a worker died too often, an import error, ...
                    run.update(status="failed", error=failure_reason(err))
                bar.update(1)
                if run["status"] != "ok":
                    bar.write(f"  {run['id']}: {run['error']}")
                write_json(folder / "sweep.json", record)
            bar.close()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    record["wall_seconds"] = time.perf_counter() - start
    ran = {r["id"] for r in todo}
    record["run_seconds"] = sum(r["seconds"] or 0 for r in record["runs"] if r["id"] in ran)
    record["table"] = combine(record["runs"], axes, seed_param)
    write_json(folder / "sweep.json", record)
    write_json(folder / "table.json", record["table"])
    (folder / "table.md").write_text(markdown(record["table"]) + "\n")
    return record


def numbers(results: dict | None, prefix: str = "") -> dict[str, float]:
    """The measured numbers of a results JSON, nested keys joined by dots (``scenario_acc.cl1``)."""
    out = {}
    for key, value in (results or {}).items():
        if key in NOT_METRICS and not prefix:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name.count(".") < 2:
            out.update(numbers(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def combine(runs: list[dict], axes: dict[str, list], seed_param: str = "seed") -> list[dict]:
    """Per cell (the grid's varying parameters less ``seed_param``): mean, standard error and seeds of each number."""
    varying = [n for n, v in axes.items() if len(v) > 1 and n != seed_param]
    cells: dict[str, dict] = {}
    for run in runs:
        cell = {n: run["params"][n] for n in varying}
        entry = cells.setdefault(json.dumps(cell), {"cell": cell, "seeds": [], "failed": 0, "values": {}})
        if run["status"] != "ok":
            entry["failed"] += 1
            continue
        entry["seeds"].append(run["params"].get(seed_param))
        for name, value in {**numbers(run.get("results")), "run_seconds": run["seconds"]}.items():
            entry["values"].setdefault(name, []).append(value)
    table = []
    for entry in cells.values():
        stats = {}
        for name, values in entry.pop("values").items():
            n = len(values)
            mean = sum(values) / n
            se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else None
            stats[name] = {"mean": mean, "se": se, "n": n}
        table.append({**entry, "metrics": stats})
    return table


def markdown(table: list[dict]) -> str:
    """The combined table: a row per cell, ``mean ± standard error`` per number."""
    if not table:
        return "(no runs)"
    params = list(table[0]["cell"])
    names = list(dict.fromkeys(n for row in table for n in row["metrics"]))
    lines = [
        "| " + " | ".join([*params, "seeds", "failed", *names]) + " |",
        "|" + "---|" * (len(params) + 2 + len(names)),
    ]
    for row in table:
        cells = [json.dumps(row["cell"][p]) if not isinstance(row["cell"][p], str) else row["cell"][p] for p in params]
        cells += [", ".join(map(str, row["seeds"])) or "-", str(row["failed"])]
        for name in names:
            s = row["metrics"].get(name)
            cells.append("-" if s is None else f"{s['mean']:.4g}" + ("" if s["se"] is None else f" ± {s['se']:.2g}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def find_lesson(lesson: str, notebooks: str | None) -> Path:
    """A notebook path, or the one lesson of the project whose name contains ``lesson``."""
    from .cli import find_notebooks, project_notebooks

    if lesson.endswith(".ipynb"):
        if not Path(lesson).is_file():
            raise GridError(f"no notebook at {lesson}")
        return Path(lesson).resolve()
    folder = Path(notebooks).resolve() if notebooks else project_notebooks()
    found = find_notebooks(folder, [lesson])
    if len(found) > 1:
        raise GridError(f"{lesson!r} matches {', '.join(p.name for p in found)}: name one")
    return found[0]


def main(args) -> int:
    """``hnlab sweep`` (arguments from ``hnlab.cli``); exit status 1 when a run failed."""
    from .cli import absolute_data_root

    absolute_data_root()
    try:
        notebook = find_lesson(args.lesson, args.notebooks)
        axes = build_grid(args.param, args.grid)
        if args.smoke:
            axes["smoke"] = [True]
        name = args.name or f"{notebook.stem}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        root = notebook.parent.parent if notebook.parent.name == "notebooks" else notebook.parent
        folder = Path(args.out) if args.out else root / "runs" / "sweeps" / name
        record = run_sweep(
            notebook,
            axes,
            folder,
            scheduler=args.scheduler,
            workers=args.workers,
            threads=args.threads_per_run,
            gpus=args.gpus_per_run,
            seed_param=args.seed_param,
            html=args.html,
        )
    except GridError as err:
        raise SystemExit(f"hnlab sweep: {err}") from None
    runs = record["runs"]
    failed = [r for r in runs if r["status"] != "ok"]
    print(f"\n{markdown(record['table'])}\n")
    print(
        f"{len(runs) - len(failed)} of {len(runs)} runs ok; {record['wall_seconds']:.1f} s wall for "
        f"{record['run_seconds']:.1f} s of runs; {folder}/sweep.json, table.md, table.json"
    )
    for run in failed:
        print(f"  FAILED {run['id']}: {run['error']}")
    if failed:
        print(f"rerun the failed ones: the same command with --name {folder.name}")
    return 1 if failed else 0
