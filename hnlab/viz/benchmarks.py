"""Figures of benchmark results (pure functions of ``run_benchmark`` dicts); notebooks/03_benchmarks.ipynb.

``by_scenario`` is ``{1: results, 2: results, 3: results}``: one ``run_benchmark`` dict per scenario,
each with the compared methods under ``"baselines"`` and their runs under ``runs[i]["baselines"]``.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import method_color, method_label, style, task_label

SCENARIO_NAMES = {1: "CL1: task id given", 2: "CL2: no task id, label within the task", 3: "CL3: no task id, class"}


def method_matrices(results: dict) -> dict[str, np.ndarray]:
    """Mean score matrix over seeds of the studied method and of every compared method."""
    out = {results["method"]: np.mean(np.asarray(results["acc_matrix"], dtype=float), axis=0)}
    for name in results["baselines"]:
        out[name] = np.mean([np.asarray(r["baselines"][name]["matrix"], dtype=float) for r in results["runs"]], axis=0)
    return out


def comparison_table(by_scenario: dict[int, dict]) -> dict[str, dict[int, float]]:
    """``{method: {scenario: final accuracy}}``: every method scored in the scenario it was trained in."""
    table: dict[str, dict[int, float]] = {}
    for scenario, results in sorted(by_scenario.items()):
        table.setdefault(results["method"], {})[scenario] = results["final_acc"]
        for name, value in results["baselines"].items():
            table.setdefault(name, {})[scenario] = value
    return table


def comparison_figure(by_scenario: dict[int, dict]) -> go.Figure:
    """Final accuracy of every method in every scenario, each trained and scored in that scenario."""
    table = comparison_table(by_scenario)
    scenarios = sorted(by_scenario)
    fig = go.Figure()
    for name, values in table.items():
        y = [values.get(c) for c in scenarios]
        fig.add_bar(
            name=method_label(name),
            x=[f"CL{c}" for c in scenarios],
            y=y,
            marker_color=method_color(name),
            text=[f"{v:.1f}" for v in y],
            textposition="outside",
            cliponaxis=False,
        )
    first = next(iter(by_scenario.values()))
    fig.update_layout(
        barmode="group",
        yaxis_range=[0, 108],
        yaxis_title="test accuracy after the last task (%)",
        xaxis_title="scenario (each method trained and scored in it)",
        title=f"Every method in every scenario: {first['benchmark']} ({first['data']} data), "
        f"{len(first['seeds'])} seed{'s' if len(first['seeds']) > 1 else ''}",
        legend_title="method",
    )
    return style(fig)


def accuracy_matrices_figure(results: dict, methods: list[str] | None = None) -> go.Figure:
    """Heatmaps of ``R[i][j]`` (accuracy on task j after training through task i, in the run's
    scenario), one panel per method, mean over seeds."""
    matrices = method_matrices(results)
    methods = list(matrices) if methods is None else methods
    fig = make_subplots(1, len(methods), subplot_titles=[method_label(m) for m in methods], horizontal_spacing=0.04)
    for col, name in enumerate(methods, start=1):
        R = matrices[name]
        fig.add_trace(
            go.Heatmap(
                z=R,
                x=[task_label(j) for j in range(len(R))],
                y=[f"after {task_label(i)}" for i in range(len(R))],
                zmin=0,
                zmax=100,
                colorscale="Viridis",
                text=np.round(R, 1),
                texttemplate="%{text}",
                showscale=col == len(methods),
                colorbar_title="accuracy (%)",
            ),
            1,
            col,
        )
    fig.update_yaxes(autorange="reversed", showticklabels=False)
    fig.update_yaxes(showticklabels=True, title_text="trained through", row=1, col=1)
    fig.update_xaxes(title_text="tested on")
    fig.update_layout(
        title=f"Accuracy after each task, CL{results['scenario']} ({SCENARIO_NAMES[results['scenario']]})",
        height=340,
        width=min(1100, 120 + 220 * len(methods)),
    )
    return fig


def during_after_figure(results: dict) -> go.Figure:
    """Per method, the mean accuracy of each task right after learning it and after the last task:
    the gap is forgetting."""
    fig = go.Figure()
    for name, R in method_matrices(results).items():
        for what, values, pattern in (("right after learning", np.diag(R), ""), ("after the last task", R[-1], "/")):
            fig.add_bar(
                name=f"{method_label(name)}, {what}",
                x=[method_label(name)],
                y=[float(np.mean(values))],
                marker_color=method_color(name),
                marker_pattern_shape=pattern,
                offsetgroup=what,
                showlegend=False,
                text=[f"{np.mean(values):.1f}"],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"{method_label(name)}<br>{what}: %{{y:.2f}} %<extra></extra>",
            )
    fig.update_layout(
        barmode="group",
        yaxis_range=[0, 108],
        yaxis_title="mean test accuracy (%)",
        title=f"During (plain bars) vs after the last task (hatched), CL{results['scenario']}",
    )
    return fig


def confusion_heatmap(confusion, showscale: bool = True) -> go.Heatmap:
    """Row j, column k: the percent of task j's inputs sent to task k (``confusion [T][T]``)."""
    C = np.asarray(confusion, dtype=float)
    labels = [task_label(j) for j in range(len(C))]
    return go.Heatmap(
        z=C,
        x=labels,
        y=labels,
        zmin=0,
        zmax=100,
        colorscale="Blues",
        text=np.round(C, 1),
        texttemplate="%{text}",
        showscale=showscale,
        colorbar_title="% of inputs",
    )


def task_inference_figure(results: dict) -> go.Figure:
    """Where HNET+ENT sends each task's test inputs: row j, column k is the percent of task j's
    inputs whose lowest-entropy network is task k's (mean over seeds). The diagonal is the
    task-inference accuracy; a column that collects other rows is an over-confident network."""
    fig = go.Figure(confusion_heatmap(results["task_confusion"]))
    fig.update_layout(
        title=f"Task inference by entropy: {results['task_inference_acc']:.1f} % of inputs go to their own task",
        yaxis_autorange="reversed",
        xaxis_title="network with the lowest entropy",
        yaxis_title="true task",
    )
    return fig


def comparison_sentences(by_scenario: dict[int, dict]) -> list[str]:
    """What the comparison shows, in words computed from the numbers: per scenario, the methods
    from best to worst. Only methods trained and scored in the same scenario are compared."""
    table = comparison_table(by_scenario)
    lines = []
    for scenario in sorted(by_scenario):
        ranked = sorted(((v[scenario], m) for m, v in table.items() if scenario in v), reverse=True)
        order = ", ".join(f"{method_label(m)} {acc:.1f}" for acc, m in ranked)
        lines.append(f"{SCENARIO_NAMES[scenario]}: {order}.")
    return lines
