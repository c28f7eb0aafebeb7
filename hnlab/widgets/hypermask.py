"""The retrain widget of notebooks/06_hypermask.ipynb: sparsity p and lambda -> a small SplitMNIST run.

``retrain(data, sparsity, lam, ...)`` is the plain function behind the widget (tests call it
without a kernel): a few tasks of a short SplitMNIST run with HyperMask's other settings kept,
returning the run's score matrix, kept share per tensor and mask overlap. ``retrain_figure`` draws
one such run; ``retrain_widget`` puts two sliders and a button above it (nothing trains until the
button is pressed, so batch execution never waits on it).
"""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..experiments.benchmarks import make_tasks, run_seed
from ..methods import paper_settings
from ..viz import task_color, task_label
from ..viz.hypermask import tensor_label


def retrain(
    data, sparsity: float, lam: float, iters: int = 300, num_tasks: int = 3, hidden=(100,), seed: int = 0, device="cpu"
) -> dict:
    """One short SplitMNIST run of HyperMask with ``sparsity`` (p, percent) and ``lam``; its
    ``run_seed`` dict (``matrix``, ``kept_fraction``, ``mask_overlap``, ``mask_tensors``, ...)."""
    s = paper_settings("splitmnist", 1, "hypermask", hparams={"sparsity": sparsity, "lam": lam})
    s = replace(s, num_tasks=num_tasks, iters=iters, target_hidden=tuple(hidden))
    result = run_seed(s, make_tasks(s, data, seed, device), seed, device, progress=False)
    return {**result, "sparsity": sparsity, "lam": lam}


def retrain_figure(result: dict) -> go.Figure:
    """Accuracy of each task after the last one, the share each tensor keeps, the mean overlap."""
    final = np.asarray(result["matrix"][-1], dtype=float)
    kept = 100 * np.asarray(result["kept_fraction"], dtype=float).mean(0)
    overlap = np.asarray(result["mask_overlap"], dtype=float)
    T = len(overlap)
    shared = 100 * (overlap.sum() - T) / max(1, T * (T - 1))
    fig = make_subplots(
        1,
        2,
        subplot_titles=["accuracy after the last task", f"weights kept (mean over tasks); overlap {shared:.0f}%"],
    )
    fig.add_bar(
        x=[task_label(t) for t in range(len(final))],
        y=final,
        marker_color=[task_color(t) for t in range(len(final))],
        text=[f"{v:.1f}" for v in final],
        textposition="outside",
        cliponaxis=False,
        showlegend=False,
        row=1,
        col=1,
    )
    fig.add_bar(
        x=[tensor_label(n) for n in result["mask_tensors"]],
        y=kept,
        marker_color="#009E73",
        showlegend=False,
        row=1,
        col=2,
    )
    fig.update_yaxes(range=[0, 108], title_text="test accuracy (%)", row=1, col=1)
    fig.update_yaxes(range=[0, 105], title_text="kept (%)", row=1, col=2)
    fig.update_layout(title=f"HyperMask, p = {result['sparsity']:g}%, lambda = {result['lam']:g}", height=400)
    return fig


def retrain_widget(
    data, first: dict, iters: int = 300, num_tasks: int = 3, hidden=(100,), seed: int = 0, device="cpu"
) -> widgets.VBox:
    """Sliders for p and log10 lambda and a button that retrains; shows ``first`` until then."""
    p = widgets.FloatSlider(value=first["sparsity"], min=0, max=95, step=5, description="p (%)")
    log_lam = widgets.FloatSlider(
        value=float(np.log10(max(first["lam"], 1e-6))), min=-6, max=0, step=0.5, description="log10 lambda"
    )
    button = widgets.Button(description="retrain", button_style="primary")
    status = widgets.Label(f"{num_tasks} SplitMNIST tasks of {iters} steps per press")
    figure = go.FigureWidget(retrain_figure(first))

    def run(_=None):
        status.value = "training..."
        new = retrain_figure(retrain(data, p.value, 10**log_lam.value, iters, num_tasks, hidden, seed, device))
        with figure.batch_update():
            for old, trace in zip(figure.data, new.data):
                old.update(x=trace.x, y=trace.y, text=trace.text)
            figure.layout.title = new.layout.title
            figure.layout.annotations[1].text = new.layout.annotations[1].text
        status.value = "done"

    button.on_click(run)
    return widgets.VBox([widgets.HBox([p, log_lam, button]), status, figure])
