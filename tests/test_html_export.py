"""hnlab run's pages work from disk with no network (issue 15): math as MathML, plotly.js once,
widgets as one line; the executed notebook keeps neither plotly.js nor widget state."""

import base64
import gzip
import json
import re

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hnlab import cli
from hnlab.export import PLOTLY_MIME, WIDGET_MIME, WIDGET_NOTE, notebook_to_html, protect_math, restore_math


def figure_output(y):
    return new_output("display_data", data={PLOTLY_MIME: {"data": [{"type": "scatter", "y": y}], "layout": {}}})


def lesson_like():
    widget = new_output("display_data", data={WIDGET_MIME: {"model_id": "abc", "version_major": 2}})
    return new_notebook(
        cells=[
            new_markdown_cell(
                "# Lesson 99: Test\nVariance $\\mathrm{Var}(W) = 1/d_j$ and\n"
                "$$\\dfrac{c}{d_k}$$\nnot math: `$HNLAB_DATA`"
            ),
            new_code_cell("fig", outputs=[figure_output([1, 2, 3])]),
            new_code_cell("fig2", outputs=[figure_output([3, 2, 1])]),
            new_code_cell("widget", outputs=[widget]),
        ],
        metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}},
    )


def test_page_needs_no_network_and_embeds_plotlyjs_once():
    page = notebook_to_html(lesson_like())
    assert not re.search(r"<script[^>]*\bsrc\s*=", page)  # no script fetched from anywhere
    assert not re.search(r"https?://[^\"' ]*(cdn|cdnjs|unpkg|jsdelivr|mathjax)", page, re.I)
    assert "require.js" not in page and "MathJax" not in page
    assert page.count('id="hnlab-plotlyjs"') == 1 and page.count("Plotly.newPlot(") == 2
    packed = re.search(r'<script[^>]*id="hnlab-plotlyjs"[^>]*>\s*([A-Za-z0-9+/=]+)\s*<', page).group(1)
    plotlyjs = gzip.decompress(base64.b64decode(packed)).decode()
    assert "plotly.js v" in plotlyjs[:200] and len(plotlyjs) > 1_000_000
    assert len(page) < len(plotlyjs)  # compressed once: the page is smaller than plotly.js alone
    assert page.count("<math") == 2 and 'display="block"' in page and "<mfrac>" in page
    assert "$HNLAB_DATA" in page and "\\mathrm" not in page  # code spans are not math
    assert WIDGET_NOTE in page
    assert "<title>Lesson 99: Test</title>" in page


def test_math_placeholders_round_trip():
    store = {}
    text = protect_math("a $x_1$ b $$y$$ c \\$5 and `$PATH`", store)
    assert "$x_1$" not in text and "`$PATH`" in text and "\\$5" in text and len(store) == 2
    assert restore_math(text, store).count("<math") == 2


def test_executed_lesson_keeps_no_plotlyjs_and_no_widget_state(tmp_path):
    """Through ``hnlab run``'s own ``execute``: a figure, a FigureWidget (its saved state alone
    holds all of plotly.js), then results JSON."""
    book = tmp_path / "notebooks" / "99_test.ipynb"
    book.parent.mkdir()
    params = new_code_cell('results_path: str = "out.json"  # where the results go')
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[
            params,
            new_code_cell(
                "import plotly.graph_objects as go\nimport hnlab.viz\nhnlab.viz.setup_notebook()\n"
                "go.Figure(go.Scatter(y=[1, 2, 3]))"
            ),
            new_code_cell("go.FigureWidget(go.Scatter(y=[1, 2]))"),
            new_code_cell('from hnlab.results import write_results\nwrite_results(results_path, {"answer": 42})'),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, book)
    out = tmp_path / "runs" / "now"
    out.mkdir(parents=True)
    row = cli.execute(book, out, {})
    assert row["status"] == "ok" and row["results"] == {"answer": 42}
    executed = (out / book.name).read_text()
    assert len(executed) < 100_000 and "plotly.js v" not in executed  # kilobytes, not 5 MB
    saved = nbformat.reads(executed, as_version=4)
    assert "widgets" not in saved.metadata
    outputs = [o for cell in saved.cells for o in cell.get("outputs", [])]
    assert any(PLOTLY_MIME in o.get("data", {}) for o in outputs)
    assert any(o.get("data", {}).get("text/plain") == WIDGET_NOTE for o in outputs)
    page = (out / "99_test.html").read_text()
    assert page.count('id="hnlab-plotlyjs"') == 1 and len(page) < 5_000_000


def lesson_project(root):
    (root / "notebooks").mkdir(parents=True)
    nbformat.write(new_notebook(cells=[new_code_cell("1")]), root / "notebooks" / "01_first.ipynb")
    return root


def test_run_uses_the_project_you_stand_in(tmp_path, monkeypatch):
    project = lesson_project(tmp_path / "clone")
    (project / "hnlab").mkdir()
    monkeypatch.chdir(project / "hnlab")  # anywhere inside the project
    assert cli.project_notebooks() == project / "notebooks"
    ran = []

    def fake_execute(notebook, out_dir, params):
        ran.append((notebook, out_dir))
        return {"notebook": notebook.stem, "status": "ok", "results": {}, "wall_seconds": 0.0}

    monkeypatch.setattr(cli, "execute", fake_execute)
    assert cli.main(["run"]) == 0
    assert ran[0][0] == project / "notebooks" / "01_first.ipynb"
    assert ran[0][1].parent == project / "runs" and (ran[0][1] / "summary.json").exists()
    other = lesson_project(tmp_path / "other")
    assert cli.main(["run", "--notebooks", str(other / "notebooks")]) == 0
    assert ran[1][0].parent == other / "notebooks" and ran[1][1].parent == other / "runs"
    assert json.loads((ran[1][1] / "summary.json").read_text())[0]["notebook"] == "01_first"


def test_run_outside_a_project_says_so(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="no lessons here"):
        cli.project_notebooks()


def test_progress_bars_are_dropped_and_other_widgets_say_where_they_work():
    from hnlab.export import without_widgets

    state = {
        "bar": {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_p", "IPY_MODEL_t"]}},
        "p": {"model_name": "FloatProgressModel", "state": {}},
        "t": {"model_name": "HTMLModel", "state": {"value": "toy: 100%"}},
        "box": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_t"]}},
    }
    outputs = [new_output("display_data", data={WIDGET_MIME: {"model_id": m}}) for m in ("bar", "box")]
    nb = new_notebook(
        cells=[new_code_cell("x", outputs=outputs)],
        metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {"state": state}}},
    )
    slim = without_widgets(nb)
    assert "widgets" not in slim.metadata
    assert [o.data["text/plain"] for o in slim.cells[0].outputs] == [WIDGET_NOTE]
