"""Figures for the 1D regression toy (notebooks/01_toy1d.ipynb): von Oswald et al. Fig. 2."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import task_color


def toy_panel_traces(curves: list[dict], predictions: list[dict], show_legend: bool = True) -> list[go.Scatter]:
    """Ground truth (dashed lines) and predictions (markers) of each task.

    ``curves[t] = {"x": [...], "y": [...]}`` and ``predictions[t] = {"x": [...], "y": [...]}``.
    """
    traces = []
    for t, (curve, pred) in enumerate(zip(curves, predictions)):
        color = task_color(t)
        traces.append(
            go.Scatter(
                x=curve["x"],
                y=curve["y"],
                mode="lines",
                line=dict(dash="dash", color=color),
                name=f"task {t + 1} truth",
                legendgroup=f"t{t}",
                showlegend=show_legend,
            )
        )
        traces.append(
            go.Scatter(
                x=pred["x"],
                y=pred["y"],
                mode="markers",
                marker=dict(size=4, color=color),
                name=f"task {t + 1} prediction",
                legendgroup=f"t{t}",
                showlegend=show_legend,
            )
        )
    return traces


def toy_figure(
    curves: list[dict],
    panels: dict[str, list[dict]],
    mse: dict[str, list[float]] | None = None,
    title: str = "1D regression: hypernetwork vs multitask vs fine-tuning",
) -> go.Figure:
    """One subplot per method (e.g. ``{"(a) hypernetwork": preds, ...}``), MSEs in the subtitles."""
    names = list(panels)
    subtitles = [name if not mse else f"{name}<br>MSE {' / '.join(f'{v:.3g}' for v in mse[name])}" for name in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=subtitles, shared_yaxes=True)
    for col, name in enumerate(names, start=1):
        for trace in toy_panel_traces(curves, panels[name], show_legend=col == 1):
            fig.add_trace(trace, row=1, col=col)
        fig.update_xaxes(title_text="x", row=1, col=col)
    fig.update_yaxes(title_text="y", row=1, col=1)
    fig.update_layout(title=title, height=420, margin=dict(t=110))
    return fig


def mse_matrix_figure(matrix: list[list[float]], title: str = "test MSE after each task") -> go.Figure:
    """Heatmap of ``matrix[i][j]`` (MSE on task j after training task i), log colour scale."""
    import numpy as np

    values = np.log10(np.maximum(np.asarray(matrix, dtype=float), 1e-8))
    labels = [f"task {j + 1}" for j in range(len(matrix))]
    text = [[f"{v:.2g}" for v in row] for row in matrix]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=labels,
            y=[f"after {lab}" for lab in labels],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar=dict(title="log10 MSE"),
        )
    )
    fig.update_layout(title=title, yaxis=dict(autorange="reversed"), height=360)
    return fig


def loss_curves_figure(
    losses: dict[str, list[list[float]]], every: int = 10, title: str = "task loss during training"
) -> go.Figure:
    """Training loss per task, tasks one after another on the x axis, one line per method."""
    fig = go.Figure()
    for name, per_task in losses.items():
        ys = [v for task_losses in per_task for v in task_losses]
        fig.add_trace(go.Scatter(x=[i * every for i in range(len(ys))], y=ys, mode="lines", name=name))
    fig.update_layout(title=title, xaxis_title="iteration", yaxis_title="loss", yaxis_type="log", height=350)
    return fig
