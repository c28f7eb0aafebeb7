"""hnlab.init, hnlab.init.chunked and hnlab.init.diagnostics: formulas checked by Monte Carlo."""

import math

import pytest
import torch

from hnlab.hnets import HMLP, ChunkedHMLP, DirectWeights
from hnlab.init import (
    classical_variance,
    harmonic_mean,
    hyperfan_head_variances,
    hyperfan_init_,
    hyperfan_target_variances,
    init_hypernet_,
    layer_roles,
)
from hnlab.init.chunked import chunked_hyperfan_init_
from hnlab.init.diagnostics import diagnose, histogram
from hnlab.targets import MLP

SEEDS = 40


def generated_variances(make_hnet, target_shapes, init, seeds=SEEDS) -> torch.Tensor:
    """Var of each generated target tensor, pooled over many seeds (and both tasks)."""
    sizes = [math.prod(s) for s in target_shapes]
    samples = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        hnet = init(make_hnet())
        with torch.no_grad():
            samples.append(hnet([0, 1]))
    parts = torch.split(torch.cat(samples), sizes, dim=1)
    return torch.stack([p.pow(2).mean() for p in parts])  # zero-mean by construction


def assert_close(measured, expected, rtol=0.1):
    expected = torch.tensor(expected, dtype=measured.dtype)
    assert torch.allclose(measured, expected, rtol=rtol, atol=1e-9), (measured.tolist(), expected.tolist())


@pytest.mark.parametrize(
    "bias,activation,mode",
    [
        (False, "linear", "in"),
        (True, "tanh", "in"),
        (True, "relu", "in"),
        (False, "relu", "out"),
        (True, "linear", "out"),
    ],
)
def test_full_hypernet_matches_table1(bias, activation, mode):
    tnet = MLP(12, (20, 16), 6, activation, bias=bias)
    variances = generated_variances(
        lambda: HMLP(tnet.param_shapes, 2, emb_dim=7, hidden=(), emb_std=1.7),
        tnet.param_shapes,
        lambda h: hyperfan_init_(h, mode, activation),
    )
    expected = hyperfan_target_variances(tnet.param_shapes, mode, activation)
    assert_close(variances, expected)
    if mode == "in":  # spot-check Table 1 by hand: c / (2^bias d_j), d_j = 12
        assert expected[0] == pytest.approx((2 if activation == "relu" else 1) / (2**bias * 12))


def test_hyperfan_with_a_deep_trunk_uses_the_measured_embedding_variance():
    tnet = MLP(10, (15,), 4, "relu")
    variances = generated_variances(
        lambda: HMLP(tnet.param_shapes, 2, emb_dim=5, hidden=(30, 30), emb_std=0.3),
        tnet.param_shapes,
        lambda h: hyperfan_init_(h, "in", "relu"),
    )
    assert_close(variances, hyperfan_target_variances(tnet.param_shapes, "in", "relu"))


def test_conv_shapes_divide_by_the_receptive_field():
    shapes = [(8, 3, 3, 3), (8,), (4, 8, 5, 5), (4,)]
    expected = hyperfan_target_variances(shapes, "in", "relu")
    assert expected[0] == pytest.approx(2 / (2 * 3 * 9)) and expected[3] == pytest.approx(1 / 2)
    assert hyperfan_target_variances(shapes, "out", "linear")[2] == pytest.approx(1 / (4 * 25))
    variances = generated_variances(
        lambda: HMLP(shapes, 2, emb_dim=6, hidden=()),
        shapes,
        lambda h: hyperfan_init_(h, "in", "relu", distribution="normal"),
    )
    assert_close(variances, expected)
    assert hyperfan_head_variances(shapes, 6, 2.0)[0] == pytest.approx(1 / (2 * 27 * 6 * 2.0))


@pytest.mark.parametrize("hidden,bias,mode", [((), False, "in"), ((32, 32), True, "in"), ((), True, "out")])
def test_chunked_hyperfan_gives_every_layer_its_variance(hidden, bias, mode):
    tnet = MLP(16, (24,), 8, "relu", bias=bias)  # sizes 384, 24, 192, 8: chunks of 8 align
    make = lambda: ChunkedHMLP(tnet.param_shapes, 2, chunk_size=8, emb_dim=4, chunk_emb_dim=6, hidden=hidden)
    variances = generated_variances(make, tnet.param_shapes, lambda h: chunked_hyperfan_init_(h, mode, "relu"))
    expected = hyperfan_target_variances(tnet.param_shapes, mode, "relu")
    positive = torch.tensor(expected) > 0
    assert_close(variances[positive], [v for v in expected if v > 0])


