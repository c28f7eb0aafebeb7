"""Figures of hypernetwork-protected replay (notebooks/07_replay.ipynb): generated images per task
after each task, task inference by a network against entropy, the scenarios' accuracies."""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..results_table import PAPER_ROWS
from . import method_color, method_label, task_label
from .benchmarks import confusion_heatmap


def mosaic(images: np.ndarray, gap: float = np.nan) -> np.ndarray:
    """Tile ``images [rows, cols, D]`` (square images of D pixels) into one array, a blank line
    between tiles; NaN images stay blank."""
    rows, cols, D = images.shape
    side = math.isqrt(D)
    if side * side != D:
        raise ValueError(f"images of {D} pixels are not square")
    tiles = images.reshape(rows, cols, side, side)
    out = np.full((rows * (side + 1) - 1, cols * (side + 1) - 1), gap)
    for r in range(rows):
        for c in range(cols):
            out[r * (side + 1) : r * (side + 1) + side, c * (side + 1) : c * (side + 1) + side] = tiles[r, c]
    return out


def _image_trace(z: np.ndarray, showscale: bool = False) -> go.Heatmap:
    return go.Heatmap(z=z, zmin=0, zmax=1, colorscale="Greys", reversescale=True, showscale=showscale, hoverinfo="skip")


def replay_grid_figure(snapshots: dict[str, np.ndarray], after: int | None = None) -> go.Figure:
    """Side by side, one panel per replay model (``{name: [after, task, n, D]}``): rows are tasks,
    columns samples from fixed latent points, after task ``after`` (default the last); the slider
    steps through the tasks as they were learned."""
    names = list(snapshots)
    T, samples = next(iter(snapshots.values())).shape[1:3]
    after = T - 1 if after is None else after
    fig = make_subplots(1, len(names), subplot_titles=names, horizontal_spacing=0.04)
    for col, name in enumerate(names, start=1):
        fig.add_trace(_image_trace(mosaic(np.asarray(snapshots[name][after]))), 1, col)
    side = math.isqrt(next(iter(snapshots.values())).shape[-1]) + 1
    rows_at = [side * t + side / 2 - 1 for t in range(T)]
    fig.update_yaxes(autorange="reversed", tickvals=rows_at, ticktext=[task_label(t) for t in range(T)])
    fig.update_yaxes(showticklabels=False, col=2)
    fig.update_xaxes(showticklabels=False, title_text=f"{samples} samples from fixed latent points")
    steps = [
        dict(
            method="restyle",
            label=str(t + 1),
            args=[{"z": [mosaic(np.asarray(snapshots[n][t])) for n in names]}, list(range(len(names)))],
        )
        for t in range(T)
    ]
    fig.update_layout(
        title="What each replay model draws for every task learned so far",
        sliders=[dict(active=after, steps=steps, currentvalue=dict(prefix="after task "), pad=dict(t=40))],
        height=200 + 70 * T,
    )
    return fig


def replay_drift(snapshots: np.ndarray) -> list[float]:
    """Per task, the mean absolute pixel change of its samples from right after it was learned to
    after the last task (``[after, task, n, D]``): 0 is a perfect memory."""
    T = snapshots.shape[1]
    return [float(np.abs(snapshots[-1, t] - snapshots[t, t]).mean()) for t in range(T)]


def confusion_pair_figure(tir: list[list[float]], entropy: list[list[float]]) -> go.Figure:
    """Where each task's test inputs are sent: by the task-inference network (left) and by entropy
    over the same hypernetwork's networks (right); the diagonal is task-inference accuracy."""
    panels = {"task-inference network (HNET+TIR)": tir, "lowest entropy (HNET+ENT)": entropy}
    fig = make_subplots(1, 2, subplot_titles=list(panels), horizontal_spacing=0.12)
    for col, C in enumerate(panels.values(), start=1):
        fig.add_trace(confusion_heatmap(C, showscale=col == 2), 1, col)
        fig.update_xaxes(title_text="inferred task", row=1, col=col)
    fig.update_yaxes(autorange="reversed", title_text="true task", col=1)
    fig.update_yaxes(autorange="reversed", col=2)
    means = [np.mean(np.diag(np.asarray(C))) for C in panels.values()]
    fig.update_layout(title=f"Task inference: {means[0]:.1f} % (network) against {means[1]:.1f} % (entropy)")
    return fig


def scenario_bars_figure(table: dict[str, float], benchmark: str, scenario: int, title: str = "") -> go.Figure:
    """The scenario's accuracy per method (``{method: accuracy}``), beside the paper's Table 1."""
    names = list(table)
    paper = {n: PAPER_ROWS[(n, benchmark)] for n in names if (n, benchmark) in PAPER_ROWS}
    label = lambda n: method_label("hnet_ent" if n == "hnet" and scenario > 1 else n)  # HNET answers by entropy
    fig = go.Figure()
    fig.add_bar(
        x=[label(n) for n in names],
        y=[table[n] for n in names],
        marker_color=[method_color(n) for n in names],
        text=[f"{table[n]:.1f}" for n in names],
        name="hnlab",
    )
    fig.add_scatter(
        x=[label(n) for n in names if n in paper],
        y=[paper[n][scenario - 1] for n in names if n in paper],
        mode="markers",
        marker=dict(symbol="line-ew-open", size=40, color="black", line_width=3),
        name="paper (Table 1)",
    )
    fig.update_layout(
        title=title or f"CL{scenario} on {benchmark}: hnlab (bars) and the paper (black lines)",
        yaxis_range=[0, 105],
        yaxis_title=f"CL{scenario} test accuracy (%)",
    )
    return fig


def latent_grid_figure(images: np.ndarray, task: int, span: float) -> go.Figure:
    """Task ``task``'s decoder over a grid of two latent directions (``images [rows, cols, D]``)."""
    fig = go.Figure(_image_trace(mosaic(np.asarray(images))))
    fig.update_xaxes(showticklabels=False, title_text=f"latent direction 2, from -{span:g} to {span:g}")
    fig.update_yaxes(
        showticklabels=False, autorange="reversed", title_text=f"latent direction 1, from -{span:g} to {span:g}"
    )
    fig.update_layout(title=f"The decoder of {task_label(task)} across two latent directions", width=560, height=560)
    return fig


def image_figure(image: np.ndarray, title: str) -> go.Figure:
    """One generated image (``D`` pixels, square)."""
    return latent_grid_figure(np.asarray(image)[None, None], 0, 0).update_layout(
        title=title, width=360, height=380, xaxis_title=None, yaxis_title=None
    )
