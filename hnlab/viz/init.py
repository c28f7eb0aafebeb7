"""Figures of notebooks/02_init_variance.ipynb: pure functions of results.

Histograms take ``{method: [values per layer]}`` tensors and draw density curves from
binned counts (``hnlab.init.diagnostics.histogram``), so notebooks stay small.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..init.diagnostics import histogram
from . import method_color, method_label, style

METHOD_ORDER = ("classical", "xavier", "kaiming", "xavier_harmonic", "hyperfan_in", "hyperfan_out")

#: Per-layer statistics of ``hnlab.init.diagnostics`` summaries, as axis titles in words.
STAT_TITLES = {
    "weight_var_x_fan_in": "Var(W) × fan-in",
    "activation_var": "activation variance",
    "weight_var": "weight variance Var(W)",
}


def layer_histograms(
    values: dict, title: str, bins: int = 60, value_range=None, max_layers: int = 8, value_name: str = "activation"
) -> go.Figure:
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
                    name=method_label(method),
                    legendgroup=method,
                    showlegend=i == 0,
                    line_color=method_color(method),
                ),
                row=1,
                col=i + 1,
            )
    fig.update_yaxes(type="log")
    fig.update_yaxes(title_text="density (log scale)", row=1, col=1)
    fig.update_xaxes(title_text=f"{value_name} value")
    fig.update_layout(title=title, height=360, margin=dict(t=70, b=50), legend=dict(orientation="h", y=-0.3))
    return style(fig)


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
                name=method_label(method),
                line_color=method_color(method),
            )
        )
    words = STAT_TITLES.get(key, key.replace("_", " "))
    fig.update_layout(
        title=title or f"{words} per main-net layer",
        xaxis_title="main-net layer",
        yaxis_title=f"{words} (log scale)",
        yaxis_type="log",
        xaxis_dtick=1,
        height=330,
    )
    return style(fig)


def training_curves(curves: dict, title: str = "SGD on MNIST (Chang et al. Fig. 3)") -> go.Figure:
    """Training loss and test accuracy against steps, one color per setting."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("training loss (mean CE)", "test accuracy (%)"))
    for setting, curve in curves.items():
        color = method_color(setting)
        for col, key in ((1, "loss"), (2, "test_accuracy")):
            fig.add_trace(
                go.Scatter(
                    x=curve["step"],
                    y=curve[key],
                    mode="lines+markers",
                    name=method_label(setting),
                    legendgroup=setting,
                    showlegend=col == 1,
                    line_color=color,
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(type="log", title_text="training loss (log scale)", row=1, col=1)
    fig.update_yaxes(title_text="test accuracy (%)", row=1, col=2)
    fig.update_xaxes(title_text="SGD step")
    fig.update_layout(title=title, height=350)
    return style(fig)


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
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=method_label(method), line_color=method_color(method)))
    fig.update_layout(
        title=title,
        xaxis_title="training step (the tasks one after another)",
        yaxis_title="training MSE of the current task (log scale)",
        yaxis_type="log",
        height=350,
    )
    return style(fig)
