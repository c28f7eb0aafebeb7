"""JupyterLab settings for ``make lab``: the lessons in notebooks/ stay stored without outputs.

JupyterLab saves (and autosaves) a notebook with its outputs. For the lesson files themselves
(``notebooks/NN_name.ipynb``) this pre-save hook drops outputs, execution counts and widget
state before the file is written, so running a lesson never turns the repository's lessons
into large diffs. What a student edits (code, text) is saved as usual; the outputs stay on
screen until the tab is closed, and reappear when the lesson is run again. To keep a copy with
its outputs, save it under another name (File > Save Notebook As, or Duplicate:
``01_toy1d-Copy1.ipynb``) or anywhere outside notebooks/: only the lesson files are stripped.

``make lab`` passes this file with ``--config``; ``jupyter lab`` started by hand does not read it.
"""

import re
import warnings
from pathlib import Path

LESSONS = Path(__file__).resolve().parent / "notebooks"
LESSON_NAME = re.compile(r"\d\d_[a-z0-9_]+\.ipynb")


def strip_lesson_outputs(model, path, contents_manager, **kwargs):
    """Pre-save hook: a lesson notebook of the repository is saved without outputs."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    target = Path(contents_manager.root_dir, path).resolve()
    if target.parent != LESSONS or not LESSON_NAME.fullmatch(target.name):
        return
    notebook = model["content"]
    notebook.get("metadata", {}).pop("widgets", None)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None


if "get_config" in globals():  # read as a Jupyter config file
    c = get_config()  # noqa: F821
    c.FileContentsManager.pre_save_hook = strip_lesson_outputs
    # JupyterLab applies the file to the contents manager twice; the second time is the same hook
    warnings.filterwarnings("ignore", message="Overriding existing pre_save_hook")