def activation_growth(method: str, depth: int = 8, width: int = 64) -> float:
    """Var of the last hidden layer's output over the first's, deep linear main net."""
    tnet = MLP(width, (width,) * depth, width, "linear", bias=False)
    torch.manual_seed(0)
    hnet = init_hypernet_(HMLP(tnet.param_shapes, 1, emb_dim=16, hidden=()), method, "linear")
    diag = diagnose(hnet, tnet, torch.randn(256, width))
    variances = diag.summary()["activation_var"]
    return variances[-2] / variances[0]


def test_activations_stay_stable_under_hyperfan_and_explode_under_xavier():
    assert 0.5 < activation_growth("hyperfan_in") < 2
    assert 0.5 < activation_growth("hyperfan_out") < 2
    assert activation_growth("xavier") > 10


def test_diagnostics_shapes_and_gradients():
    tnet = MLP(5, (7, 7), 3, "tanh")
    hnet = init_hypernet_(HMLP(tnet.param_shapes, 2, emb_dim=4, hidden=()), "hyperfan_in", "tanh")
    diag = diagnose(hnet, tnet, torch.randn(11, 5), torch.randint(3, (11,)), task_id=1)
    assert [w.numel() for w in diag.weights] == [35, 49, 21] and [b.numel() for b in diag.biases] == [7, 7, 3]
    assert [a.numel() for a in diag.activations] == [77, 77, 33]
    assert diag.activations[0].abs().max() <= 1 and all(g.abs().sum() > 0 for g in diag.gradients)
    assert set(diag.summary()) >= {"weight_var_x_fan_in", "activation_var", "gradient_var"}
    hist = histogram(diag.activations[0], bins=10, value_range=(-1, 1))
    assert sum(hist["density"]) * 0.2 == pytest.approx(1)


def test_harmonic_mean_and_classical_variances():
    assert harmonic_mean(1.0, 3.0) == pytest.approx(1.5)
    assert classical_variance((30, 10), "xavier", "harmonic") == pytest.approx(2 / (10 + 30))
    assert classical_variance((30, 10), "kaiming", "fan_out") == pytest.approx(2 / 30)
    assert classical_variance((4, 2, 3, 3), "xavier", "fan_in") == pytest.approx(1 / 18)


def test_classical_init_of_the_main_net_itself():
    tnet = MLP(40, (50,), 10, "tanh")
    torch.manual_seed(0)
    weights = tnet.unflatten(init_hypernet_(DirectWeights(tnet.param_shapes, 1), "xavier")([0]))
    assert weights[0].var().item() == pytest.approx(1 / 40, rel=0.1) and weights[1].abs().sum() == 0


class TanhHeadHMLP(HMLP):
    head_activation = "tanh"


def test_bad_arguments_raise():
    tnet = MLP(3, (4,), 2)
    hnet = HMLP(tnet.param_shapes, 1, emb_dim=2, hidden=())
    with pytest.raises(ValueError, match="unknown hyperfan mode"):
        hyperfan_init_(hnet, "sideways")
    with pytest.raises(ValueError, match="unknown init method"):
        init_hypernet_(hnet, "lecun")
    with pytest.raises(ValueError, match="unknown mode"):
        classical_variance((3, 4), "xavier", "fan_middle")
    with pytest.raises(ValueError, match="linear output head"):
        hyperfan_init_(TanhHeadHMLP(tnet.param_shapes, 1, emb_dim=2, hidden=()))
    with pytest.raises(TypeError, match="no trunk"):
        hyperfan_init_(DirectWeights(tnet.param_shapes, 1))
    with pytest.raises(ValueError, match="1-D"):
        layer_roles([(3,), (4, 3)])
    with pytest.raises(ValueError, match="linear or relu trunk"):
        chunked_hyperfan_init_(ChunkedHMLP(tnet.param_shapes, 1, chunk_size=4, activation="tanh"))
    with pytest.raises(ValueError, match="positive"):
        harmonic_mean(0.0, 1.0)
