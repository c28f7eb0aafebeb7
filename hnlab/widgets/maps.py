"""An embedding-map explorer: pick a task, a grid, and probe any embedding (notebooks/04_embedding_maps.ipynb).

``MapExplorer`` holds the trained models and computes everything the widget shows with
plain methods (``view``), so tests and batch runs use it without a kernel;
``embedding_map_widget`` only wires ipywidgets controls to ``MapExplorer.view``. Click on
the map (or on a learned embedding's cross) or move the two probe sliders to move the probed
embedding. Tasks are shown as 1..T (``task_id`` stays 0-based in code).
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go
import torch

from ..data import Task
from ..hnets import HyperNetwork
from ..maps import EmbeddingMap, EmbeddingPlane, default_plane, embedding_map, learned_points, scores_at
from ..targets import MLP
from ..train import head_of
from ..viz import style, task_label
from ..viz.maps import (
    embedding_labels,
    embedding_markers,
    heatmap_trace,
    probe_marker,
    probe_prediction_figure,
    probe_scores_figure,
)


@dataclass
class View:
    """What the widget shows for one setting: the map figure and the probe figure."""

    map_fig: go.Figure
    probe_fig: go.Figure
    emb_map: EmbeddingMap
    probe_scores: list[float]


class MapExplorer:
    """Compute maps (cached per setting) and probes of a trained hypernetwork."""

    def __init__(
        self,
        hnet: HyperNetwork,
        tnet: MLP,
        tasks: list[Task],
        plane: EmbeddingPlane | None = None,
        max_test: int | None = None,
        chunk_size: int = 64,
    ):
        self.hnet, self.tnet, self.tasks = hnet, tnet, tasks
        self.plane = default_plane(hnet) if plane is None else plane
        self.max_test, self.chunk_size = max_test, chunk_size
        self.points, _ = learned_points(hnet, self.plane)
        self.labels = embedding_labels(len(self.points))
        self._cache: dict[tuple, EmbeddingMap] = {}

    def emb_map(self, task_id: int, x_range, y_range, resolution: int) -> EmbeddingMap:
        key = (task_id, tuple(map(float, x_range)), tuple(map(float, y_range)), resolution)
        if key not in self._cache:
            self._cache[key] = embedding_map(
                self.hnet,
                self.tnet,
                self.tasks[task_id],
                task_id,
                x_range,
                y_range,
                resolution,
                self.plane,
                self.chunk_size,
                self.max_test,
                progress=False,
            )
        return self._cache[key]

    @torch.no_grad()
    def probe_scores(self, xy) -> list[float]:
        """Every task's test score with the network generated at plane point ``xy``."""
        emb = self.plane.embed(torch.tensor([[float(xy[0]), float(xy[1])]]))
        return [
            float(scores_at(self.hnet, self.tnet, task, t, emb, max_test=self.max_test)[0])
            for t, task in enumerate(self.tasks)
        ]

    @torch.no_grad()
    def probe_figure(self, task_id: int, xy, scores: list[float]) -> go.Figure:
        """Predictions (1D regression) or every task's accuracy at the probe."""
        task = self.tasks[task_id]
        where = f"at ({float(xy[0]):.2f}, {float(xy[1]):.2f})"
        if task.loss == "mse" and task.x_test.shape[-1] == 1:
            emb = self.plane.embed(torch.tensor([[float(xy[0]), float(xy[1])]])).to(task.x_test.device)
            x, order = task.x_test[:, 0].sort()
            y_pred = self.tnet(task.x_test[order], self.hnet(task_emb=emb)[0], head=head_of(self.tnet, task_id))
            return probe_prediction_figure(
                x.cpu(),
                task.y_test[order].cpu(),
                y_pred.cpu(),
                task.name,
                f"{task_label(task_id)} ({task.name}): MSE {scores[task_id]:.3g} {where}",
            )
        names = [f"{t + 1}: {k.name}" for t, k in enumerate(self.tasks)]
        return probe_scores_figure(scores, names, task.metric, f"every task's {task.metric} {where}")

    def view(self, task_id: int, x_range, y_range, resolution: int, xy) -> View:
        """Everything the widget shows for one setting of its controls."""
        if not isinstance(task_id, int) or not 0 <= task_id < len(self.tasks):
            raise ValueError(f"task_id {task_id!r} out of range: there are {len(self.tasks)} tasks")
        m = self.emb_map(task_id, x_range, y_range, resolution)
        fig = go.Figure(
            [heatmap_trace(m), embedding_markers(self.points, self.labels, highlight=task_id), probe_marker(xy)]
        )
        fig.update_layout(
            title=f"{task_label(task_id)} ({m.task_name}): {m.metric}",
            width=520,
            height=460,
            xaxis_title="embedding coordinate 1",
            yaxis_title="embedding coordinate 2",
        )
        style(fig)
        scores = self.probe_scores(xy)
        return View(fig, self.probe_figure(task_id, xy, scores), m, scores)


