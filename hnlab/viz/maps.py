"""Figures of task-embedding-space maps, pure functions of results (notebooks/04_embedding_maps.ipynb).

``map_figure`` draws one task's map (``hnlab.maps.EmbeddingMap``) as a heatmap with every
learned embedding marked and labelled; ``maps_grid_figure`` puts all tasks side by side on
one shared colour scale (von Oswald et al., Fig. 4). Accuracy is shown in percent; MSE
on a log10 scale, reversed so that good regions are bright in both. Tasks are numbered
1..T and embeddings e_1..e_T, as in the paper (``task_id`` stays 0-based in code).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from . import emb_label, style, task_color, task_label


def _tolist(t) -> list:
    return t.tolist() if isinstance(t, torch.Tensor) else list(t)


def map_z(m) -> tuple[list, str, str]:
    """Heatmap values, colour-bar title and colour scale for a map's metric."""
    if m.metric == "mse":
        z = torch.log10(m.values.clamp_min(1e-12))
        return z.tolist(), "log10 MSE", "Viridis_r"
    return m.values.tolist(), "accuracy (%)", "Viridis"


def shared_range(maps) -> tuple[float, float]:
    """One colour range for several maps (in the units ``map_z`` plots)."""
    values = [v for m in maps for row in map_z(m)[0] for v in row if math.isfinite(v)]
    return min(values), max(values)


def heatmap_trace(m, zrange=None, showscale: bool = True, coloraxis: str | None = None) -> go.Heatmap:
    z, title, scale = map_z(m)
    unit = "MSE" if m.metric == "mse" else "acc"
    text = [[f"{v:.4g}" for v in row] for row in _tolist(m.values)]
    kwargs = (
        dict(coloraxis=coloraxis)
        if coloraxis
        else dict(
            colorscale=scale,
            showscale=showscale,
            colorbar=dict(title=title),
            zmin=zrange[0] if zrange else None,
            zmax=zrange[1] if zrange else None,
        )
    )
    return go.Heatmap(
        x=_tolist(m.xs),
        y=_tolist(m.ys),
        z=z,
        text=text,
        name=m.task_name,
        hovertemplate=f"e=(%{{x:.2f}}, %{{y:.2f}})<br>{unit} %{{text}}<extra>{task_label(m.task_id)}</extra>",
        **kwargs,
    )


def embedding_labels(num_tasks: int) -> list[str]:
    """Marker labels of the learned embeddings: e<sub>1</sub> ... e<sub>T</sub>."""
    return [emb_label(t) for t in range(num_tasks)]


def embedding_markers(points, labels=None, highlight: int | None = None, font_size: int = 13) -> go.Scatter:
    """Learned embeddings ``points [T, 2]`` as crosses in their task's colour, each labelled
    (``labels``, default e_1..e_T) in white on a dark outline; ``highlight`` draws one larger."""
    pts = _tolist(points)
    labels = embedding_labels(len(pts)) if labels is None else list(labels)
    sizes = [16 if t == highlight else 11 for t in range(len(pts))]
    return go.Scatter(
        x=[p[0] for p in pts],
        y=[p[1] for p in pts],
        mode="markers+text",
        text=labels,
        textposition="top center",
        textfont=dict(color="white", size=font_size, shadow="0 0 3px black"),
        marker=dict(
            size=sizes, color=[task_color(t) for t in range(len(pts))], symbol="x", line=dict(color="white", width=1.5)
        ),
        name="learned embeddings",
        showlegend=False,
        hovertemplate="%{text} (learned) at (%{x:.2f}, %{y:.2f})<extra></extra>",
    )


def map_figure(m, points, labels=None, zrange=None, title: str | None = None) -> go.Figure:
    """One task's map with every learned embedding marked and labelled (its own one larger)."""
    fig = go.Figure([heatmap_trace(m, zrange), embedding_markers(points, labels, highlight=m.task_id)])
    fig.update_layout(
        title=title or f"{task_label(m.task_id)} ({m.task_name}): {m.metric} over the embedding plane",
        xaxis_title="embedding coordinate 1",
        yaxis_title="embedding coordinate 2",
        width=560,
        height=480,
    )
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return style(fig)


