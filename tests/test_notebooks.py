"""Every lesson runs top to bottom under papermill in smoke mode and writes valid results JSON.

Each notebook lists the keys its JSON must have in ``metadata.hnlab.results_keys``.
"""

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CONTRACT_PARAMS = ("seed", "device", "smoke", "results_path")


def parameters_cell(nb):
    tagged = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one code cell must be tagged 'parameters'"
    return tagged[0]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_follows_the_contract(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert nb.cells[1] is parameters_cell(nb), "the parameters cell comes right after the title"
    source = parameters_cell(nb).source
    for name in CONTRACT_PARAMS:
        assert f"\n{name}: " in "\n" + source, f"parameter {name} missing"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "store notebooks without outputs"
    assert nb.metadata.get("hnlab", {}).get("results_keys"), "metadata.hnlab.results_keys missing"
    annotated = [line.split(":")[0] for line in source.splitlines() if ": " in line.split("#")[0] and " = " in line]
    assert list(pm.inspect_notebook(str(path))) == annotated, "papermill must parse every parameter line"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_mode(path, tmp_path):
    results_path = tmp_path / "results.json"
    pm.execute_notebook(
        str(path),
        str(tmp_path / path.name),
        cwd=str(path.parent),
        kernel_name="python3",
        parameters={"smoke": True, "results_path": str(results_path)},
        progress_bar=False,
    )
    results = json.loads(results_path.read_text())
    required = nbformat.read(str(path), as_version=4).metadata["hnlab"]["results_keys"]
    missing = [k for k in required if k not in results]
    assert not missing, f"results JSON lacks {missing}"
    assert results["seconds"] > 0 and isinstance(results["config"], dict)
    assert isinstance(results["device"], str), "device: the name (machine details go under 'machine')"
