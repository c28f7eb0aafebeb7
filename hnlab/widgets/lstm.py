"""Lesson 05's retraining widget: pick a method, beta and the number of tasks, train a small
SplitMNIST run and see its accuracy matrix (notebooks/05_lstm_hypernetworks.ipynb).

``retrain(data, method, beta, num_tasks, ...)`` is the plain function behind the widget (tests and
batch runs call it without a kernel); ``retrain_widget(data)`` wraps it in controls and a button.
"""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import plotly.graph_objects as go

from ..experiments.benchmarks import run_benchmark
from ..methods import paper_settings, smoke_settings
from ..viz.benchmarks import accuracy_matrices_figure
from ..viz.lstm import LABELS


def retrain(data, method: str, beta: float, num_tasks: int, scenario: int = 1, iters: int = 60, seed: int = 0):
    """Train ``method`` on ``num_tasks`` SplitMNIST tasks with a small target (smoke settings and
    ``iters`` steps per task) and ``beta`` (0: none, for the regularized methods); the results dict."""
    s = smoke_settings(paper_settings("splitmnist", scenario, method))
    s = replace(s, num_tasks=num_tasks, iters=iters, beta=float(beta))
    return run_benchmark(s, data, seeds=1, first_seed=seed, progress=False)


def retrain_figure(results: dict) -> go.Figure:
    fig = accuracy_matrices_figure(results, [results["method"]])
    name = LABELS.get(results["method"], results["method"])
    fig.update_layout(width=520, height=420, title=f"{name}: {fig.layout.title.text}")
    return fig


def retrain_widget(data, methods=tuple(LABELS), scenario: int = 1, iters: int = 60) -> widgets.VBox:
    """Controls (method, beta, tasks), a button that retrains, and the accuracy matrix it gives."""
    method = widgets.Dropdown(options=[(LABELS[m], m) for m in methods], description="method")
    beta = widgets.FloatLogSlider(value=0.01, base=10, min=-4, max=0, description="beta")
    tasks = widgets.IntSlider(value=3, min=2, max=5, description="tasks")
    button = widgets.Button(description="train", button_style="primary")
    status = widgets.Label("press train: a small run of a few seconds per task")
    out = widgets.Output()

    def train(_=None):
        status.value = f"training {LABELS[method.value]} on {tasks.value} tasks ..."
        results = retrain(data, method.value, beta.value, tasks.value, scenario, iters)
        out.clear_output(wait=True)
        with out:
            retrain_figure(results).show()
        status.value = f"final accuracy {results['final_acc']:.1f} % (CL{scenario}, {data.source} data)"

    button.on_click(train)
    return widgets.VBox([widgets.HBox([method, beta, tasks, button]), status, out])
