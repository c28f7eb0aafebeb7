"""The ``hnlab`` command: execute the lessons with papermill and collect their results.

``hnlab run`` (what ``make run`` calls) executes every notebook in the ``notebooks/`` folder
of the project you stand in (the current folder or one above it holding ``notebooks/NN_*.ipynb``;
``--notebooks DIR`` names another) in order, with its default parameters, into that project's
``runs/<timestamp>/``; writes an HTML page per notebook that works from disk with no network
(``hnlab.export``) and prints a table of each notebook's results JSON. ``hnlab sweep`` runs one
lesson over a grid of parameters on Dask, each point one ``execute`` (``hnlab.sweep``). ``hnlab assign``
builds the student versions of the nbgrader course in ``assignments/`` (``hnlab.assign``).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from . import assign

LESSONS = "[0-9][0-9]_*.ipynb"
#: The lessons' kernels log at ERROR only: ipykernel's "running over TCP without encryption"
#: warning (a local kernel, once per lesson) is nothing a student can or needs to act on.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


def project_notebooks(start: Path | None = None) -> Path:
    """The ``notebooks/`` folder of the project holding ``start`` (default: the current folder):
    ``start`` or the nearest folder above it with lesson notebooks in ``notebooks/``."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if folder.name == "notebooks" and any(folder.glob(LESSONS)):
            return folder
        if any((folder / "notebooks").glob(LESSONS)):
            return folder / "notebooks"
    raise SystemExit(
        f"hnlab: no lessons here: neither {start} nor a folder above it has notebooks/NN_*.ipynb; "
        "run from an hnlab project or pass --notebooks DIR"
    )


def parse_param(text: str) -> tuple[str, object]:
    """``name=value`` with ``value`` a Python literal (falls back to a string)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"parameters look like name=value, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw
    return name.strip(), value


def whole_number(minimum: int = 1):
    """An argparse type for an int >= ``minimum``; the ``bench/`` scripts use it too, so a
    bad count is one usage line instead of a traceback minutes later."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def whole_numbers(minimum: int = 0):
    """An argparse type for a comma-separated list of ints >= ``minimum`` (``"0,1,10,100"``)."""
    one = whole_number(minimum)

    def parse(text: str) -> list[int]:
        return [one(part) for part in text.split(",")]

    parse.__name__ = "list of whole numbers"
    return parse


def device_choice(text: str):
    """An argparse type: ``hnlab.device.pick_device(text)``, its error as one usage line."""
    from .device import pick_device  # torch loads only for the scripts that need it

    try:
        return pick_device(text)
    except (ValueError, RuntimeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def find_notebooks(folder: Path, only: list[str] | None = None) -> list[Path]:
    """Lesson notebooks in reading order, optionally those whose name contains one of ``only``."""
    if not folder.is_dir():
        raise SystemExit(f"hnlab: no notebook folder at {folder}")
    books = sorted(folder.glob(LESSONS))
    if only:
        books = [p for p in books if any(o in p.name for o in only)]
    if not books:
        raise SystemExit(f"hnlab: no notebooks matched in {folder}")
    return books


def execute(notebook: Path, out_dir: Path, params: dict, stem: str | None = None, html: bool = True) -> dict:
    """Run one notebook with papermill, export HTML (unless ``html`` is false), return a summary row;
    the executed copy and results JSON are ``out_dir/<stem>.ipynb`` and ``.json`` (default: the notebook's stem)."""
    import papermill as pm

    from .export import export_html, slim_executed

    stem = stem or notebook.stem
    results_path = out_dir / f"{stem}.json"
    executed = out_dir / f"{stem}.ipynb"
    row = {"notebook": stem, "status": "ok", "results": None}
    start = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook),
            str(executed),
            cwd=str(notebook.parent),
            kernel_name="python3",
            parameters={**params, "results_path": str(results_path.resolve())},
            progress_bar=False,
            extra_arguments=KERNEL_ARGS,
        )
    except Exception as err:  # papermill keeps the executed copy up to the failing cell
        row["status"] = f"FAILED: {failure_reason(err)}"
    row["wall_seconds"] = time.perf_counter() - start
    if executed.exists():
        slim_executed(executed)
        if html:
            export_html(executed, out_dir / f"{stem}.html")
    if results_path.exists():
        row["results"] = json.loads(results_path.read_text())
    elif row["status"] == "ok":
        row["status"] = "FAILED: no results JSON written"
    return row


def failure_reason(err: Exception) -> str:
    """One line on why a lesson failed: the notebook's own error (``ValueError: seeds must be ...``,
    in cell N) rather than papermill's wrapper, whose message starts with a blank line."""
    if hasattr(err, "ename"):
        return f"{err.ename}: {err.evalue} (cell {err.cell_index})"[:300]
    lines = [line for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0][:200] if lines else ''}"