def maps_grid_figure(maps, points, labels=None, cols: int | None = None, title: str | None = None) -> go.Figure:
    """Small multiples: every task's map on one shared colour scale, learned embeddings on each."""
    if not maps:
        raise ValueError("no maps to draw")
    cols = cols or min(len(maps), 5)
    rows = math.ceil(len(maps) / cols)
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=[f"{task_label(m.task_id)}: {m.task_name}" for m in maps],
        horizontal_spacing=0.04,
        vertical_spacing=0.16,
        shared_xaxes="all",
        shared_yaxes="all",
    )
    zmin, zmax = shared_range(maps)
    _, bar_title, scale = map_z(maps[0])
    for i, m in enumerate(maps):
        r, c = i // cols + 1, i % cols + 1
        fig.add_trace(heatmap_trace(m, coloraxis="coloraxis"), row=r, col=c)
        fig.add_trace(embedding_markers(points, labels, highlight=m.task_id, font_size=12), row=r, col=c)
    fig.update_layout(
        coloraxis=dict(colorscale=scale, cmin=zmin, cmax=zmax, colorbar=dict(title=bar_title)),
        title=title or "every task's score over the embedding plane (crosses: learned embeddings)",
        height=270 * rows + 110,
        width=min(230 * cols + 150, 1050),  # fits a notebook's and a lesson page's width
        margin=dict(t=90, b=60),
    )
    fig.update_xaxes(title_text="embedding coord. 1", row=rows)
    fig.update_yaxes(title_text="embedding coord. 2", col=1)
    return style(fig)


def cross_scores_figure(S, names, metric: str = "accuracy") -> go.Figure:
    """``S[i][j]``: task i's score at task j's embedding, as an annotated heatmap."""
    S = _tolist(S)
    fmt = "{:.1f}" if metric == "accuracy" else "{:.3g}"
    fig = go.Figure(
        go.Heatmap(
            z=S,
            x=embedding_labels(len(names)),
            y=[f"{task_label(i)} ({name})" for i, name in enumerate(names)],
            colorscale="Viridis" if metric == "accuracy" else "Viridis_r",
            text=[[fmt.format(v) for v in row] for row in S],
            texttemplate="%{text}",
            colorbar=dict(title="accuracy (%)" if metric == "accuracy" else metric),
            hovertemplate="%{y} at %{x}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=f"each task (rows) scored at each learned embedding (columns): {metric}",
        xaxis_title="learned embedding given to the hypernetwork",
        yaxis_title="task evaluated",
        width=580,
        height=440,
    )
    fig.update_yaxes(autorange="reversed")
    return style(fig)


def probe_marker(xy) -> go.Scatter:
    """The embedding the student is probing, as a star."""
    return go.Scatter(
        x=[float(xy[0])],
        y=[float(xy[1])],
        mode="markers",
        name="probe",
        showlegend=False,
        marker=dict(symbol="star", size=18, color="white", line=dict(color="black", width=1.5)),
        hovertemplate="probe (%{x:.2f}, %{y:.2f})<extra></extra>",
    )


def probe_scores_figure(scores, names, metric: str = "accuracy", title: str = "") -> go.Figure:
    """Every task's score with the network generated at the probed embedding."""
    scores = _tolist(scores)
    fig = go.Figure(
        go.Bar(
            x=list(names),
            y=scores,
            marker_color=[task_color(t) for t in range(len(scores))],
            text=[f"{v:.1f}" if metric == "accuracy" else f"{v:.3g}" for v in scores],
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.update_layout(
        title=title or f"{metric} of each task at the probe",
        xaxis_title="task",
        yaxis_title="test accuracy (%)" if metric == "accuracy" else f"test {metric}",
        width=460,
        height=380,
        margin=dict(t=80),
        yaxis_range=[0, 112] if metric == "accuracy" else None,
    )
    if metric == "mse":
        fig.update_yaxes(type="log")
    return style(fig)


def probe_prediction_figure(x, y_true, y_pred, name: str = "", title: str = "") -> go.Figure:
    """A 1D regression task: its test targets and the prediction of the probed network."""
    x, y_true, y_pred = (_tolist(torch.as_tensor(v).flatten()) for v in (x, y_true, y_pred))
    fig = go.Figure(
        [
            go.Scatter(
                x=x, y=y_true, mode="markers", name=f"task {name} (test)", marker=dict(color="lightgray", size=6)
            ),
            go.Scatter(x=x, y=y_pred, mode="lines", name="network at the probe", line=dict(color="black", width=3)),
        ]
    )
    fig.update_layout(
        title=title or "the generated network's predictions", xaxis_title="x", yaxis_title="y", width=460, height=380
    )
    return style(fig)
