"""Initialization for hypernetworks: classical Xavier/Kaiming and hyperfan-in/-out.

Introduced in notebooks/02_init_variance.ipynb (Chang, Flokas & Lipson 2020).

A hypernetwork's linear head maps its input ``h`` (``d_k`` numbers) to the target
weights, ``W_ij = sum_k H_ijk h_k``. Xavier or Kaiming on ``H`` sets ``Var(H) = 1/d_k``,
so the generated weights get ``Var(W) = Var(h)``: about 1 instead of ``1/d_j``, and
the main-net activations grow by ``d_j`` per layer. Hyperfan sets the head rows of each
target tensor so that ``Var(W)`` is what fan-in (or fan-out) init would give the main
net directly (Chang et al., Table 1), with ``c = 2`` when the layer feeds a ReLU:

- hyperfan-in:  ``Var(H) = c / (2^[bias generated] d_j d_k Var(h))``, ``Var(G) = c / (2 d_k Var(h))``
- hyperfan-out: ``Var(H) = c / (d_i d_k Var(h))``, ``Var(G) = max(c (1 - d_j/d_i) / (d_k Var(h)), 0)``

``d_j`` / ``d_i`` are the generated layer's fan-in / fan-out (times the receptive
field for convolutions). Trunk layers get fan-in init and zero biases, so ``Var(h)``
is the second moment of the trunk output; it is measured, which takes ``Var(e)`` of the
embeddings into account. The chunked hypernetwork, whose head is shared by all chunks,
is initialized in ``hnlab.init.chunked``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from ..hnets import DirectWeights

MODES = ("fan_in", "fan_out", "harmonic")
SCHEMES = {"xavier": 1.0, "kaiming": 2.0}
HYPERFAN_MODES = ("in", "out")
DISTRIBUTIONS = ("uniform", "normal")


def harmonic_mean(a: float, b: float) -> float:
    """The harmonic mean ``2 / (1/a + 1/b)`` of two positive numbers; of the fan-in and fan-out
    variances ``1/a`` and ``1/b`` it is Glorot's ``2 / (a + b)``."""
    if a <= 0 or b <= 0:
        raise ValueError(f"harmonic mean needs positive numbers, got {a!r} and {b!r}")
    return 2.0 / (1.0 / a + 1.0 / b)


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {list(choices)}")


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)``: ``in`` and ``out`` times the
    receptive field ``prod(kernel)``."""
    if len(shape) < 2:
        raise ValueError(f"fans need a weight of shape (out, in, *kernel), got {tuple(shape)}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def classical_variance(shape: Sequence[int], scheme: str = "xavier", mode: str = "fan_in") -> float:
    """``gain / fan_in`` or ``gain / fan_out`` for a weight of ``shape`` (gain 1 for Xavier,
    2 for Kaiming), or (``"harmonic"``) the harmonic mean of those two variances,
    ``2 gain / (fan_in + fan_out)``: Glorot's formula."""
    _check_choice("scheme", scheme, SCHEMES)
    _check_choice("mode", mode, MODES)
    fan_in, fan_out = fans(shape)
    var_in, var_out = SCHEMES[scheme] / fan_in, SCHEMES[scheme] / fan_out
    return {"fan_in": var_in, "fan_out": var_out}.get(mode) or harmonic_mean(var_in, var_out)