def headline(results: dict | None, width: int = 70) -> str:
    """The short numbers of a results JSON: scalars and short numeric lists."""
    if not results:
        return ""
    parts = []
    for key, value in results.items():
        if key in ("config", "device", "seconds", "smoke") or isinstance(value, dict):
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parts.append(f"{key}={value:.4g}")
        elif isinstance(value, str) and len(value) < 20:
            parts.append(f"{key}={value}")
        elif isinstance(value, list) and 0 < len(value) <= 10 and all(isinstance(v, (int, float)) for v in value):
            parts.append(f"{key}=[{', '.join(f'{v:.3g}' for v in value)}]")
    text = "  ".join(parts)
    return text if len(text) <= width * 3 else text[: width * 3] + "..."


def device_cell(results: dict) -> str:
    """The device a lesson ran on, from its results JSON (a name, or a ``machine_info`` dict)."""
    device = results.get("device", "-")
    return str(device.get("device", "-") if isinstance(device, dict) else device)


def print_table(rows: list[dict], out_dir: Path) -> None:
    print(f"\nresults in {out_dir}")
    print(f"{'notebook':<22} {'status':<8} {'seconds':>8}  {'device':<7} key results")
    for row in rows:
        res = row["results"] or {}
        status = "ok" if row["status"] == "ok" else "FAILED"
        print(f"{row['notebook']:<22} {status:<8} {row['wall_seconds']:>8.1f}  {device_cell(res):<7} {headline(res)}")
        if status != "ok":
            print(f"    {row['status']}")


def absolute_data_root() -> None:
    """Lessons run with ``notebooks/`` as their working directory: make a relative ``$HNLAB_DATA``
    absolute first, so that it means the folder the user named from here."""
    root = os.environ.get("HNLAB_DATA")
    if root:
        os.environ["HNLAB_DATA"] = str(Path(root).resolve())


def run(args: argparse.Namespace) -> int:
    absolute_data_root()
    params = dict(args.param or [])
    if args.smoke:
        params["smoke"] = True
    folder = Path(args.notebooks).resolve() if args.notebooks else project_notebooks()
    notebooks = find_notebooks(folder, args.only)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out) if args.out else folder.parent / "runs" / stamp
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for notebook in notebooks:
        print(f"running {notebook.name} ...", flush=True)
        rows.append(execute(notebook, out_dir, params))
        print(f"  {rows[-1]['status']} ({rows[-1]['wall_seconds']:.1f} s)", flush=True)
    (out_dir / "summary.json").write_text(json.dumps(rows, indent=2))
    print_table(rows, out_dir)
    return 0 if all(r["status"] == "ok" for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hnlab", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="execute the lesson notebooks with papermill")
    p.add_argument("--notebooks", help="folder of lesson notebooks (default: notebooks/ of the project you stand in)")
    p.add_argument("--out", help="output folder (default: runs/<timestamp> beside the notebooks folder)")
    p.add_argument("--only", nargs="*", help="run only notebooks whose name contains one of these")
    p.add_argument("--smoke", action="store_true", help="smoke mode: every notebook in seconds")
    p.add_argument("-p", "--param", action="append", type=parse_param, help="name=value passed to every notebook")
    s = sub.add_parser("sweep", help="run one lesson over a grid of parameters on Dask (hnlab.sweep)")
    s.add_argument("lesson", help="a lesson's number or part of its name (03), or a notebook path")
    s.add_argument("-p", "--param", action="append", metavar="NAME=V1,V2", help="a grid axis: values or a range A:B")
    s.add_argument("--grid", help="a TOML or YAML file with the tables [grid] (axes) and [params] (fixed)")
    s.add_argument("--name", help="the sweep's name (default: lesson-timestamp); the same name resumes")
    s.add_argument("--out", help="the sweep's folder (default: runs/sweeps/<name> beside notebooks/)")
    s.add_argument("--notebooks", help="folder of lesson notebooks (default: notebooks/ of the project you stand in)")
    s.add_argument("--scheduler", help="a running Dask scheduler, tcp://HOST:PORT (default: a local cluster)")
    s.add_argument("--workers", type=whole_number(1), help="local cluster: worker processes (default: cores/threads)")
    s.add_argument("--threads-per-run", type=whole_number(1), default=1, help="torch threads of each run")
    s.add_argument("--gpus-per-run", type=whole_number(0), default=0, help="GPUs of each run (workers' GPU resource)")
    s.add_argument("--seed-param", default="seed", help="the axis the combined table averages over")
    s.add_argument("--html", action="store_true", help="also export each run's HTML page")
    s.add_argument("--smoke", action="store_true", help="every run in smoke mode")
    assign.add_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "assign":
        return assign.main(args)
    if args.command == "sweep":
        from .sweep import main as sweep

        return sweep(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
