"""Retrain the 1D toy with another beta / iteration count and watch the curves move
(notebooks/01_toy1d.ipynb). ``retrain_figure`` is the plain function behind the button."""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import plotly.graph_objects as go

from ..experiments.toy import ToyConfig, run_toy1d, toy_curves
from ..viz.toy import toy_figure


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
        f"hypernetwork, beta={beta:g}": res["predictions"]["hnet"],
        "fine-tuning, beta=0": res["predictions"]["finetune"],
    }
    mse = dict(zip(panels, (res["mse_hnet"], res["mse_finetune"])))
    return toy_figure(toy_curves(), panels, mse, title=f"{iters} iterations per task"), res


def toy_retrain_widget(base: ToyConfig = ToyConfig(), device="cpu") -> widgets.VBox:
    """Sliders for beta (log scale) and iterations, a button, and the figure below."""
    beta = widgets.FloatLogSlider(value=base.beta, base=10, min=-4, max=0, step=0.25, description="beta")
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
