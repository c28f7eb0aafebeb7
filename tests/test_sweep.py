"""``hnlab sweep``: the grid parser, and a 2 x 2 sweep of a tiny notebook on a real Dask cluster
(a scheduler and two worker processes on 127.0.0.1) with one failing point, rerun alone afterwards."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import nbformat
import pytest

from hnlab import results_table
from hnlab.grid import GridError, build_grid, combine, markdown, parse_axis, points
from hnlab.sweep import run_sweep

ROOT = Path(__file__).resolve().parents[1]


def test_axes_from_the_command_line():
    assert parse_axis("seed=0:3") == ("seed", [0, 1, 2])
    assert parse_axis("a=1,2") == ("a", [1, 2])
    assert parse_axis("method=hnet,si") == ("method", ["hnet", "si"])
    assert parse_axis("scenarios=[1]") == ("scenarios", [[1]])  # one list-valued point
    assert parse_axis("scenarios=[1],[2, 3]") == ("scenarios", [[1], [2, 3]])
    assert parse_axis("compare=[]") == ("compare", [[]])
    assert parse_axis("device=cuda:0") == ("device", ["cuda:0"])  # not a range
    assert parse_axis("smoke=True") == ("smoke", [True])
    assert parse_axis("lr=1e-3,'a,b'") == ("lr", [0.001, "a,b"])


@pytest.mark.parametrize(
    "spec, message",
    [
        ("seed", "looks like name=v1,v2"),
        ("=1,2", "looks like name=v1,v2"),
        ("a=", "has no value"),
        ("a=1,,2", "empty value"),
        ("seed=3:1", "empty range"),
    ],
)
def test_bad_axes_are_named(spec, message):
    with pytest.raises(GridError, match=message):
        parse_axis(spec)


def test_grid_file_and_command_line(tmp_path):
    toml = tmp_path / "grid.toml"
    toml.write_text('[grid]\nmethod = ["hnet", "si"]\nseed = "0:2"\n\n[params]\nscenarios = [1]\nsmoke = true\n')
    axes = build_grid(["seed=5,6,7"], toml)  # -p replaces the file's axis
    assert axes == {"method": ["hnet", "si"], "seed": [5, 6, 7], "scenarios": [[1]], "smoke": [True]}
    assert len(points(axes)) == 6
    assert points(axes)[0] == {"id": "method-hnet_seed-5", "params": {**{k: v[0] for k, v in axes.items()}}}
    yaml = tmp_path / "grid.yaml"
    yaml.write_text("grid:\n  a: [1, 2]\nparams:\n  b: x\n")
    assert build_grid([], yaml) == {"a": [1, 2], "b": ["x"]}
    for text, message in [
        ("[grid]\na = 3\n", "grid.a must be a non-empty list"),
        ("[grids]\na = [1]\n", "expected only the tables"),
        ("[grid]\na = [1\n", "TOMLDecodeError"),
        ("[grid]\na = [1, 2]\n[params]\na = 1\n", "both in"),
    ]:
        toml.write_text(text)
        with pytest.raises(GridError, match=message):
            build_grid([], toml)
    with pytest.raises(GridError, match="given twice"):
        build_grid(["a=1", "a=2"])
    with pytest.raises(GridError, match="no grid file"):
        build_grid([], tmp_path / "missing.toml")


def test_combined_table_mean_and_standard_error():
    axes = {"method": ["a", "b"], "seed": [0, 1]}
    runs = [
        {"params": {"method": m, "seed": s}, "status": "ok", "seconds": 1.0, "results": {"acc": {"cl1": v}}}
        for m, s, v in [("a", 0, 1.0), ("a", 1, 3.0), ("b", 0, 5.0)]
    ] + [{"params": {"method": "b", "seed": 1}, "status": "failed", "seconds": 1.0, "results": None}]
    table = combine(runs, axes)
    assert table[0]["cell"] == {"method": "a"} and table[0]["seeds"] == [0, 1]
    assert table[0]["metrics"]["acc.cl1"] == {"mean": 2.0, "se": 1.0, "n": 2}
    assert table[1]["failed"] == 1 and table[1]["metrics"]["acc.cl1"]["se"] is None
    assert "| a | 0, 1 | 0 | 2 ± 1 |" in markdown(table)


def tiny_notebook(path: Path) -> Path:
    """A parameters cell and a cell writing results JSON; it raises while ``fail_flag`` exists for a=2, seed=1."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell(
        'a: int = 1\nseed: int = 0\nfail_flag: str = ""\nlog: str = ""\nresults_path: str = "out.json"'
    )
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json, os\n"
        "open(log, 'a').write(f'{a},{seed}\\n')\n"
        "if (a, seed) == (2, 1) and os.path.exists(fail_flag):\n"
        "    raise ValueError('point a=2 seed=1 fails on purpose')\n"
        "json.dump({'value': 10 * a + seed, 'threads': int(os.environ['OMP_NUM_THREADS'])}, open(results_path, 'w'))"
    )
    nb.cells = [nbformat.v4.new_markdown_cell("# tiny"), params, body]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        resources={"threads": 1},
        dashboard_address="127.0.0.1:0",
        silence_logs=logging.ERROR,
    ) as local:
        yield local


