"""Figures of lesson 05 (LSTM hypernetworks, IWR, GROW): pure functions of arrays and results dicts.

``weights_figure``: generated weights per target layer, HNET next to LSTM_NET; ``hidden_state_figure``:
the LSTM's state along the chunk sequence; ``fisher_images_figure``: IWR's Fisher of the first layer
as 28x28 images (which pixels each task's network relies on); ``distance_figure``: the regularizer's
per-weight distance, plain and Fisher-weighted; ``grow_params_figure``: parameters held as tasks
arrive; ``table1_figure``: Chandra's Table 1 next to hnlab's rows. Introduced in
notebooks/05_lstm_hypernetworks.ipynb.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..results_table import PAPER_ROWS
from . import method_color, method_label, style, task_label

#: Names of lesson 05's methods in legends (code names stay in the results JSON).
#: The methods of lesson 05, in the order of Chandra et al.'s Table 1.
LESSON_METHODS = ("hnet", "hnet_iwr", "lstm_hnet", "lstm_hnet_iwr", "lstm_grow")
LABELS = {m: method_label(m) for m in LESSON_METHODS}
#: Chandra et al. 2023, Table 1 (no replay): (CL1, CL2, CL3) per benchmark; the rows the results table uses.
TABLE1_METHODS = ("ewc", "online_ewc", "si", *LESSON_METHODS)
CHANDRA_TABLE1 = {
    bench: {m: PAPER_ROWS[m, bench][:3] for m in TABLE1_METHODS} for bench in ("splitmnist", "permutedmnist")
}


def label(method: str) -> str:
    return method_label(method)


def weights_figure(layers: dict[str, list[tuple[str, np.ndarray]]], bins: int = 60) -> go.Figure:
    """Histograms of generated weights, one panel per target tensor, one colour per method:
    ``layers[method] = [(tensor name, values), ...]`` in the same tensor order for every method."""
    methods = list(layers)
    names = [name for name, _ in layers[methods[0]]]
    fig = make_subplots(rows=1, cols=len(names), subplot_titles=names)
    for method in methods:
        for col, (_, values) in enumerate(layers[method], start=1):
            fig.add_histogram(
                x=np.asarray(values).ravel(),
                nbinsx=bins,
                name=label(method),
                legendgroup=method,
                showlegend=col == 1,
                marker_color=method_color(method),
                opacity=0.6,
                histnorm="probability density",
                row=1,
                col=col,
            )
        fig.update_xaxes(title_text="generated weight", row=1, col=col)
    fig.update_yaxes(title_text="density", row=1, col=1)
    fig.update_layout(barmode="overlay", title="Generated weights per target tensor", height=360)
    return style(fig)


def chunk_correlation_figure(chunks: dict[str, np.ndarray]) -> go.Figure:
    """Correlation between consecutive chunks, ``corr(chunk_j, chunk_{j+1})`` along the sequence,
    per method: ``chunks[method] = [N, chunk]`` (the head outputs of one task before cutting)."""
    fig = go.Figure()
    for method, c in chunks.items():
        c = np.asarray(c)
        c = (c - c.mean(1, keepdims=True)) / (c.std(1, keepdims=True) + 1e-12)
        corr = (c[:-1] * c[1:]).mean(1)
        x = np.arange(2, len(c) + 1)
        fig.add_scatter(x=x, y=corr, mode="lines+markers", name=label(method), line_color=method_color(method))
    fig.update_layout(
        title="How alike are neighbouring chunks?",
        xaxis_title="chunk j (correlation with chunk j-1)",
        yaxis_title="correlation",
        height=340,
    )
    return style(fig)


def hidden_state_figure(h: np.ndarray, task: int = 0) -> go.Figure:
    """The LSTM's hidden state ``h [N, H]`` along the chunk sequence of one task (a heatmap)."""
    h = np.asarray(h)
    fig = go.Figure(
        go.Heatmap(
            z=h.T,
            x=np.arange(1, h.shape[0] + 1),
            y=np.arange(1, h.shape[1] + 1),
            colorscale="RdBu",
            zmid=0,
            colorbar_title="h",
        )
    )
    fig.update_layout(
        title=f"LSTM state along the chunks, {task_label(task)}",
        xaxis_title="chunk j",
        yaxis_title="hidden unit",
        height=380,
    )
    return style(fig)


