"""Functional target networks: ``tnet(x, W)`` with generated weights ``W [P]`` or ``[T, P]``.

- ``MLP`` (``mlp.py``): the fully connected targets of lessons 01-06.
- ``ResNet`` (``resnet.py``): ResNet-32 / ResNet-20 (He et al.) and the slim ResNet-18 (Lopez-Paz &
  Ranzato), with batch-norm statistics kept per task (``batchnorm.py``); lesson 08.

A target network owns no trainable parameters; it knows the shapes of its parameter tensors
(``param_shapes``) and applies them from a flat vector.
"""

from .mlp import ACTIVATIONS, MLP, GeneratedLinear, activation_fn
from .resnet import RESNETS, ResNet, resnet20, resnet32, slim_resnet18

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "GeneratedLinear",
    "RESNETS",
    "ResNet",
    "activation_fn",
    "resnet20",
    "resnet32",
    "slim_resnet18",
]
