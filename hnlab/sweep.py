"""``hnlab sweep``: one lesson over a grid of parameters, each grid point one papermill run on Dask.

    hnlab sweep 03 -p method=hnet,si -p seed=0:3 -p scenarios=[1] -p compare=[] -p smoke=True
    hnlab sweep 03 --grid grid.toml --name split-cl1 --scheduler tcp://HOST:8786

The grid (``-p`` axes, ``--grid FILE``) and the combined table are ``hnlab.grid``'s.

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

SLURM or PBS: ``pip install -e .[slurm]`` adds dask-jobqueue; start a ``SLURMCluster`` in a Python
session (``cluster.scale(jobs=10)``) and pass ``cluster.scheduler_address`` as ``--scheduler``.
Workers started with ``--resources threads=N`` run one N-thread run at a time; ``--gpus-per-run 1``
asks for workers started with ``--resources GPU=1``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from .grid import GridError, build_grid, combine, markdown, points


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
    """A Dask client, its local cluster (or None), the resources each run asks for, the dashboard's address."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="20s")
        declared = [w.get("resources", {}) for w in client.scheduler_info()["workers"].values()]
        if gpus and not any(r.get("GPU", 0) >= gpus for r in declared):
            client.close()
            raise GridError(f"no worker of {scheduler} declares GPU>={gpus} (start them with --resources GPU=1)")
        dashboard = client.dashboard_link if "dashboard" in client.scheduler_info().get("services", {}) else None
        if any("threads" in r for r in declared):
            return client, None, {"threads": threads, **({"GPU": gpus} if gpus else {})}, dashboard
        print("note: the workers declare no 'threads' resource (dask worker --resources threads=N): each worker thread")
        print(f"takes one run and --threads-per-run={threads} sets only the runs' OMP_NUM_THREADS")
        return client, None, {"GPU": gpus} if gpus else None, dashboard
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
        dashboard_address="127.0.0.1:0",  # a free port: the scheduler serves HTTP (a dashboard with bokeh)
        silence_logs=logging.ERROR,
    )
    dashboard = cluster.dashboard_link if importlib.util.find_spec("bokeh") else None
    return Client(cluster), cluster, {"threads": threads}, dashboard


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
        client, cluster, resources, dashboard = _cluster(scheduler, workers, threads, gpus)
        try:
            if dashboard:
                print(f"dashboard: {dashboard}", flush=True)
            task = {"notebook": str(notebook), "run_dir": str(folder / "runs"), "threads": threads, "html": html}
            task["env"] = {k: os.environ[k] for k in ("HNLAB_DATA", "HNLAB_SMOKE") if k in os.environ}
            _run_all(client, resources, todo, task, lambda: write_json(folder / "sweep.json", record), progress)
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


def _run_all(client, resources: dict | None, todo: list[dict], task: dict, save, progress: bool) -> None:
    """Submit every run in ``todo`` to Dask, fill in each as it finishes (``save`` after each), with a progress bar."""
    from distributed import as_completed
    from tqdm.auto import tqdm

    from .cli import failure_reason

    futures = {
        client.submit(
            run_point,
            **task,
            stem=run["id"],
            params=run["params"],
            key=f"hnlab-sweep-{run['id']}-{time.time_ns()}",
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
            error = None if ok else row["status"].removeprefix("FAILED: ")
            run.update(status="ok" if ok else "failed", error=error, seconds=row["wall_seconds"])
            run.update(host=row.get("host"), results=row["results"])
        except Exception as err:  # the task itself failed: its worker died too often, an import error, ...
            run.update(status="failed", error=failure_reason(err))
        bar.update(1)
        if run["status"] != "ok":
            bar.write(f"  {run['id']}: {run['error']}")
        save()
    bar.close()


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
    folder = Path(".")
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
    except KeyboardInterrupt:
        print(f"\nstopped: finished runs are in {folder}/sweep.json; run again with --name {folder.name} for the rest")
        return 130
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
        print("rerun the failed ones: the same command" + ("" if args.name or args.out else f" with --name {name}"))
    return 1 if failed else 0
