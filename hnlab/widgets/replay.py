"""The replay lesson's explorer (notebooks/07_replay.ipynb): pick a task and a latent point, see that
task's decoder image; the decoder's weights come from the hypernetwork for the chosen task."""

from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go
import torch

from ..replay import ReplayVAE
from ..viz import task_label
from ..viz.replay import image_figure


@torch.no_grad()
def decode_point(vae: ReplayVAE, task_id: int, a: float, b: float, dims=(0, 1)):
    """The image ``[D]`` of task ``task_id`` at latent ``a`` along ``dims[0]``, ``b`` along ``dims[1]``."""
    device = vae.hnet.task_emb[0].device
    z = torch.zeros(1, 1, vae.latent_dim, device=device)
    z[..., dims[0]], z[..., dims[1]] = a, b
    return torch.sigmoid(vae.decode_logits(z, [task_id], vae.hnet([task_id])))[0, 0].cpu().numpy()


def latent_explorer(vae: ReplayVAE, num_tasks: int, span: float = 3.0, dims=(0, 1)) -> widgets.VBox:
    """A task dropdown and two latent sliders driving the decoder's image."""
    task = widgets.Dropdown(options=[(task_label(t), t) for t in range(num_tasks)], value=0, description="task")
    sliders = [
        widgets.FloatSlider(value=0.0, min=-span, max=span, step=0.25, description=f"z{d + 1}", continuous_update=False)
        for d in dims
    ]
    figure = go.FigureWidget(image_figure(decode_point(vae, 0, 0.0, 0.0, dims), f"{task_label(0)} at z = (0, 0)"))

    def redraw(_=None):
        a, b = (s.value for s in sliders)
        with figure.batch_update():
            figure.data[0].z = image_figure(decode_point(vae, task.value, a, b, dims), "").data[0].z
            figure.layout.title = f"{task_label(task.value)} at z = ({a:g}, {b:g})"

    for control in (task, *sliders):
        control.observe(redraw, names="value")
    return widgets.VBox([widgets.HBox([task, *sliders]), figure])
