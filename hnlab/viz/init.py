"""Figures of notebooks/02_init_variance.ipynb: pure functions of results.

Histograms take ``{method: [values per layer]}`` tensors and draw density curves from
binned counts (``hnlab.init.diagnostics.histogram``), so notebooks stay small.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..init.diagnostics import histogram
from . import task_color

METHOD_ORDER = ("classical", "xavier", "kaiming", "xavier_harmonic", "hyperfan_in", "hyperfan_out")


def method_color(method: str, methods) -> str:
    return task_color(list(methods).index(method))


def layer_histograms(values: dict, title: str, bins: int = 60, value_range=None, max_layers: int = 8) -> go.Figure:
    """One panel per main-net layer, one density curve per method (Chang et al. Fig. 1)."""
    num_layers = min(max(len(v) for v in values.values()), max_layers)
    fig = make_subplots(rows=1, cols=num_layers, subplot_titles=[f"layer {i + 1}" for i in range(num_layers)])
    for method, layers in values.items():
        for i, tensor in enumerate(layers[:num_layers]):
            hist = histogram(tensor, bins, value_range)
            fig.add_trace(
                go.Scatter(
                    x=hist["centers"],
                    y=hist["density"],
                    mode="lines",
                    line_shape="hvh",
                    name=method,
                    legendgroup=method,
                    showlegend=i == 0,
                    line_color=method_color(method, values),
                ),
                row=1,
                col=i + 1,
            )
    fig.update_yaxes(type="log")
    fig.update_layout(title=title, height=330, margin=dict(t=70, b=40), legend=dict(orientation="h", y=-0.15))
    return fig


def variance_per_layer(summaries: dict, key: str = "activation_var", title: str | None = None) -> go.Figure:
    """``key`` (a per-layer list in each method's summary) against depth, log scale."""
    fig = go.Figure()
    for method, summary in summaries.items():
        values = summary[key]
        fig.add_trace(
            go.Scatter(
                x=list(range(1, len(values) + 1)),
                y=values,
                mode="lines+markers",
                name=method,
                line_color=method_color(method, summaries),
            )
        )
    fig.update_layout(
        title=title or f"{key} per main-net layer", xaxis_title="layer", yaxis_title=key, yaxis_type="log", height=330
    )
    return fig


def training_curves(curves: dict, title: str = "SGD on MNIST (Chang et al. Fig. 3)") -> go.Figure:
    """Training loss and test accuracy against steps, one color per setting."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss (mean CE)", "test accuracy (%)"))
    for setting, curve in curves.items():
        color = method_color(setting, curves)
        for col, key in ((1, "loss"), (2, "test_accuracy")):
            fig.add_trace(
                go.Scatter(
                    x=curve["step"],
                    y=curve[key],
                    mode="lines+markers",
                    name=setting,
                    legendgroup=setting,
                    showlegend=col == 1,
                    line_color=color,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(title_text="SGD step")
    fig.update_layout(title=title, height=350)
    return fig


def continual_losses(
    results: dict, every: int = 10, title: str = "Continual 1D regression (Chang et al. Fig. 4)"
) -> go.Figure:
    """Training loss of each task, tasks one after another, one curve per init."""
    fig = go.Figure()
    for method, result in results.items():
        x, y, offset = [], [], 0
        for losses in result["losses"]:
            x += [offset + every * i for i in range(len(losses))] + [None]
            y += list(losses) + [None]
            offset += every * len(losses)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=method, line_color=method_color(method, results)))
    fig.update_layout(
        title=title, xaxis_title="step (tasks in order)", yaxis_title="task MSE", yaxis_type="log", height=350
    )
    return fig
