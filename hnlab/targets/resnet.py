"""Functional ResNets for 32x32 images: ResNet-32 / ResNet-20 and the slim ResNet-18.

``resnet32()`` is von Oswald et al.'s target for split CIFAR-10/100 (He et al.'s CIFAR ResNet with
n = 5: three stages of widths 16/32/64, shortcuts that subsample and pad channels with zeros, conv
biases; with 6 heads of 10 classes it has the paper's 468,540 weights). ``resnet20()`` (n = 3) is
HyperMask's; ``slim_resnet18()`` (widths 20/40/80/160, blocks 2-2-2-2, 1x1 conv shortcuts, no conv
biases) is the partial hypernetworks' (Lopez-Paz & Ranzato's GEM model).

Like ``MLP`` the network owns no trainable parameters: ``tnet(x, W)`` applies one network from
``W [P]`` (outputs ``[B, out]``) or T networks from ``W [T, P]`` (outputs ``[T, B, out]``) in one
call. T networks run side by side as grouped convolutions on ``[B, T * C, H, W]`` (one kernel call
per layer; ``forward_vmap`` is the torch.func.vmap alternative that bench/conv_step.py measures).
Batch-norm statistics are kept per task (``batchnorm.py``): ``stats`` names the task whose
statistics a network uses and, in training mode, updates. Introduced in notebooks/08_conv_targets.ipynb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .batchnorm import TaskStats, task_batch_norm


@dataclass(frozen=True)
class Block:
    """A basic residual block: conv-bn-relu-conv-bn plus a shortcut, then relu."""

    name: str
    cin: int
    cout: int
    stride: int
    shortcut: str  # "identity", "pad" (subsample, zero channels: He's option A) or "conv" (1x1 conv + bn)


class ResNet(nn.Module):
    """A CIFAR-style ResNet applied with external weights (see the module docstring).

    ``num_heads`` heads of ``num_classes`` outputs (``head=t`` reads task t's); ``num_stats`` sets of
    batch-norm statistics (one per task).
    """

    def __init__(
        self,
        blocks: tuple[int, ...],
        widths: tuple[int, ...],
        num_classes: int,
        num_heads: int = 1,
        num_stats: int = 1,
        shortcut: str = "pad",
        conv_bias: bool = False,
        in_channels: int = 3,
        kind: str = "resnet",
    ):
        super().__init__()
        if shortcut not in ("pad", "conv") or len(blocks) != len(widths):
            raise ValueError(f"shortcut must be 'pad' or 'conv' and blocks match widths, got {shortcut!r}")
        self.kind, self.blocks_per_stage, self.widths = kind, tuple(blocks), tuple(widths)
        self.num_classes, self.out_features, self.num_heads = num_classes, num_classes, num_heads
        self.shortcut, self.conv_bias, self.in_channels = shortcut, conv_bias, in_channels
        self.param_names, self.param_shapes, bn = [], [], {}
        self._conv("stem", in_channels, widths[0], 3)
        bn["stem.bn"] = self._bn("stem.bn", widths[0])
        self.blocks, cin = [], widths[0]
        for s, (n, w) in enumerate(zip(blocks, widths)):
            for b in range(n):
                stride = 2 if s > 0 and b == 0 else 1
                kind_sc = "identity" if (stride == 1 and cin == w) else shortcut
                block = Block(f"stages.{s}.{b}", cin, w, stride, kind_sc)
                for i, (a, c) in enumerate(((cin, w), (w, w)), 1):
                    self._conv(f"{block.name}.conv{i}", a, c, 3)
                    bn[f"{block.name}.bn{i}"] = self._bn(f"{block.name}.bn{i}", c)
                if kind_sc == "conv":
                    self._conv(f"{block.name}.down", cin, w, 1)
                    bn[f"{block.name}.down_bn"] = self._bn(f"{block.name}.down_bn", w)
                self.blocks.append(block)
                cin = w
        self._add("fc.weight", (num_classes * num_heads, cin))
        self._add("fc.bias", (num_classes * num_heads,))
        self.param_sizes = [math.prod(s) for s in self.param_shapes]
        self.num_params = sum(self.param_sizes)
        self.stats = TaskStats(bn, num_stats)

    def _add(self, name: str, shape: tuple[int, ...]) -> None:
        self.param_names.append(name)
        self.param_shapes.append(shape)

    def _conv(self, name: str, cin: int, cout: int, k: int) -> None:
        self._add(f"{name}.weight", (cout, cin, k, k))
        if self.conv_bias:
            self._add(f"{name}.bias", (cout,))

    def _bn(self, name: str, c: int) -> int:
        self._add(f"{name}.weight", (c,))
        self._add(f"{name}.bias", (c,))
        return c

    def config(self) -> dict:
        """What rebuilds this network, for checkpoints and results JSON."""
        return {
            "kind": self.kind,
            "blocks": list(self.blocks_per_stage),
            "widths": list(self.widths),
            "num_classes": self.num_classes,
            "num_heads": self.num_heads,
            "num_stats": self.stats.num_tasks,
            "shortcut": self.shortcut,
            "conv_bias": self.conv_bias,
            "num_params": self.num_params,
        }

    def unflatten(self, W: torch.Tensor) -> dict[str, torch.Tensor]:
        """Per-tensor views ``{name: [T, *shape]}`` of ``W [T, P]``."""
        if W.shape[-1] != self.num_params:
            raise ValueError(f"W has {W.shape[-1]} weights per network, this target needs {self.num_params}")
        chunks = torch.split(W, self.param_sizes, dim=-1)
        return {n: c.reshape(*W.shape[:-1], *s) for n, c, s in zip(self.param_names, chunks, self.param_shapes)}

    def stats_ids(self, stats, head, T: int, single: bool) -> torch.Tensor:
        """Whose batch-norm statistics each network uses: ``stats`` if given; else, for ``W [P]``, the
        head's task (0 without one); for ``W [T, P]``, task t for network t."""
        if stats is None:
            stats = (0 if head is None else head) if single else list(range(T))
        ids = self.stats.check_ids(stats)
        if len(ids) not in (1, T):
            raise ValueError(f"give one batch-norm statistics index per network ({T}), got {len(ids)}")
        return ids.expand(T)

    def forward(self, x: torch.Tensor, W: torch.Tensor, head: int | None = None, stats=None) -> torch.Tensor:
        """Logits of the networks ``W`` on images ``x [B, C, H, W]`` (or ``[T, B, C, H, W]``)."""
        single = W.dim() == 1
        Wb = W.unsqueeze(0) if single else W
        ids = self.stats_ids(stats, head, Wb.shape[0], single)
        mean, var = self.stats.running_mean[ids], self.stats.running_var[ids]
        y, new = self._run(x, Wb, mean, var, self.training)
        if new is not None:
            with torch.no_grad():
                self.stats.running_mean[ids], self.stats.running_var[ids] = new
        y = y.squeeze(0) if single else y
        return y if head is None else self.select_head(y, head)

    def forward_vmap(self, x: torch.Tensor, W: torch.Tensor, stats=None) -> torch.Tensor:
        """The same as ``forward(x, W [T, P])`` through ``torch.func.vmap`` over single networks
        (training mode uses batch statistics and leaves the running ones untouched)."""
        ids = self.stats_ids(stats, None, W.shape[0], False)
        mean, var = self.stats.running_mean[ids], self.stats.running_var[ids]

        def one(w, m, v):
            m, v = (None, None) if self.training else (m.unsqueeze(0), v.unsqueeze(0))
            return self._run(x, w.unsqueeze(0), m, v, False)[0].squeeze(0)

        return torch.func.vmap(one)(W, mean, var)

    def _run(self, x, W, mean, var, training):
        """Logits ``[T, B, out]`` and, when training, the updated statistics ``([T, S], [T, S])``."""
        T, p = W.shape[0], self.unflatten(W)
        h = (
            (x if T == 1 else x.repeat(1, T, 1, 1)) if x.dim() == 4 else x.transpose(0, 1).flatten(1, 2)
        )  # [B, T C, H, W]
        new_m = None if mean is None else mean.clone()
        new_v = None if var is None else var.clone()

        def bn(h, name):
            a, b = self.stats.offsets[name]
            m, v = (None, None) if mean is None else (mean[:, a:b], var[:, a:b])
            out, nm, nv = task_batch_norm(
                h, p[f"{name}.weight"], p[f"{name}.bias"], m, v, training, self.stats.momentum, self.stats.eps
            )
            if nm is not None:
                new_m[:, a:b], new_v[:, a:b] = nm, nv
            return out

        h = F.relu(bn(self._apply_conv(h, p, "stem", T, 1), "stem.bn"))
        for block in self.blocks:
            h = self._block(h, p, block, T, bn)
        B = h.shape[0]
        h = h.mean((2, 3)).view(B, T, -1)
        y = torch.einsum("btc,toc->tbo", h, p["fc.weight"]) + p["fc.bias"].unsqueeze(1)
        return y, (None if not training or mean is None else (new_m, new_v))

    def _apply_conv(self, h, p, name, T, stride):
        w = p[f"{name}.weight"]
        bias = p[f"{name}.bias"].reshape(-1) if self.conv_bias else None
        pad = w.shape[-1] // 2
        return F.conv2d(h, w.reshape(-1, *w.shape[2:]), bias, stride, pad, groups=T)

    def _block(self, h, p, block: Block, T, bn):
        out = F.relu(bn(self._apply_conv(h, p, f"{block.name}.conv1", T, block.stride), f"{block.name}.bn1"))
        out = bn(self._apply_conv(out, p, f"{block.name}.conv2", T, 1), f"{block.name}.bn2")
        if block.shortcut == "conv":
            h = bn(self._apply_conv(h, p, f"{block.name}.down", T, block.stride), f"{block.name}.down_bn")
        elif block.shortcut == "pad":
            h = pad_shortcut(h, T, block.cout)
        return F.relu(out + h)

    def select_head(self, y: torch.Tensor, head: int) -> torch.Tensor:
        """The ``num_classes`` outputs of head ``head``."""
        if not 0 <= head < self.num_heads:
            raise ValueError(f"head {head} out of range for a target with {self.num_heads} heads")
        return y[..., head * self.num_classes : (head + 1) * self.num_classes]


def pad_shortcut(h: torch.Tensor, T: int, cout: int) -> torch.Tensor:
    """He et al.'s option A on the grouped layout: subsample by 2, pad each network's channels with zeros."""
    h = h[:, :, ::2, ::2]
    B, TC, H, W = h.shape
    cin = TC // T
    extra = cout - cin
    h = F.pad(h.view(B, T, cin, H, W), (0, 0, 0, 0, extra // 2, extra - extra // 2))
    return h.reshape(B, T * cout, H, W)


def resnet32(num_classes: int = 10, num_heads: int = 1, num_stats: int = 1) -> ResNet:
    """von Oswald et al.'s ResNet-32 (468,540 weights with 6 heads of 10)."""
    return ResNet((5, 5, 5), (16, 32, 64), num_classes, num_heads, num_stats, "pad", True, kind="resnet32")


def resnet20(num_classes: int = 10, num_heads: int = 1, num_stats: int = 1) -> ResNet:
    """HyperMask's ResNet-20 (n = 3)."""
    return ResNet((3, 3, 3), (16, 32, 64), num_classes, num_heads, num_stats, "pad", True, kind="resnet20")


def slim_resnet18(num_classes: int = 10, num_heads: int = 1, num_stats: int = 1) -> ResNet:
    """The partial hypernetworks' slim ResNet-18: widths 20/40/80/160, blocks 2-2-2-2."""
    return ResNet(
        (2, 2, 2, 2), (20, 40, 80, 160), num_classes, num_heads, num_stats, "conv", False, kind="slim_resnet18"
    )


RESNETS = {"resnet32": resnet32, "resnet20": resnet20, "slim_resnet18": slim_resnet18}
