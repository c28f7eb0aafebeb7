"""The batch-norm explorer of notebooks/08_conv_targets.ipynb.

``channel_figure(results, task, other)`` is the plain function behind the widget (tests call it
without a kernel): the first layer's running mean and variance per channel for two tasks side by
side. ``statistics_explorer(results)`` lets a student pick the two tasks; nothing retrains.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..viz import style, task_color, task_label


def channel_figure(results: dict, task: int, other: int = 0, seed_index: int = 0) -> go.Figure:
    """Running mean and variance of the first batch-norm layer, per channel, of tasks ``task`` and ``other``."""
    run = results["runs"][seed_index]
    mean, var = np.asarray(run["bn_stem_mean"]), np.asarray(run["bn_stem_var"])
    for t in (task, other):
        if not 0 <= t < len(mean):
            raise ValueError(f"task {t} out of range: statistics kept for {len(mean)} tasks (0..{len(mean) - 1})")
    channels = [f"{c + 1}" for c in range(mean.shape[1])]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("running mean", "running variance"))
    for t in (other, task):
        for col, values in ((1, mean[t]), (2, var[t])):
            fig.add_bar(x=channels, y=values, name=task_label(t), marker_color=task_color(t), legendgroup=str(t),
                        showlegend=col == 1, row=1, col=col)  # fmt: skip
    fig.update_xaxes(title_text="channel of the first layer")
    fig.update_layout(barmode="group", height=340, title="First batch-norm layer: statistics of two tasks")
    return style(fig)


def statistics_explorer(results: dict) -> widgets.VBox:
    """Two dropdowns (task, compared task) above ``channel_figure``."""
    T = len(results["runs"][0]["bn_stem_mean"])
    options = [(task_label(t), t) for t in range(T)]
    task = widgets.Dropdown(options=options, value=T - 1, description="task")
    other = widgets.Dropdown(options=options, value=0, description="against")
    figure = go.FigureWidget(channel_figure(results, task.value, other.value))

    def redraw(_=None):
        new = channel_figure(results, task.value, other.value)
        with figure.batch_update():
            for old, trace in zip(figure.data, new.data):
                old.update(y=trace.y, name=trace.name, marker_color=trace.marker.color, legendgroup=trace.legendgroup)

    task.observe(redraw, names="value")
    other.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([task, other]), figure])