def sample_(
    tensor: torch.Tensor,
    std: torch.Tensor | float,
    distribution: str = "uniform",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` in place with zero-mean noise of standard deviation ``std`` (a number,
    or one per row): uniform on ``(-sqrt(3) std, sqrt(3) std)`` or normal."""
    _check_choice("distribution", distribution, DISTRIBUTIONS)
    with torch.no_grad():
        # Drawn in row-major order of the shape, whatever the layout (the head is a transposed view).
        noise = torch.empty(tensor.shape, dtype=tensor.dtype, device=tensor.device)
        if distribution == "uniform":
            noise.uniform_(-math.sqrt(3.0), math.sqrt(3.0), generator=generator)
        else:
            noise.normal_(generator=generator)
        std = torch.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
        std = std.reshape(-1, *([1] * (tensor.dim() - 1))) if std.dim() else std
        return tensor.copy_(noise * std)


def layer_roles(target_shapes: Sequence[Sequence[int]]) -> list[tuple[int, bool]]:
    """For each target tensor: ``(layer index, is_bias)``. A 1-D tensor that follows a
    weight with as many output units is that layer's bias."""
    roles, layer = [], -1
    for i, shape in enumerate(target_shapes):
        is_bias = len(shape) == 1 and i > 0 and len(target_shapes[i - 1]) > 1 and target_shapes[i - 1][0] == shape[0]
        if len(shape) == 1 and not is_bias:
            raise ValueError(
                f"target tensor {i} of shape {tuple(shape)} is 1-D but follows no weight it could be the bias of"
            )
        layer += 0 if is_bias else 1
        roles.append((layer, is_bias))
    return roles


def relu_gains(target_shapes, activation: str) -> list[float]:
    """``c`` per target tensor: 2 for the layers whose output enters a ReLU (all but the
    last layer of a ReLU main net), else 1 (Table 1's ``2^[ReLU]``)."""
    roles = layer_roles(target_shapes)
    last = roles[-1][0]
    return [2.0 if activation == "relu" and layer < last else 1.0 for layer, _ in roles]


def hyperfan_target_variances(
    target_shapes: Sequence[Sequence[int]], mode: str = "in", activation: str = "linear"
) -> list[float]:
    """``Var`` each generated target tensor should have under hyperfan-``mode`` (Table 1
    times ``d_k Var(h)``): weights ``c / (2^[bias] d_j)`` (in) or ``c / d_i`` (out); biases
    ``c / 2`` (in) or ``max(c (1 - d_j / d_i), 0)`` (out). Biases are generated when the
    shapes contain any."""
    _check_choice("hyperfan mode", mode, HYPERFAN_MODES)
    roles, gains = layer_roles(target_shapes), relu_gains(target_shapes, activation)
    with_bias = any(is_bias for _, is_bias in roles)
    variances = []
    for i, (shape, (_, is_bias), c) in enumerate(zip(target_shapes, roles, gains)):
        fan_in, fan_out = fans(target_shapes[i - 1] if is_bias else shape)
        if mode == "in":
            variances.append(c / 2 if is_bias else c / (2**with_bias * fan_in))
        else:
            variances.append(max(c * (1 - fan_in / fan_out), 0.0) if is_bias else c / fan_out)
    return variances


def hyperfan_head_variances(
    target_shapes, head_in_dim: int, head_input_var: float, mode: str = "in", activation: str = "linear"
) -> list[float]:
    """Table 1: ``Var(H)`` (and ``Var(G)``) of the head rows of each target tensor, for a head
    with ``head_in_dim`` inputs of second moment ``head_input_var`` (``Var(e)`` for a
    one-layer hypernetwork)."""
    if head_in_dim < 1 or head_input_var <= 0:
        raise ValueError(f"need head_in_dim >= 1 and head_input_var > 0, got {head_in_dim}, {head_input_var}")
    return [v / (head_in_dim * head_input_var) for v in hyperfan_target_variances(target_shapes, mode, activation)]


def check_linear_head(hnet) -> None:
    """Hyperfan needs a hypernetwork with a trunk and a linear head (``head_params``)."""
    if isinstance(hnet, DirectWeights) or not (hasattr(hnet, "head_params") and hasattr(hnet, "trunk")):
        raise TypeError(f"{type(hnet).__name__} has no trunk and linear head to initialize")
    head_activation = getattr(hnet, "head_activation", "linear")
    if head_activation != "linear":
        raise ValueError(f"hyperfan needs a linear output head; this one applies {head_activation!r}")


def trunk_layers(hnet) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """``(weight, bias)`` of every trunk layer and, last, the head (after any chunk embeddings)."""
    params = list(hnet.theta)[hnet.num_leading_params : -2]
    return [*zip(params[0::2], params[1::2]), hnet.head_params()]


@torch.no_grad()
def fan_in_trunk_(hnet, distribution: str = "uniform", generator=None) -> None:
    """Fan-in init of the trunk layers (Kaiming for a ReLU trunk, else Xavier), zero biases:
    the hyperfan assumption that makes ``Var(h) = Var(e)``."""
    scheme = "kaiming" if hnet.activation == "relu" else "xavier"
    for weight, bias in trunk_layers(hnet)[:-1]:
        sample_(weight, math.sqrt(classical_variance(weight.shape, scheme)), distribution, generator)
        bias.zero_()


@torch.no_grad()
def head_input_second_moment(hnet) -> float:
    """Mean of ``h^2`` over all tasks' head inputs: the ``Var(e)`` of Table 1, measured."""
    ids = list(range(hnet.num_tasks))
    return hnet.trunk(hnet.task_embeddings(ids)).pow(2).mean().item()


def rows_std(hnet, variances: Sequence[float]) -> torch.Tensor:
    """One standard deviation per head row from one variance per target tensor."""
    sizes = torch.tensor([math.prod(s) for s in hnet.target_shapes])
    std = torch.tensor(variances, dtype=torch.float32).sqrt()
    return std.repeat_interleave(sizes)


@torch.no_grad()
def hyperfan_init_(
    hnet,
    mode: str = "in",
    activation: str = "linear",
    distribution: str = "uniform",
    head_input_var: float | None = None,
    generator: torch.Generator | None = None,
):
    """Hyperfan-``mode`` init of a full hypernetwork (``HMLP``) in place; returns ``hnet``.

    ``activation`` is the main net's. ``head_input_var`` defaults to the measured second
    moment of the head inputs (``Var(e)`` for a one-layer hypernetwork).
    """
    _check_choice("hyperfan mode", mode, HYPERFAN_MODES)
    _check_choice("distribution", distribution, DISTRIBUTIONS)
    check_linear_head(hnet)
    if getattr(hnet, "num_leading_params", 0):
        raise TypeError("a chunked hypernetwork shares its head; use hnlab.init.chunked.chunked_hyperfan_init_")
    fan_in_trunk_(hnet, distribution, generator)
    head_w, head_b = hnet.head_params()
    second_moment = head_input_var if head_input_var is not None else head_input_second_moment(hnet)
    variances = hyperfan_head_variances(hnet.target_shapes, head_w.shape[1], second_moment, mode, activation)
    sample_(head_w, rows_std(hnet, variances).to(head_w.device), distribution, generator)
    head_b.zero_()
    return hnet


@torch.no_grad()
def classical_target_weights(
    target_shapes, scheme: str = "xavier", mode: str = "fan_in", distribution: str = "uniform", generator=None
) -> torch.Tensor:
    """Flat main-net weights ``[P]`` initialized directly (the classical network): each
    weight ``gain / fan``, biases zero."""
    roles = layer_roles(target_shapes)
    parts = []
    for shape, (_, is_bias) in zip(target_shapes, roles):
        part = torch.zeros(math.prod(shape))
        if not is_bias:
            sample_(part, math.sqrt(classical_variance(shape, scheme, mode)), distribution, generator)
        parts.append(part)
    return torch.cat(parts)


@torch.no_grad()
def classical_init_(
    hnet,
    scheme: str = "xavier",
    mode: str = "fan_in",
    distribution: str = "uniform",
    generator: torch.Generator | None = None,
):
    """Xavier or Kaiming (``fan_in``/``fan_out``/``harmonic``) in place; returns ``hnet``.

    On a hypernetwork every layer, the head included, is treated as in a classical
    network (what Chang et al. show fails). On ``DirectWeights`` the main net itself is
    initialized (the classical network of Fig. 3).
    """
    _check_choice("scheme", scheme, SCHEMES)
    _check_choice("mode", mode, MODES)
    if isinstance(hnet, DirectWeights):
        hnet.theta[0].copy_(classical_target_weights(hnet.target_shapes, scheme, mode, distribution, generator))
        return hnet
    check_linear_head(hnet)
    for weight, bias in trunk_layers(hnet):
        sample_(weight, math.sqrt(classical_variance(weight.shape, scheme, mode)), distribution, generator)
        bias.zero_()
    return hnet
