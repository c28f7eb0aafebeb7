"""Retrain the 1D toy with another beta / iteration count and watch the curves move, and look
at any seed of a batched run (notebooks/01_toy1d.ipynb). ``retrain_figure`` and ``seed_figure``
are the plain functions behind the widgets."""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import plotly.graph_objects as go

from ..experiments.toy import ToyConfig, run_toy1d, toy_curves
from ..viz import method_label
from ..viz.toy import toy_figure


def round_beta(beta: float) -> str:
    """``beta`` as a title shows it: two significant digits (``0.00056``, not ``0.000562341``)."""
    return f"{beta:.2g}"


def retrain_figure(beta: float, iters: int, base: ToyConfig = ToyConfig(), device="cpu") -> tuple[go.Figure, dict]:
    """Train the hypernetwork (with ``beta``) and the fine-tuned one (beta 0) for ``iters``
    per task; return the two-panel figure and the results."""
    if not isinstance(iters, int) or iters < 1:
        raise ValueError(f"iters must be a positive int, got {iters!r}")
    if beta < 0:
        raise ValueError(f"beta must be >= 0, got {beta!r}")
    cfg = replace(base, beta=float(beta), iters=iters)
    res = run_toy1d(cfg, methods=("hnet", "finetune"), device=device, progress=False)
    panels = {
        f"{method_label('hnet')}, β = {round_beta(beta)}": res["predictions"]["hnet"],
        f"{method_label('finetune')}, β = 0": res["predictions"]["finetune"],
    }
    mse = dict(zip(panels, (res["mse_hnet"], res["mse_finetune"])))
    return toy_figure(toy_curves(), panels, mse, title=f"{iters} iterations per task, seed {cfg.seed}"), res


def toy_retrain_widget(base: ToyConfig = ToyConfig(), device="cpu") -> widgets.VBox:
    """Sliders for beta (log scale) and iterations, a button, and the figure below."""
    beta = widgets.FloatLogSlider(
        value=base.beta, base=10, min=-4, max=0, step=0.25, description="beta", readout_format=".2g"
    )
    iters = widgets.IntSlider(value=min(base.iters, 500), min=50, max=4000, step=50, description="iterations")
    button = widgets.Button(description="retrain", button_style="primary")
    out = widgets.Output()

    def on_click(_=None):
        button.disabled, button.description = True, "training..."
        try:
            fig, _ = retrain_figure(beta.value, iters.value, base, device)
            out.clear_output(wait=True)
            with out:
                fig.show()
        finally:
            button.disabled, button.description = False, "retrain"

    button.on_click(on_click)
    return widgets.VBox([widgets.HBox([beta, iters, button]), out])


def seed_figure(runs: dict, index: int) -> go.Figure:
    """Fig. 2's panels for one seed of a batched run: ``runs[method]`` holds ``seeds``,
    ``final [S][T]`` and ``predictions [S][T]`` (``hnlab.experiments.toy_seeds``)."""
    first = next(iter(runs.values()))
    seed = first["seeds"][index]
    panels = {method_label(m): r["predictions"][index] for m, r in runs.items()}
    mse = {method_label(m): r["final"][index] for m, r in runs.items()}
    return toy_figure(toy_curves(), panels, mse, title=f"seed {seed}: what each network predicts after all tasks")


def seed_picker_widget(runs: dict) -> widgets.VBox:
    """A slider over the seeds of a batched run; moving it shows that seed's figure (nothing is
    drawn before the first move, so batch runs, which never move it, stay quick)."""
    seeds = next(iter(runs.values()))["seeds"]
    pick = widgets.SelectionSlider(options=[(str(s), i) for i, s in enumerate(seeds)], description="seed")
    out = widgets.Output()

    def show(_=None):
        out.clear_output(wait=True)
        with out:
            seed_figure(runs, pick.value).show()

    pick.observe(show, names="value")
    return widgets.VBox([pick, out])
