"""plotly figures, pure functions of results (one module per lesson topic)."""

from __future__ import annotations

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


def task_color(t: int) -> str:
    return TASK_COLORS[t % len(TASK_COLORS)]


def setup_notebook() -> None:
    """Render figures both as live plotly output and as self-contained HTML, so that the
    HTML pages written by ``hnlab run`` show them without a network connection."""
    pio.renderers.default = "plotly_mimetype+notebook"
