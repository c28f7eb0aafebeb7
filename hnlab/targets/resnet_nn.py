"""The same ResNets as plain torch.nn modules, and a default init for directly trained weights.

``as_torch_nn(tnet, W, stats=t)`` builds ``torch.nn.Conv2d`` / ``BatchNorm2d`` / ``Linear`` layers
holding the weights ``W [P]`` and task t's batch-norm statistics: the tests check the functional
network against it and bench/conv_step.py times it. ``default_weights(tnet)`` is ``W [P]`` as
PyTorch would start such a network (Kaiming-normal convs, batch-norm scale 1 and shift 0, Linear's
default), for the baselines that train the weights directly (notebooks/08_conv_targets.ipynb).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .resnet import Block, ResNet


class _Block(nn.Module):
    def __init__(self, block: Block, bias: bool):
        super().__init__()
        self.block = block
        self.conv1 = nn.Conv2d(block.cin, block.cout, 3, block.stride, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(block.cout)
        self.conv2 = nn.Conv2d(block.cout, block.cout, 3, 1, 1, bias=bias)
        self.bn2 = nn.BatchNorm2d(block.cout)
        if block.shortcut == "conv":
            self.down = nn.Conv2d(block.cin, block.cout, 1, block.stride, 0, bias=bias)
            self.down_bn = nn.BatchNorm2d(block.cout)

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        if self.block.shortcut == "conv":
            x = self.down_bn(self.down(x))
        elif self.block.shortcut == "pad":
            extra = self.block.cout - self.block.cin
            x = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, extra // 2, extra - extra // 2))
        return F.relu(out + x)


class TorchResNet(nn.Module):
    """A ``ResNet``'s architecture built from torch.nn layers (parameter names match ``param_names``)."""

    def __init__(self, tnet: ResNet):
        super().__init__()
        w0 = tnet.widths[0]
        self.stem = nn.Conv2d(tnet.in_channels, w0, 3, 1, 1, bias=tnet.conv_bias)
        self.stem.bn = nn.BatchNorm2d(w0)
        self.stages = nn.ModuleList(nn.ModuleList() for _ in tnet.widths)
        for block in tnet.blocks:
            self.stages[int(block.name.split(".")[1])].append(_Block(block, tnet.conv_bias))
        self.fc = nn.Linear(tnet.widths[-1], tnet.num_classes * tnet.num_heads)

    def forward(self, x):
        h = F.relu(self.stem.bn(self.stem(x)))
        for stage in self.stages:
            for block in stage:
                h = block(h)
        return self.fc(h.mean((2, 3)))


@torch.no_grad()
def as_torch_nn(tnet: ResNet, W: torch.Tensor | None = None, stats: int = 0) -> TorchResNet:
    """``TorchResNet`` holding weights ``W [P]`` (generated batch-norm scales ``1 + w``) and the
    batch-norm statistics of task ``stats``; without ``W`` it keeps torch's own init."""
    net = TorchResNet(tnet).to(tnet.stats.running_mean.device)
    modules = dict(net.named_modules())
    if W is not None:
        params = dict(net.named_parameters())
        for name, value in tnet.unflatten(W.detach()).items():
            is_scale = isinstance(modules[name.rsplit(".", 1)[0]], nn.BatchNorm2d) and name.endswith("weight")
            params[name].copy_(value + 1 if is_scale else value)
    for name, (a, b) in tnet.stats.offsets.items():
        modules[name].running_mean.copy_(tnet.stats.running_mean[stats, a:b])
        modules[name].running_var.copy_(tnet.stats.running_var[stats, a:b])
    return net


def default_weights(tnet: ResNet, generator: torch.Generator | None = None) -> torch.Tensor:
    """``W [P]``: Kaiming-normal conv kernels (fan-out, ReLU), zero conv biases, batch-norm offsets 0
    (scale 1), shifts 0, and Linear's default uniform(+-1/sqrt(fan_in)) for the classifier."""
    parts = []
    for name, shape in zip(tnet.param_names, tnet.param_shapes):
        n = math.prod(shape)
        if len(shape) == 4:
            std = math.sqrt(2.0 / (shape[0] * shape[2] * shape[3]))
            parts.append(torch.randn(n, generator=generator) * std)
        elif name.startswith("fc."):
            bound = 1 / math.sqrt(tnet.widths[-1])
            parts.append(torch.rand(n, generator=generator) * 2 * bound - bound)
        else:
            parts.append(torch.zeros(n))
    return torch.cat(parts)
