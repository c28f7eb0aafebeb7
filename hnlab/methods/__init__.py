"""Every continual-learning method by name: ``METHODS["ewc"](settings, device)``.

A method is a weight generator plus a recipe (``hnlab.methods.base.Method``); one module per
method. ``paper_settings(benchmark, scenario, method)`` gives the papers' settings with the
method's own hyperparameters. Adding a method is one module and one line in ``METHODS``.
Introduced in notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

from dataclasses import replace

from .base import Method, scenario_scores
from .conv import CONV_METHODS
from .conv_settings import CONV_BENCHMARKS
from .direct import Direct
from .ewc import EWC, OnlineEWC
from .hnet import FinetuneHNet, HNet
from .hypermask import HyperMask
from .iwr import HNetIWR
from .latent_replay import LatentReplay
from .lstm import LSTMGrow, LSTMHNetIWR, LSTMHNetMethod
from .multitask import Multitask
from .partial import PartialHNetMethod
from .replay import HNetR, HNetTIR
from .settings import BENCHMARKS, HNET_INITS, SCENARIOS, Settings, base_settings, smoke_settings
from .si import SI

METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (HNet, Direct, FinetuneHNet, Multitask, EWC, OnlineEWC, SI, HyperMask)
    + (LSTMHNetMethod, LSTMHNetIWR, LSTMGrow, HNetIWR)
    + (HNetR, HNetTIR)
}
#: Methods that exist only on the ResNet benchmarks (lesson 09's partial hypernetworks).
CONV_METHODS.update({cls.name: cls for cls in (PartialHNetMethod, LatentReplay)})


def method_class(name: str, benchmark: str | None = None) -> type[Method]:
    """The registered method called ``name`` (on a ResNet benchmark, ``CONV_METHODS``' version of it),
    or one clear error listing them."""
    registry = CONV_METHODS if benchmark in CONV_BENCHMARKS else METHODS
    if name not in registry:
        on = f" on {benchmark}" if benchmark in CONV_BENCHMARKS else ""
        raise ValueError(f"unknown method {name!r}{on}; registered methods{on}: {', '.join(registry)}")
    return registry[name]


def check_methods(names) -> tuple[str, ...]:
    """Names of registered methods, as a tuple; one error naming the unknown ones."""
    if isinstance(names, str):
        raise ValueError(f"give a list of method names from {list(METHODS)}, got the string {names!r}")
    unknown = [n for n in names if n not in METHODS and n not in CONV_METHODS]
    if unknown:
        raise ValueError(f"unknown methods {unknown}; registered methods: {', '.join(METHODS)}")
    return tuple(names)


def with_method(s: Settings, name: str, hparams: dict | None = None) -> Settings:
    """``s`` for method ``name``: its own hyperparameters (defaults for the benchmark and scenario,
    updated by ``hparams``), checked against the names it declares."""
    cls = method_class(name, s.benchmark)
    if s.scenario not in cls.scenarios:
        raise ValueError(f"method {name!r} supports scenarios {cls.scenarios}, not CL{s.scenario}")
    values = cls.default_hparams(s.benchmark, s.scenario)
    unknown = set(hparams or {}) - set(cls.hparam_names)
    if unknown:
        raise ValueError(f"method {name!r} has no settings {sorted(unknown)}; its own: {list(cls.hparam_names)}")
    for key, value in (hparams or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"{name} setting {key} must be a non-negative number, got {value!r}")
        values[key] = float(value)
    return replace(s, method=name, hparams=values)


def paper_settings(
    benchmark: str = "splitmnist", scenario: int = 1, method: str = "hnet", hparams: dict | None = None, **overrides
) -> Settings:
    """The papers' settings for ``method`` on ``benchmark`` in ``scenario``; an override of None or 0
    keeps the paper's value, ``hparams`` overrides the method's own (``{"lam": 1e4}``)."""
    return with_method(base_settings(benchmark, scenario, **overrides), method, hparams)


__all__ = [
    "BENCHMARKS",
    "CONV_METHODS",
    "HNET_INITS",
    "METHODS",
    "SCENARIOS",
    "Method",
    "Settings",
    "check_methods",
    "method_class",
    "paper_settings",
    "scenario_scores",
    "smoke_settings",
    "with_method",
]