def test_sweep_on_a_dask_cluster_records_a_failure_and_reruns_only_it(tmp_path, cluster):
    notebook = tiny_notebook(tmp_path / "00_tiny.ipynb")
    flag, log = tmp_path / "fail.flag", tmp_path / "log.txt"
    flag.touch()
    axes = build_grid(["a=1,2", "seed=0:2", f"fail_flag={str(flag)!r}", f"log={str(log)!r}"])
    folder = tmp_path / "runs" / "sweeps" / "tiny"
    first = run_sweep(notebook, axes, folder, scheduler=cluster.scheduler_address, progress=False)
    status = {r["id"]: r["status"] for r in first["runs"]}
    assert status == {"a-1_seed-0": "ok", "a-1_seed-1": "ok", "a-2_seed-0": "ok", "a-2_seed-1": "failed"}
    failed = first["runs"][3]
    assert "ValueError: point a=2 seed=1 fails on purpose" in failed["error"]
    assert all(r["seconds"] > 0 for r in first["runs"])
    assert first["runs"][0]["results"] == {"value": 10, "threads": 1}  # the kernel got the run's thread count
    assert json.loads((folder / "runs" / "a-1_seed-1.json").read_text())["value"] == 11
    saved = json.loads((folder / "sweep.json").read_text())
    assert saved["runs"][3]["status"] == "failed" and saved["runs"][3]["params"]["a"] == 2
    assert sorted(log.read_text().split()) == ["1,0", "1,1", "2,0", "2,1"]

    flag.unlink()
    log.write_text("")
    second = run_sweep(notebook, axes, folder, scheduler=cluster.scheduler_address, progress=False)
    assert log.read_text().split() == ["2,1"]  # only the failed point ran again
    assert all(r["status"] == "ok" for r in second["runs"])
    table = {row["cell"]["a"]: row for row in second["table"]}
    assert table[2]["seeds"] == [0, 1] and table[2]["metrics"]["value"] == {"mean": 20.5, "se": 0.5, "n": 2}
    assert json.loads((folder / "table.json").read_text()) == second["table"]
    assert "| a | seeds | failed | value | threads | run_seconds |" in (folder / "table.md").read_text()


def test_unknown_parameter_is_named_before_anything_runs(tmp_path):
    notebook = tiny_notebook(tmp_path / "00_tiny.ipynb")
    with pytest.raises(GridError, match="has no parameter b .*it has: a, seed"):
        run_sweep(notebook, {"b": [1, 2]}, tmp_path / "sweep")


def test_results_table_reads_a_sweep_of_lesson_03(tmp_path):
    """A sweep of lesson 03 keeps each run's results (with the per-scenario benchmark records); the
    results table generator reads the sweep's JSON as it reads bench/benchmarks.py's files."""
    record = json.loads((ROOT / "results" / "splitmnist_cl1_si.json").read_text())
    plain = tmp_path / "plain"
    plain.mkdir()
    shutil.copy(ROOT / "results" / "splitmnist_cl1_si.json", plain)
    lesson = {"method": "si", "scenario_acc": record["scenario_acc"], "scenarios": {"cl1": record}}
    sweep = {"sweep": "s", "runs": [{"status": "ok", "results": lesson}, {"status": "failed", "results": None}]}
    swept = tmp_path / "swept"
    swept.mkdir()
    (swept / "sweep.json").write_text(json.dumps(sweep))
    assert results_table.load_results(swept) == [record]
    assert results_table.write_table(swept).read_text() == results_table.write_table(plain).read_text()


def test_cli_sweep_on_its_own_local_cluster(tmp_path, capsys):
    """``hnlab sweep NOTEBOOK -p ...`` starts a LocalCluster (127.0.0.1), prints the table, exits 1 if a run fails."""
    from hnlab.cli import main

    notebook = tiny_notebook(tmp_path / "00_tiny.ipynb")
    flag, log = tmp_path / "fail.flag", tmp_path / "log.txt"
    flag.touch()
    argv = ["sweep", str(notebook), "-p", "a=2", "-p", "seed=1", "-p", f"fail_flag={flag}", "-p", f"log={log}"]
    assert main([*argv, "--workers", "1", "--out", str(tmp_path / "cli")]) == 1
    out = capsys.readouterr().out
    assert "0 of 1 runs ok" in out and "FAILED run: ValueError: point a=2 seed=1 fails on purpose" in out
    assert "| seeds | failed |\n|---|---|\n| - | 1 |\n" in out  # a cell without numbers
    with pytest.raises(SystemExit, match="hnlab sweep: 00_tiny.ipynb has no parameter b"):
        main(["sweep", str(notebook), "-p", "b=1,2"])


def test_a_worker_that_dies_mid_run_loses_only_that_attempt(tmp_path, cluster):
    """The kernel of point a=2 kills its Dask worker once: Dask runs the point again elsewhere, the others finish."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('a: int = 1\nmarker: str = ""\nresults_path: str = "out.json"')
    params.metadata["tags"] = ["parameters"]
    body = nbformat.v4.new_code_cell(
        "import json, os, signal, time\n"
        "if a == 2 and not os.path.exists(marker):\n"
        "    open(marker, 'w').close()\n"
        "    os.kill(os.getppid(), signal.SIGKILL)  # the worker that started this kernel\n"
        "    time.sleep(60)\n"
        "json.dump({'value': a}, open(results_path, 'w'))"
    )
    nb.cells = [params, body]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "00_kill.ipynb")
    axes = {"a": [1, 2, 3], "marker": [str(tmp_path / "killed")]}
    record = run_sweep(tmp_path / "00_kill.ipynb", axes, tmp_path / "sweep", scheduler=cluster.scheduler_address)
    assert (tmp_path / "killed").exists()
    assert [(r["status"], r["results"]) for r in record["runs"]] == [("ok", {"value": a}) for a in (1, 2, 3)]
