"""Figures of HyperMask (pure functions of arrays and results dicts); notebooks/06_hypermask.ipynb.

``masks_by_tensor`` (``hnlab.methods.hypermask``) gives each target tensor's masks ``[T, *shape]``;
the figures here draw the first layer's masks as images, the share each task keeps per layer,
the overlap of the tasks' masks, theta's change per task and HyperMask next to HNET.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import method_color, method_label, style, task_color, task_label


def tensor_label(name: str) -> str:
    """``"layers.0.weight"`` as a student reads it: ``"layer 1 weights"``."""
    _, index, kind = name.split(".")
    return f"layer {int(index) + 1} {'weights' if kind == 'weight' else 'biases'}"


def mask_images_figure(first_layer: np.ndarray, units=(0, 1, 2, 3, 4, 5)) -> go.Figure:
    """The first layer's mask of some hidden units, one row per task: each unit's mask over the
    input pixels as an image (``first_layer [T, hidden, inputs]``; square inputs, 28x28 or 32x32)."""
    first_layer = np.asarray(first_layer, dtype=float)
    T, _, n = first_layer.shape
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"the first layer has {n} inputs, not a square image")
    units = list(units)
    fig = make_subplots(
        T,
        len(units),
        column_titles=[f"unit {u + 1}" for u in units],
        row_titles=[task_label(t) for t in range(T)],
        horizontal_spacing=0.01,
        vertical_spacing=0.01,
    )
    for t in range(T):
        for col, u in enumerate(units, start=1):
            fig.add_trace(
                go.Heatmap(
                    z=first_layer[t, u].reshape(side, side),
                    zmin=0,
                    zmax=1,
                    colorscale="Greys",
                    reversescale=True,
                    showscale=t == 0 and col == 1,
                    colorbar_title="mask",
                    hovertemplate="row %{y}, column %{x}: %{z:.2f}<extra></extra>",
                ),
                t + 1,
                col,
            )
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    fig.update_layout(
        title="The mask of the first layer: each hidden unit's mask over the input pixels (0: weight off)",
        height=120 + 110 * T,
        width=140 + 110 * len(units),
    )
    return fig


def kept_fraction_figure(kept, names) -> go.Figure:
    """Share of each target tensor's weights that each task's mask keeps (``kept [T][tensors]``)."""
    kept = np.asarray(kept, dtype=float)
    fig = go.Figure()
    for t, row in enumerate(kept):
        fig.add_bar(name=task_label(t), x=[tensor_label(n) for n in names], y=100 * row, marker_color=task_color(t))
    fig.update_layout(
        barmode="group",
        yaxis_title="weights kept (%)",
        yaxis_range=[0, 105],
        xaxis_title="target tensor (the last one, the output biases, is never masked)",
        title="How much of each layer every task keeps",
        legend_title="mask of",
    )
    return style(fig)


def overlap_figure(overlap, kept: float | None = None) -> go.Figure:
    """Heatmap of the overlap of the tasks' first-layer masks: kept in both / kept in either.
    ``kept`` (a share) adds the overlap two independent masks of that size would have."""
    overlap = 100 * np.asarray(overlap, dtype=float)
    labels = [task_label(t) for t in range(len(overlap))]
    chance = (
        ""
        if kept is None
        else f"; two independent masks keeping {100 * kept:.0f}% overlap {100 * kept / (2 - kept):.0f}%"
    )
    fig = go.Figure(
        go.Heatmap(
            z=overlap,
            x=labels,
            y=labels,
            zmin=0,
            zmax=100,
            colorscale="Viridis",
            text=np.round(overlap, 1),
            texttemplate="%{text}",
            colorbar_title="overlap (%)",
        )
    )
    fig.update_yaxes(autorange="reversed", title_text="mask of")
    fig.update_xaxes(title_text="mask of")
    fig.update_layout(title=f"Weights two tasks share (first layer){chance}", height=420, width=560)
    return fig


def theta_change_figure(change, names) -> go.Figure:
    """Mean |change| of theta per weight during each task, one line per target tensor (``change [T][tensors]``)."""
    change = np.asarray(change, dtype=float)
    tasks = [task_label(t) for t in range(len(change))]
    fig = go.Figure()
    for k, name in enumerate(names):
        fig.add_scatter(x=tasks, y=change[:, k], mode="lines+markers", name=tensor_label(name))
    fig.update_layout(
        yaxis_type="log",
        yaxis_title="mean |change of theta| per weight",
        xaxis_title="while learning",
        title="How far the shared weights theta move during each task (the L1 term holds them from task 2 on)",
        legend_title="tensor",
    )
    return style(fig)


def scenario_means(results: dict, method: str | None = None) -> dict[str, float]:
    """Mean over seeds and tasks of CL1/CL2/CL3 (read by entropy from each run) of the studied
    method (``method=None``) or a compared one, from a ``run_benchmark`` dict."""
    runs = results["runs"] if method in (None, results["method"]) else [r["baselines"][method] for r in results["runs"]]
    return {c: float(np.mean([np.mean(r[c]) for r in runs])) for c in ("cl1", "cl2", "cl3") if c in runs[0]}


def versus_figure(table: dict[str, dict[str, float]], title: str) -> go.Figure:
    """Bars of CL1/CL2/CL3 per method: ``table = {method: {"cl1": ..., "cl2": ..., "cl3": ...}}``."""
    fig = go.Figure()
    for name, values in table.items():
        keys = sorted(values)
        fig.add_bar(
            name=method_label(name),
            x=[k.upper() for k in keys],
            y=[values[k] for k in keys],
            marker_color=method_color(name),
            text=[f"{values[k]:.1f}" for k in keys],
            textposition="outside",
            cliponaxis=False,
        )
    fig.update_layout(
        barmode="group",
        yaxis_range=[0, 108],
        yaxis_title="test accuracy after the last task (%)",
        xaxis_title="scenario (CL2 and CL3 by entropy over the tasks' networks)",
        title=title,
        legend_title="method",
    )
    return style(fig)
