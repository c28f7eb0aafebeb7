"""``make lab``'s pre-save hook (jupyter_server_config.py): the repository's lesson files are
saved without outputs; other notebooks, copies and other folders keep theirs."""

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

CONFIG = Path(__file__).resolve().parent.parent / "jupyter_server_config.py"


@pytest.fixture
def hook(tmp_path):
    spec = importlib.util.spec_from_file_location("hnlab_lab_config", CONFIG)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.LESSONS = tmp_path / "notebooks"  # a repository's lessons folder
    return module.strip_lesson_outputs


def executed() -> dict:
    nb = nbformat.v4.new_notebook(metadata={"widgets": {"state": {}}})
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=3)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    nb.cells = [nbformat.v4.new_markdown_cell("# a lesson"), cell]
    return {"type": "notebook", "content": nb}


@pytest.mark.parametrize(
    "root, path, stripped",
    [
        ("notebooks", "01_toy1d.ipynb", True),  # `make lab` serves notebooks/
        (".", "notebooks/03_benchmarks.ipynb", True),
        ("notebooks", "01_toy1d-Copy1.ipynb", False),  # a student's copy keeps its outputs
        ("notebooks", "mine.ipynb", False),
        (".", "runs/01_toy1d.ipynb", False),
    ],
)
def test_only_lesson_files_are_saved_without_outputs(hook, tmp_path, root, path, stripped):
    model = executed()
    hook(model=model, path=path, contents_manager=SimpleNamespace(root_dir=str(tmp_path / root)))
    code = model["content"]["cells"][1]
    assert (code["outputs"] == [] and code["execution_count"] is None) == stripped
    assert ("widgets" not in model["content"]["metadata"]) == stripped
    assert model["content"]["cells"][0]["source"] == "# a lesson" and code["source"] == "1 + 1"
