"""plotly figures, pure functions of results (one module per lesson topic).

What every figure of the lab shares lives here: one colour per task, one colour and one
readable name per method (``method_color``, ``method_label``: the same in every lesson),
task numbers as students read them (``task_label``: 1..T) and the ``hnlab`` plotly
template (log axes tick as 10^-4, not "100μ"; large numbers as 10^9, not "1B"; no
unlabelled "2" and "5" between the powers of ten).
"""

from __future__ import annotations

import zlib

import plotly.graph_objects as go
import plotly.io as pio

TASK_COLORS = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)

#: One colour per method across the whole lab (inits of lesson 02, learners of lesson 03).
#: Colour-blind-safe hues first (Okabe-Ito), then Tableau's; unknown names get a fixed
#: colour from their name, so they too keep it from figure to figure.
METHOD_COLORS = {
    # initializations (lesson 02)
    "classical": "#000000",
    "xavier": "#E69F00",
    "xavier_harmonic": "#F0C05A",
    "kaiming": "#CC79A7",
    "hyperfan_in": "#0072B2",
    "hyperfan_out": "#56B4E9",
    # continual learners (lesson 03)
    "hnet": "#0072B2",
    "hnet_ent": "#56B4E9",
    "chunked_hnet": "#009E73",
    "finetune": "#D55E00",
    "finetune_target": "#D55E00",
    "finetune_hnet": "#E69F00",
    "ewc": "#CC79A7",
    "online_ewc": "#9467bd",
    "si": "#8c564b",
    "multitask": "#bcbd22",
    "hnet_iwr": "#17becf",
    "lstm_hnet": "#e377c2",
    "lstm_hnet_iwr": "#f7b6d2",
    "lstm_grow": "#2ca02c",
    "hypermask": "#009E73",
    "replay": "#7f7f7f",
    "hnet_r": "#882255",
    "hnet_tir": "#332288",
    "partial_hnet": "#AA4499",
    "latent_replay": "#117733",
}
_SPARE_COLORS = ("#9467bd", "#8c564b", "#bcbd22", "#17becf", "#7f7f7f", "#e377c2", "#2ca02c", "#d62728")

#: How a method is named in legends and titles (code names stay in the results JSON).
METHOD_LABELS = {
    "classical": "classical net (Xavier)",
    "xavier": "Xavier",
    "xavier_harmonic": "Xavier (harmonic)",
    "kaiming": "Kaiming",
    "hyperfan_in": "hyperfan-in",
    "hyperfan_out": "hyperfan-out",
    "hnet": "HNET",
    "hnet_ent": "HNET+ENT",
    "finetune": "fine-tuning",
    "finetune_target": "fine-tuning (target net)",
    "finetune_hnet": "fine-tuning (hypernetwork)",
    "ewc": "EWC",
    "online_ewc": "online EWC",
    "si": "SI",
    "multitask": "multitask (upper bound)",
    "hnet_iwr": "HNET IWR",
    "lstm_hnet": "LSTM_NET",
    "lstm_hnet_iwr": "LSTM_NET IWR",
    "lstm_grow": "LSTM_NET_GROW",
    "hypermask": "HyperMask",
    "hnet_r": "HNET+R",
    "hnet_tir": "HNET+TIR",
    "partial_hnet": "partial HN",
    "latent_replay": "latent replay",
}

TEMPLATE = go.layout.Template(
    layout=dict(
        xaxis=dict(exponentformat="power", minorloglabels="none"),
        yaxis=dict(exponentformat="power", minorloglabels="none"),
        coloraxis=dict(colorbar=dict(exponentformat="power")),
    )
)
pio.templates["hnlab"] = TEMPLATE


def task_color(t: int) -> str:
    """The colour of task ``t`` (0-based, as in code)."""
    return TASK_COLORS[t % len(TASK_COLORS)]


def task_label(t: int) -> str:
    """Task ``t`` (0-based in code) as a student reads it: ``"task 1"`` for the first."""
    return f"task {t + 1}"


def emb_label(t: int) -> str:
    """The learned embedding of task ``t`` (0-based in code) in figures: e<sub>1</sub> for the first."""
    return f"e<sub>{t + 1}</sub>"


def method_color(method: str) -> str:
    """The one colour of ``method`` in every figure of the lab."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    return _SPARE_COLORS[zlib.crc32(method.encode()) % len(_SPARE_COLORS)]


def method_label(method: str) -> str:
    """``method``'s name in legends: ``"hyperfan-in"`` for ``"hyperfan_in"``."""
    return METHOD_LABELS.get(method, method.replace("_", " "))


def style(fig: go.Figure) -> go.Figure:
    """Apply the lab's conventions to ``fig`` whatever the default template: powers of ten on
    every axis (log axes tick 10^-4, not "100μ"), and no bare "2" and "5" between the powers
    of a log axis (where "5" may mean 0.5)."""
    fig.update_xaxes(exponentformat="power", minorloglabels="none")
    fig.update_yaxes(exponentformat="power", minorloglabels="none")
    return fig


def setup_notebook() -> None:
    """Show figures as ``application/vnd.plotly.v1+json`` outputs, which JupyterLab draws
    natively and which keep a saved notebook small (no copy of plotly.js in every figure);
    ``hnlab run``'s pages embed plotly.js once (``hnlab.export``). Log axes tick in powers
    of ten in every lesson (the ``hnlab`` template)."""
    pio.renderers.default = "plotly_mimetype"
    pio.templates.default = "plotly+hnlab"
