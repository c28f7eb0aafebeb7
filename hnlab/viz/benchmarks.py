"""Figures of benchmark results (pure functions of the ``run_benchmark`` dict); notebooks/03_benchmarks.ipynb."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go


def _title(results: dict, what: str) -> str:
    return (
        f"{what}: {results['benchmark']} CL{results['scenario']} ({results['data']} data), "
        f"hypernet compression ratio {results['compression_ratio']:.2f}"
    )


def accuracy_matrix_figure(results: dict) -> go.Figure:
    """Heatmap of R[i][j] (accuracy on task j after task i, task id given), mean over seeds."""
    R = np.mean(np.asarray(results["acc_matrix"], dtype=float), axis=0)
    labels = [f"task {j}" for j in range(len(R))]
    fig = go.Figure(
        go.Heatmap(
            z=R,
            x=labels,
            y=[f"after {i}" for i in range(len(R))],
            zmin=50,
            zmax=100,
            colorscale="Viridis",
            text=np.round(R, 1),
            texttemplate="%{text}",
        )
    )
    fig.update_layout(
        title=_title(results, "Accuracy matrix"),
        yaxis_autorange="reversed",
        xaxis_title="tested on",
        yaxis_title="trained through",
    )
    return fig


def during_after_figure(results: dict) -> go.Figure:
    """Per-task accuracy right after learning it (diagonal) vs after the last task."""
    R = np.mean(np.asarray(results["acc_matrix"], dtype=float), axis=0)
    tasks = [f"task {j}" for j in range(len(R))]
    fig = go.Figure(
        [
            go.Bar(name="during (right after learning)", x=tasks, y=np.diag(R)),
            go.Bar(name="after the last task", x=tasks, y=R[-1]),
        ]
    )
    fig.update_layout(
        barmode="group",
        yaxis_range=[50, 100],
        yaxis_title="test accuracy (%)",
        title=_title(results, "During vs after"),
    )
    return fig


def methods_figure(results: dict) -> go.Figure:
    """HNET in CL1/CL2/CL3 next to the baselines (final accuracy, trained scenario)."""
    names = [f"HNET CL{c}" + (" (+ENT)" if c > 1 else "") for c in (1, 2, 3)] + list(results["baselines"])
    values = [results["scenario_acc"][f"cl{c}"] for c in (1, 2, 3)] + list(results["baselines"].values())
    colors = ["#1f77b4"] * 3 + ["#7f7f7f"] * len(results["baselines"])
    fig = go.Figure(go.Bar(x=names, y=values, marker_color=colors, text=[f"{v:.1f}" for v in values]))
    fig.update_layout(
        yaxis_range=[0, 100],
        yaxis_title="final test accuracy (%)",
        title=_title(results, f"HNET vs baselines (baselines in CL{results['scenario']})"),
    )
    return fig


def task_inference_figure(results: dict) -> go.Figure:
    """Where HNET+ENT sends each task's test inputs: row j, column k is the percent of task j's
    inputs whose lowest-entropy network is task k's (mean over seeds). The diagonal is the
    task-inference accuracy; a column that collects other rows is an over-confident network."""
    C = np.asarray(results["task_confusion"], dtype=float)
    labels = [f"task {j}" for j in range(len(C))]
    fig = go.Figure(
        go.Heatmap(
            z=C, x=labels, y=labels, zmin=0, zmax=100, colorscale="Blues", text=np.round(C, 1), texttemplate="%{text}"
        )
    )
    fig.update_layout(
        title=_title(results, f"Task inference by entropy ({results['task_inference_acc']:.1f} % right)"),
        yaxis_autorange="reversed",
        xaxis_title="network with the lowest entropy",
        yaxis_title="true task",
    )
    return fig
