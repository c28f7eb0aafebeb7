"""The score-matrix explorer of notebooks/03_benchmarks.ipynb.

``matrix_figure(by_scenario, scenario, method)`` is the plain function behind the widget (tests
call it without a kernel); ``matrix_explorer(by_scenario)`` lets a student pick a scenario and a
method and see its accuracy matrix, from results already computed (nothing retrains).
"""

from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go

from ..viz import method_label
from ..viz.benchmarks import SCENARIO_NAMES, accuracy_matrices_figure


def matrix_figure(by_scenario: dict[int, dict], scenario: int, method: str) -> go.Figure:
    """The accuracy matrix of ``method`` trained and scored in ``scenario``."""
    if scenario not in by_scenario:
        raise ValueError(f"no results for CL{scenario}; have {sorted(by_scenario)}")
    results = by_scenario[scenario]
    names = [results["method"], *results["baselines"]]
    if method not in names:
        raise ValueError(f"no results for method {method!r} in CL{scenario}; have {names}")
    fig = accuracy_matrices_figure(results, [method])
    fig.update_layout(width=520, height=420)
    return fig


def matrix_explorer(by_scenario: dict[int, dict]) -> widgets.VBox:
    """Two dropdowns (scenario, method) above the chosen accuracy matrix."""
    # its own copies: the lesson's last cell pops "runs" from the results it writes, and the
    # explorer must keep answering after Run All (found by browser_tests/)
    by_scenario = {c: dict(r) for c, r in by_scenario.items()}
    first = by_scenario[min(by_scenario)]
    scenario = widgets.Dropdown(
        options=[(SCENARIO_NAMES[c], c) for c in sorted(by_scenario)],
        description="scenario",
        style={"description_width": "initial"},
    )
    method = widgets.Dropdown(
        options=[(method_label(m), m) for m in (first["method"], *first["baselines"])], description="method"
    )
    figure = go.FigureWidget(matrix_figure(by_scenario, scenario.value, method.value))

    def redraw(_=None):
        new = matrix_figure(by_scenario, scenario.value, method.value)
        with figure.batch_update():
            figure.data[0].update(z=new.data[0].z, text=new.data[0].text, x=new.data[0].x, y=new.data[0].y)
            figure.layout.title = new.layout.title
            figure.layout.annotations[0].text = new.layout.annotations[0].text

    scenario.observe(redraw, names="value")
    method.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([scenario, method]), figure])