def fisher_images_figure(first_layer: np.ndarray, side: int = 28) -> go.Figure:
    """IWR's Fisher of the first target layer per old task, summed over its hidden units and shown
    as ``side x side`` images (log10 scale): ``first_layer [T, hidden, side * side]``."""
    per_pixel = np.asarray(first_layer).sum(1)  # [T, side^2]
    T = per_pixel.shape[0]
    logs = np.log10(per_pixel + per_pixel[per_pixel > 0].min(initial=1e-30) * 1e-3)
    fig = make_subplots(rows=1, cols=T, subplot_titles=[task_label(t) for t in range(T)], horizontal_spacing=0.02)
    for t in range(T):
        fig.add_heatmap(
            z=logs[t].reshape(side, side)[::-1],
            coloraxis="coloraxis",
            row=1,
            col=t + 1,
        )
        fig.update_xaxes(showticklabels=False, row=1, col=t + 1)
        fig.update_yaxes(showticklabels=False, scaleanchor=f"x{t + 1}" if t else "x", row=1, col=t + 1)
    fig.update_layout(
        title="Fisher of the first layer per input pixel (log10, summed over hidden units)",
        coloraxis=dict(colorscale="Viridis", colorbar_title="log10 F"),
        height=300,
    )
    return style(fig)


def distance_figure(sq_dist: np.ndarray, fisher: np.ndarray, bins: int = 60) -> go.Figure:
    """Per-weight squared distance ``(Theta - Theta*)^2`` of an old task, plain and weighted by its
    Fisher: where the penalty's mass lies. Log-spaced histograms of the non-zero terms."""
    sq_dist, fisher = np.asarray(sq_dist).ravel(), np.asarray(fisher).ravel()
    fig = go.Figure()
    for name, values, color in (
        ("(Θ - Θ*)², plain regularizer", sq_dist, "#0072B2"),
        ("F · (Θ - Θ*)², IWR", fisher * sq_dist, "#D55E00"),
    ):
        values = values[values > 0]
        if values.size:
            fig.add_histogram(x=np.log10(values), nbinsx=bins, name=name, marker_color=color, opacity=0.6)
    fig.update_layout(
        barmode="overlay",
        title="Per-weight terms of the regularizer for task 1",
        xaxis_title="log10 of the term",
        yaxis_title="weights",
        height=340,
    )
    return style(fig)


def grow_params_figure(counts: dict[str, list[int]]) -> go.Figure:
    """Parameters held after each task, ``counts[method] = [after task 1, after task 2, ...]``."""
    fig = go.Figure()
    for method, values in counts.items():
        fig.add_scatter(
            x=[task_label(t) for t in range(len(values))],
            y=values,
            mode="lines+markers",
            name=label(method),
            line_color=method_color(method),
        )
    fig.update_layout(
        title="Parameters held as tasks arrive", xaxis_title="after learning", yaxis_title="parameters", height=340
    )
    return style(fig)


def table1_rows(benchmark: str, hnlab_rows: dict[str, dict[int, float]]) -> list[list[str]]:
    """Rows ``[method, paper CL1/CL2/CL3, hnlab CL1/CL2/CL3]``; ``hnlab_rows[method][scenario]``."""
    paper = CHANDRA_TABLE1[benchmark]
    rows = []
    for method in [m for m in paper if m in LABELS] + [m for m in hnlab_rows if m not in paper]:
        p = paper.get(method)
        ours = hnlab_rows.get(method, {})
        rows.append(
            [
                label(method),
                "-" if p is None else " / ".join(f"{v:.2f}" for v in p),
                " / ".join(f"{ours[c]:.2f}" if c in ours else "-" for c in (1, 2, 3)),
            ]
        )
    return rows


def table1_figure(benchmark: str, hnlab_rows: dict[str, dict[int, float]], source: str = "") -> go.Figure:
    """Chandra's Table 1 (CL1 / CL2 / CL3) next to hnlab's numbers as a plotly table."""
    rows = table1_rows(benchmark, hnlab_rows)
    columns = list(zip(*rows)) if rows else [[], [], []]
    fig = go.Figure(
        go.Table(
            header=dict(values=["method", "Chandra et al. Table 1: CL1 / CL2 / CL3", f"hnlab {source}: CL1/CL2/CL3"]),
            cells=dict(values=columns, align="left"),
        )
    )
    fig.update_layout(title=f"{benchmark}: the paper and hnlab", height=80 + 30 * len(rows))
    return fig
