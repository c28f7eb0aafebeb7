"""What a hypernetwork's init does to its main net: generated weights, activations and
gradients per layer, caught with forward hooks (notebooks/02_init_variance.ipynb).

``diagnose(hnet, tnet, x, y)`` generates one task's weights, runs the main net on ``x``
with hooks on its ``GeneratedLinear`` layers, backpropagates the loss to every layer's
output, and returns flat tensors per layer, ready for histograms
(``hnlab.viz.init``) or summary numbers (``.summary()``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .full import layer_roles


@dataclass
class InitDiagnostics:
    """Flat tensors per main-net layer at init (one task's generated network)."""

    weights: list[torch.Tensor]  # generated weight of each layer
    biases: list[torch.Tensor | None]  # generated bias, None when not generated
    fan_in: list[int]
    preactivations: list[torch.Tensor]  # layer outputs before the nonlinearity
    activations: list[torch.Tensor]  # after it (the last layer: the logits)
    gradients: list[torch.Tensor]  # dL / d(pre-activation)

    @staticmethod
    def variances(tensors: list[torch.Tensor]) -> list[float]:
        return [t.var().item() for t in tensors]

    def weight_var_x_fan_in(self) -> list[float]:
        """``Var(W) * fan_in`` per layer: 1 under fan-in init (2 for Kaiming)."""
        return [v * d for v, d in zip(self.variances(self.weights), self.fan_in)]

    def summary(self) -> dict:
        """Per-layer numbers for results JSON and the variance-per-layer curve."""
        return {
            "weight_var": self.variances(self.weights),
            "weight_var_x_fan_in": self.weight_var_x_fan_in(),
            "preactivation_var": self.variances(self.preactivations),
            "activation_var": self.variances(self.activations),
            "gradient_var": self.variances(self.gradients),
        }


def _loss(outputs: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy for class labels, MSE for float targets, ``sum(outputs)`` (a unit
    gradient at the output) when no targets are given."""
    if y is None:
        return outputs.sum()
    if y.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(outputs.reshape(-1, outputs.shape[-1]), y.reshape(-1))
    return F.mse_loss(outputs, y.expand_as(outputs))


def diagnose(hnet, tnet, x: torch.Tensor, y: torch.Tensor | None = None, task_id: int = 0) -> InitDiagnostics:
    """Generated weights, activations and gradients per layer of ``tnet`` for ``task_id``.

    The hypernetwork itself gets no gradients (its output is detached), so this is cheap
    even for a 70M-parameter head.
    """
    if x.dim() != 2 or x.shape[1] != tnet.in_features:
        raise ValueError(f"x must have shape [B, {tnet.in_features}], got {tuple(x.shape)}")
    with torch.no_grad():
        W = hnet(task_emb=hnet.task_embeddings([task_id]))[0]
    outputs: list[torch.Tensor] = []

    def keep_output(module, inputs, output):
        output.retain_grad()
        outputs.append(output)

    hooks = [layer.register_forward_hook(keep_output) for layer in tnet.layers]
    try:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)  # so every layer output joins the graph
            _loss(tnet(x, W), y).backward()
    finally:
        for hook in hooks:
            hook.remove()
    return _collect(tnet, W, outputs)


def _collect(tnet, W: torch.Tensor, outputs: list[torch.Tensor]) -> InitDiagnostics:
    params, roles = tnet.unflatten(W), layer_roles(tnet.param_shapes)
    weights = [p.flatten() for p, (_, is_bias) in zip(params, roles) if not is_bias]
    biases: list = [None] * len(weights)
    for p, (layer, is_bias) in zip(params, roles):
        if is_bias:
            biases[layer] = p.flatten()
    last = len(outputs) - 1
    activations = [(out if i == last else tnet.act(out)).detach().flatten() for i, out in enumerate(outputs)]
    return InitDiagnostics(
        weights=weights,
        biases=biases,
        fan_in=[layer.in_features for layer in tnet.layers],
        preactivations=[out.detach().flatten() for out in outputs],
        activations=activations,
        gradients=[out.grad.flatten() for out in outputs],
    )


def histogram(values: torch.Tensor, bins: int = 60, value_range: tuple[float, float] | None = None) -> dict:
    """``{"centers", "density"}`` of ``values`` (plotting data far smaller than the values)."""
    values = values.detach().float().flatten().cpu()
    lo, hi = value_range if value_range is not None else (values.min().item(), values.max().item())
    hi = hi if hi > lo else lo + 1e-6
    counts = torch.histc(values, bins=bins, min=lo, max=hi)
    width = (hi - lo) / bins
    centers = lo + width * (torch.arange(bins) + 0.5)
    return {"centers": centers.tolist(), "density": (counts / (counts.sum() * width)).tolist()}
