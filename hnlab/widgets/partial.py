"""The retrain widget of notebooks/09_partial_hypernetworks.ipynb: freeze depth and stream -> a small run.

``retrain(streams, k, stream, ...)`` is the plain function behind the widget (tests call it without a
kernel): ``partial_hnet`` and ``latent_replay`` at depth k on the clean or the noisy stream, a few
steps per experience, returning their results by method. ``retrain_widget`` puts a depth slider, a
stream toggle and a button above ``first_experience_figure`` (nothing trains until the button is
pressed, so batch execution never waits on it).
"""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import plotly.graph_objects as go

from ..experiments.benchmarks import run_benchmark
from ..methods import paper_settings
from ..targets.partial import FREEZE_DEPTHS
from ..viz.partial import first_experience_figure

METHODS = ("partial_hnet", "latent_replay")


def retrain(streams: dict, k: int, stream: str, iters: int = 30, batch_size: int = 32, seed: int = 0, device="cpu"):
    """``{stream: {method: results}}`` of both methods at depth ``k`` on ``streams[stream]`` (a
    ``PartialStreamData``), ``iters`` steps per experience."""
    if stream not in streams:
        raise ValueError(f"unknown stream {stream!r}; choose one of {list(streams)}")
    data, runs = streams[stream], {}
    for method in METHODS:
        s = paper_settings(data.benchmark, 1, method, {"freeze_depth": k}, iters=iters, batch_size=batch_size)
        s = replace(s, epochs=0)
        runs[method] = run_benchmark(s, data, seeds=1, device=device, first_seed=seed, progress=False)
    return {stream: runs}


def retrain_widget(streams: dict, first: dict, iters: int = 30, batch_size: int = 32, seed: int = 0, device="cpu"):
    """A depth slider, a stream toggle and a retrain button above ``first_experience_figure(first)``."""
    depth = widgets.IntSlider(value=2, min=FREEZE_DEPTHS[0], max=FREEZE_DEPTHS[-1], description="freeze depth k")
    stream = widgets.ToggleButtons(options=list(streams), description="stream")
    button = widgets.Button(description="retrain", button_style="primary")
    status = widgets.Label(f"{iters} steps of {batch_size} images per experience and method, per press")
    figure = go.FigureWidget(first_experience_figure(first))

    def run(_=None):
        status.value = "training..."
        new = first_experience_figure(retrain(streams, depth.value, stream.value, iters, batch_size, seed, device))
        with figure.batch_update():
            figure.data = []
            for trace in new.data:
                figure.add_trace(trace)
        status.value = "done"

    button.on_click(run)
    return widgets.VBox([widgets.HBox([depth, stream, button]), status, figure])
