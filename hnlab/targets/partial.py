"""A ResNet cut at freeze depth k: a frozen feature extractor and a generated rest (lesson 09).

Hemati et al. (Sec. 4, Table 6) call ResNet-k the slim ResNet-18 whose stem and first k residual
stages are frozen after the first experience (k = 0: nothing frozen; k = 4: everything but the
classifier). Their exemplar shapes for latent replay fix where the cut is: 3x32x32 (k = 0), 20x32x32,
40x16x16, 80x8x8, 160x4x4 (k = 4). The frozen tensors are a prefix of the ResNet's flat ``W``
(stem, then the stages in order), so ``W = [W_frozen, W_rest]``.

``SplitResNet`` runs the two parts separately, so that the frozen part costs one forward pass and no
backward (the paper's speed-up, bench/partial_step.py):

- ``features(x, W_frozen)``: the frozen part in evaluation mode with the first experience's
  batch-norm statistics (``x`` itself for k = 0);
- ``rest(h, W_rest, stats, head)``: the remaining blocks and the classifier for ``W_rest [P_r]`` or
  ``[T, P_r]`` (grouped convolutions, as ``ResNet``), with batch-norm statistics per task; in
  training mode they are updated.
"""

from __future__ import annotations

import torch

from .batchnorm import task_batch_norm
from .resnet import ResNet

FREEZE_DEPTHS = (0, 1, 2, 3, 4)


def check_freeze_depth(k, stages: int = 4) -> int:
    """``k`` as an int in 0..stages, or one clear error."""
    if isinstance(k, bool) or not isinstance(k, (int, float)) or k != int(k) or not 0 <= k <= stages:
        raise ValueError(f"freeze_depth k must be an int in 0..{stages} (stem + first k stages frozen), got {k!r}")
    return int(k)


def is_frozen(name: str, k: int) -> bool:
    """Whether tensor ``name`` of a ResNet belongs to the stem or the first ``k`` stages."""
    if k == 0:
        return False
    return name.startswith("stem.") or (name.startswith("stages.") and int(name.split(".")[1]) < k)


class SplitResNet:
    """``tnet`` cut after its stem and first ``k`` stages (see the module docstring)."""

    def __init__(self, tnet: ResNet, k: int):
        self.tnet, self.k = tnet, check_freeze_depth(k, len(tnet.widths))
        frozen = [is_frozen(n, self.k) for n in tnet.param_names]
        self.num_frozen_tensors = sum(frozen)
        if any(frozen[self.num_frozen_tensors :]):
            raise ValueError("the frozen tensors must be a prefix of the ResNet's weights")
        self.num_frozen = sum(tnet.param_sizes[: self.num_frozen_tensors])
        self.num_rest = tnet.num_params - self.num_frozen
        self.rest_names = tnet.param_names[self.num_frozen_tensors :]
        self.rest_shapes = tnet.param_shapes[self.num_frozen_tensors :]
        num_blocks = sum(tnet.blocks_per_stage[: self.k])
        self.frozen_blocks, self.rest_blocks = tnet.blocks[:num_blocks], tnet.blocks[num_blocks:]

    def feature_shape(self, side: int = 32) -> tuple[int, int, int]:
        """What ``features`` gives per image (the latent-replay exemplar's shape)."""
        if self.k == 0:
            return (self.tnet.in_channels, side, side)
        return (self.tnet.widths[self.k - 1], side >> (self.k - 1), side >> (self.k - 1))

    def full(self, W_frozen: torch.Tensor, W_rest: torch.Tensor) -> torch.Tensor:
        """The whole network's ``W [P]`` (or ``[T, P]``)."""
        return torch.cat([W_frozen.expand(*W_rest.shape[:-1], -1), W_rest], -1)

    @torch.no_grad()
    def features(self, x: torch.Tensor, W_frozen: torch.Tensor) -> torch.Tensor:
        """The frozen part's output ``[B, C, H, W]``: evaluation mode, the first experience's statistics."""
        if self.k == 0:
            return x
        p = self.tnet.unflatten(torch.cat([W_frozen, W_frozen.new_zeros(self.num_rest)]).unsqueeze(0))
        stats = self.tnet.stats
        bn = _bn(stats, p, stats.running_mean[:1], stats.running_var[:1], False, None)
        return self._blocks(x, p, 1, bn, True, self.frozen_blocks)

    def rest(self, h: torch.Tensor, W_rest: torch.Tensor, stats=0, head: int | None = None) -> torch.Tensor:
        """Logits of the rest ``W_rest [P_r]`` (``[B, out]``) or ``[T, P_r]`` (``[T, B, out]``) on features ``h``."""
        single = W_rest.dim() == 1
        Wb = W_rest.unsqueeze(0) if single else W_rest
        T, tnet = Wb.shape[0], self.tnet
        zeros = Wb.new_zeros(T, self.num_frozen)
        p = tnet.unflatten(torch.cat([zeros, Wb], -1))
        ids = tnet.stats_ids(stats, head, T, single)
        mean, var = tnet.stats.running_mean[ids], tnet.stats.running_var[ids]
        new = (mean.clone(), var.clone()) if tnet.training else None
        h = h if T == 1 else h.repeat(1, T, 1, 1)
        h = self._blocks(h, p, T, _bn(tnet.stats, p, mean, var, tnet.training, new), self.k == 0, self.rest_blocks)
        B = h.shape[0]
        y = torch.einsum("btc,toc->tbo", h.mean((2, 3)).view(B, T, -1), p["fc.weight"]) + p["fc.bias"].unsqueeze(1)
        if new is not None:
            with torch.no_grad():
                tnet.stats.running_mean[ids], tnet.stats.running_var[ids] = new
        y = y.squeeze(0) if single else y
        return y if head is None else tnet.select_head(y, head)

    def _blocks(self, h, p, T, bn, stem: bool, blocks):
        tnet = self.tnet
        if stem:
            h = torch.relu(bn(tnet._apply_conv(h, p, "stem", T, 1), "stem.bn"))
        for block in blocks:
            h = tnet._block(h, p, block, T, bn)
        return h


def _bn(stats, p, mean, var, training, new):
    """Batch-norm of layer ``name`` with rows ``mean, var [T, S]``; in training mode the updated
    statistics go into ``new`` (``(mean, var)`` copies)."""

    def bn(h, name):
        a, b = stats.offsets[name]
        out, nm, nv = task_batch_norm(
            h, p[f"{name}.weight"], p[f"{name}.bias"], mean[:, a:b], var[:, a:b], training, stats.momentum, stats.eps
        )
        if nm is not None and new is not None:
            new[0][:, a:b], new[1][:, a:b] = nm, nv
        return out

    return bn