def copy_figure(target: go.FigureWidget, fig: go.Figure) -> None:
    """Show ``fig`` in ``target`` in place (same trace kinds; keeps click handlers)."""
    with target.batch_update():
        for live, new in zip(target.data, fig.data):
            live.update(new.to_plotly_json(), overwrite=True)
        target.layout.update(fig.layout.to_plotly_json(), overwrite=True)


def embedding_map_widget(
    explorer: MapExplorer, x_range=(-3.0, 3.0), y_range=(-3.0, 3.0), resolution: int = 15, task_id: int = 0
):
    """Controls (task, grid ranges, resolution, probe x/y) above a live map and probe figure."""
    import ipywidgets as W

    limit = round(3 * max(abs(v) for v in (*x_range, *y_range)), 1)
    xy0 = explorer.points[task_id].tolist()
    wide = dict(layout=W.Layout(width="330px"), style={"description_width": "80px"})
    task = W.Dropdown(
        options=[(f"{t + 1}: {k.name}", t) for t, k in enumerate(explorer.tasks)],
        value=task_id,
        description="task",
        **wide,
    )
    # range sliders without their own readout (it is cut off at this width): a label under each says the range
    xr = W.FloatRangeSlider(
        value=tuple(x_range), min=-limit, max=limit, step=0.1, description="x range", readout=False, **wide
    )
    yr = W.FloatRangeSlider(
        value=tuple(y_range), min=-limit, max=limit, step=0.1, description="y range", readout=False, **wide
    )
    ranges = W.HTML()
    res = W.IntSlider(
        value=resolution, min=5, max=80, step=5, description="resolution", continuous_update=False, **wide
    )
    px = W.FloatSlider(value=xy0[0], min=-limit, max=limit, step=0.05, description="probe x", **wide)
    py = W.FloatSlider(value=xy0[1], min=-limit, max=limit, step=0.05, description="probe y", **wide)
    first = explorer.view(task_id, x_range, y_range, resolution, xy0)
    map_w, probe_w = go.FigureWidget(first.map_fig), go.FigureWidget(first.probe_fig)

    def show_ranges():
        (x0, x1), (y0, y1) = xr.value, yr.value
        ranges.value = f"<small>grid: x from {x0:.2f} to {x1:.2f}, y from {y0:.2f} to {y1:.2f}</small>"

    def update(_change=None):
        show_ranges()
        v = explorer.view(task.value, xr.value, yr.value, res.value, (px.value, py.value))
        copy_figure(map_w, v.map_fig)
        if len(probe_w.data) == len(v.probe_fig.data):
            copy_figure(probe_w, v.probe_fig)

    def on_click(_trace, points, _state):
        if points.xs:
            with px.hold_trait_notifications(), py.hold_trait_notifications():
                px.value, py.value = points.xs[0], points.ys[0]

    show_ranges()
    map_w.data[0].on_click(on_click)  # the heatmap
    map_w.data[1].on_click(on_click)  # a learned embedding's cross: probe exactly there
    for control in (task, xr, yr, res, px, py):
        control.observe(update, names="value")
    controls = W.HBox([W.VBox([task, res]), W.VBox([xr, yr, ranges]), W.VBox([px, py])])
    return W.VBox([controls, W.HBox([map_w, probe_w])])
