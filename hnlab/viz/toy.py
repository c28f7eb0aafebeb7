"""Figures for the 1D regression toy (notebooks/01_toy1d.ipynb): von Oswald et al. Fig. 2."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import method_color, method_label, task_color, task_label

#: A task whose final test MSE is above this counts as lost (lesson 01, bench/toy1d.py).
LOST_MSE = 0.04


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
                name=f"{task_label(t)}: truth",
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
                name=f"{task_label(t)}: prediction",
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

    def subtitle(name: str) -> str:
        return name if not mse else f"{name}<br>test MSE {' / '.join(f'{v:.2g}' for v in mse[name])}"

    subtitles = [subtitle(name) for name in names]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=subtitles, shared_yaxes=True)
    for col, name in enumerate(names, start=1):
        for trace in toy_panel_traces(curves, panels[name], show_legend=col == 1):
            fig.add_trace(trace, row=1, col=col)
        fig.update_xaxes(title_text="input x", row=1, col=col)
    fig.update_yaxes(title_text="output y", row=1, col=1)
    fig.update_layout(title=title, height=420, margin=dict(t=110))
    return fig


def mse_matrix_figure(matrix: list[list[float]], title: str = "test MSE after each task") -> go.Figure:
    """Heatmap of ``matrix[i][j]`` (MSE on task j after training task i), log colour scale."""
    import numpy as np

    values = np.log10(np.maximum(np.asarray(matrix, dtype=float), 1e-8))
    labels = [task_label(j) for j in range(len(matrix))]
    text = [[f"{v:.2g}" for v in row] for row in matrix]
    fig = go.Figure(
        go.Heatmap(
            z=values,
            x=labels,
            y=[f"after {lab}" for lab in labels],
            text=text,
            texttemplate="%{text}",
            colorscale="Viridis",
            colorbar=dict(title="test MSE<br>(log10)"),
        )
    )
    fig.update_layout(
        title=title,
        xaxis_title="tested on",
        yaxis=dict(autorange="reversed", title="after training"),
        height=360,
    )
    return fig


def loss_curves_figure(
    losses: dict[str, list[list[float]]], every: int = 10, title: str = "task loss during training"
) -> go.Figure:
    """Training loss per task, tasks one after another on the x axis, one line per method
    (keys are method names such as ``"hnet"``: the lab's colour and label for each)."""
    fig = go.Figure()
    for name, per_task in losses.items():
        ys = [v for task_losses in per_task for v in task_losses]
        fig.add_trace(
            go.Scatter(
                x=[i * every for i in range(len(ys))],
                y=ys,
                mode="lines",
                name=method_label(name),
                line=dict(color=method_color(name)),
            )
        )
    fig.update_layout(
        title=title,
        xaxis_title="training step (tasks one after another)",
        yaxis_title="task loss (batch MSE)",
        yaxis_type="log",
        height=350,
    )
    return fig


def seed_mse_figure(
    finals: dict[str, list[list[float]]],
    seeds: list[int],
    threshold: float = LOST_MSE,
    title: str = "final test MSE of every seed",
) -> go.Figure:
    """One marker per seed and task: ``finals[method][s][t]`` (the MSE on task t after the last
    task), tasks on the x axis, methods side by side in their colours, the line at ``threshold``."""
    fig = go.Figure()
    num_tasks = len(next(iter(finals.values()))[0])
    for method, per_seed in finals.items():
        xs = [task_label(t) for _ in per_seed for t in range(num_tasks)]
        ys = [v for row in per_seed for v in row]
        text = [f"seed {s}" for s in seeds for _ in range(num_tasks)]
        fig.add_trace(
            go.Box(
                x=xs,
                y=ys,
                text=text,
                name=method_label(method),
                marker=dict(color=method_color(method), size=7),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                fillcolor="rgba(0,0,0,0)",
                line=dict(width=1),
                hovertemplate="%{text}: %{y:.2g}<extra>%{fullData.name}</extra>",
            )
        )
    fig.add_hline(
        y=threshold, line=dict(dash="dash", color="gray"), annotation_text=f"{threshold:g}", annotation_position="right"
    )
    fig.update_layout(
        title=title,
        boxmode="group",
        xaxis_title="task",
        yaxis_title="final test MSE",
        yaxis_type="log",
        height=400,
    )
    return fig


def seed_curves_figure(
    losses: list[list[list[float]]],
    seeds: list[int],
    method: str = "hnet",
    every: int = 10,
    title: str = "task loss of every seed during training",
) -> go.Figure:
    """Every seed's training loss ``losses[s][t][k]`` (every ``every`` steps), tasks one after
    another, one thin line per seed in the method's colour; task boundaries marked."""
    fig = go.Figure()
    per_task = len(losses[0][0])
    for s, per_seed in zip(seeds, losses):
        ys = [v for task_losses in per_seed for v in task_losses]
        fig.add_trace(
            go.Scatter(
                x=[i * every for i in range(len(ys))],
                y=ys,
                mode="lines",
                name=f"seed {s}",
                line=dict(color=method_color(method), width=1),
                opacity=0.5,
                hovertemplate=f"seed {s}: " + "%{y:.2g}<extra></extra>",
            )
        )
    for t in range(len(losses[0])):
        fig.add_vline(x=t * per_task * every, line=dict(color="gray", width=1, dash="dot"))
        fig.add_annotation(x=(t + 0.5) * per_task * every, y=1.02, yref="paper", text=task_label(t), showarrow=False)
    fig.update_layout(
        title=title,
        xaxis_title="training step (tasks one after another)",
        yaxis_title="task loss (batch MSE)",
        yaxis_type="log",
        showlegend=False,
        height=380,
    )
    return fig
