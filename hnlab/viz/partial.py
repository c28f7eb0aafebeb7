"""Figures of notebooks/09_partial_hypernetworks.ipynb (Hemati et al. 2023), pure functions of results.

Results are ``run_benchmark`` dicts (``hnlab.experiments.benchmarks``) of ``partial_hnet`` and
``latent_replay``, keyed by freeze depth k or by stream:

- ``freeze_depth_figure``: learning accuracy of experience 2 against k, similar vs different first
  experience (the paper's Fig. 4);
- ``first_experience_figure``: experience 1's accuracy after each experience, clean vs noisy (Fig. 7);
- ``example_images_figure``: one test image of each experience of a stream (Fig. 5);
- ``split_figure``: ACA, forgetting, training seconds and memory per k and method (Tables 2 and 6);
- ``gradient_cosine_figure``: ``cos(g1, g2)`` of the look-ahead during experience 2 (App. E).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from . import method_color, method_label, style, task_label

SHORT = {"partial_hnet": "HN", "latent_replay": "LR"}


def matrix(results: dict) -> np.ndarray:
    """The score matrix ``R[i][j]`` averaged over seeds."""
    return np.mean(results["acc_matrix"], axis=0)


def learning_accuracy(results: dict, task: int) -> float:
    """Accuracy on experience ``task`` right after learning it, ``R[task][task]``."""
    return float(matrix(results)[task, task])


def freeze_depth_figure(by_first: dict[str, dict[int, dict]], task: int = 1) -> go.Figure:
    """``by_first[name][k]``: results of one stream (``"similar"``, ``"different"``) at depth k."""
    fig = go.Figure()
    for dash, (name, runs) in zip(("solid", "dash", "dot"), by_first.items()):
        ks = sorted(runs)
        method = runs[ks[0]]["method"]
        fig.add_scatter(
            x=ks, y=[learning_accuracy(runs[k], task) for k in ks], name=f"{name} first experience",
            mode="lines+markers", line=dict(color=method_color(method), dash=dash),
        )  # fmt: skip
    fig.update_layout(title=f"Learning accuracy of experience {task + 1} against the freeze depth")
    fig.update_xaxes(title="freeze depth k (stem + first k stages frozen)", dtick=1)
    fig.update_yaxes(title=f"test accuracy on experience {task + 1} (%)")
    return style(fig)


def first_experience_figure(by_stream: dict[str, dict[str, dict]]) -> go.Figure:
    """``by_stream[stream][method]``: experience 1's accuracy after each experience, one line each."""
    fig = go.Figure()
    for dash, (stream, runs) in zip(("solid", "dash", "dot"), by_stream.items()):
        for method, results in runs.items():
            R = matrix(results)
            k = results["config"]["hparams"].get("freeze_depth")
            fig.add_scatter(
                x=[task_label(i) for i in range(len(R))], y=R[:, 0], mode="lines+markers",
                name=f"{method_label(method)} (k = {k:g}), {stream}", line=dict(color=method_color(method), dash=dash),
            )  # fmt: skip
    fig.update_layout(title="Experience 1 over the stream: clean vs noisy")
    fig.update_xaxes(title="after experience")
    fig.update_yaxes(title="test accuracy on experience 1 (%)")
    return style(fig)


def example_images_figure(tasks, names=None) -> go.Figure:
    """The first test image of each experience (corruptions applied), as the network sees it."""
    fig = make_subplots(rows=1, cols=len(tasks), subplot_titles=names or [t.name for t in tasks])
    for i, task in enumerate(tasks):
        img = task.x_test[0:1][0].mean(0).flip(0).cpu().numpy()
        fig.add_heatmap(z=img, colorscale="gray", zmin=0, zmax=1, showscale=False, row=1, col=i + 1)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x")
    fig.update_layout(title="One test image per experience", height=260)
    return style(fig)


def split_rows(by_method: dict[str, dict[int, dict]]) -> list[dict]:
    """One row per method and depth: ACA, forgetting, seconds, memory (MB), the paper's Table 2 and 6."""
    rows = []
    for method, runs in by_method.items():
        for k, r in sorted(runs.items()):
            rows.append({
                "model": f"{SHORT.get(method, method)}-{k}", "method": method, "k": k,
                "aca": r["final_acc"], "forgetting": float(np.mean(r["forgetting"])),
                "seconds": float(np.mean(r["train_seconds_per_seed"])),
                "memory_mb": float(np.mean([run["memory_mb"] for run in r["runs"]])),
            })  # fmt: skip
    return rows


def split_figure(by_method: dict[str, dict[int, dict]]) -> go.Figure:
    """ACA, forgetting, training seconds and memory against k, one colour per method."""
    rows = split_rows(by_method)
    titles = ("ACA after the stream (%)", "forgetting (points)", "training seconds", "memory kept (MB)")
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles)
    for method in by_method:
        mine = [r for r in rows if r["method"] == method]
        for col, key in enumerate(("aca", "forgetting", "seconds", "memory_mb"), 1):
            fig.add_bar(
                x=[r["k"] for r in mine], y=[r[key] for r in mine], name=method_label(method),
                marker_color=method_color(method), legendgroup=method, showlegend=col == 1, row=1, col=col,
            )  # fmt: skip
    fig.update_xaxes(title="freeze depth k", dtick=1)
    fig.update_layout(title="Split stream: HN-k against LR-k", barmode="group", height=380)
    return style(fig)


def gradient_cosine_figure(results: dict, task: int = 1, seed_index: int = 0) -> go.Figure:
    """``cos(g1, g2)`` of every step of experience ``task`` (a ``partial_hnet`` run)."""
    cos = results["runs"][seed_index]["grad_cosine"][task]
    fig = go.Figure(go.Scatter(y=cos, mode="lines", line=dict(color=method_color(results["method"]))))
    fig.add_hline(y=0, line=dict(color="grey", dash="dot"))
    fig.update_layout(title=f"Task gradient against regularizer gradient during experience {task + 1}")
    fig.update_xaxes(title="training step")
    fig.update_yaxes(title="cosine of g1 (task) and g2 (regularizer at the virtual step)", range=[-1, 1])
    return style(fig)
