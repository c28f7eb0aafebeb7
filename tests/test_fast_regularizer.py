"""The Gram-matrix output regularizer equals the plain formula, in value and gradient."""

import pytest
import torch

from hnlab.hnets import HMLP, ChunkedHMLP, DirectWeights
from hnlab.regularizers import lookahead_step, output_regularizer, regularizer_targets
from hnlab.regularizers.fast import FastOutputRegularizer, supports_fast_regularizer
from hnlab.targets import MLP


def perturbed(hnet, scale):
    with torch.no_grad():
        for p in hnet.theta:
            p.add_(scale * torch.randn_like(p))


def grads(loss, params):
    return torch.autograd.grad(loss, params)


@pytest.mark.parametrize(
    "make",
    [
        lambda shapes: ChunkedHMLP(
            shapes, 6, chunk_size=37, emb_dim=4, chunk_emb_dim=3, hidden=(7, 5), activation="elu"
        ),
        lambda shapes: HMLP(shapes, 6, emb_dim=3, hidden=(6,), activation="relu"),
    ],
)
def test_value_and_gradient_match_the_plain_formula(make):
    torch.set_default_dtype(torch.float64)
    try:
        hnet = make(MLP(5, (4,), 3).param_shapes)
        ids = [0, 2, 3, 5]
        targets = regularizer_targets(hnet, ids)
        fast = FastOutputRegularizer(hnet, ids)
        perturbed(hnet, 0.1)
        delta = [0.01 * torch.randn_like(p) for p in hnet.theta]
        params = list(hnet.theta)
        for d in (None, delta):
            plain, quick = output_regularizer(hnet, targets, ids, d), fast(d)
            assert plain.item() > 0 and quick.item() == pytest.approx(plain.item(), rel=1e-9)
            for a, b in zip(grads(plain, params), grads(quick, params)):
                assert torch.allclose(a, b, rtol=1e-7, atol=1e-10)
        index = torch.tensor([1, 3])
        subset = output_regularizer(hnet, targets[index], [ids[1], ids[3]], delta)
        assert fast(delta, index).item() == pytest.approx(subset.item(), rel=1e-9)
    finally:
        torch.set_default_dtype(torch.float32)


def test_small_changes_in_float32_match_float64():
    torch.manual_seed(1)
    hnet = ChunkedHMLP(MLP(20, (30,), 10).param_shapes, 5, chunk_size=200, emb_dim=4, hidden=(8, 8))
    ids = list(range(4))
    fast32 = FastOutputRegularizer(hnet, ids)
    assert fast32().item() == 0.0  # exactly zero at the snapshot
    hnet64 = ChunkedHMLP(MLP(20, (30,), 10).param_shapes, 5, chunk_size=200, emb_dim=4, hidden=(8, 8)).double()
    hnet64.load_state_dict(hnet.state_dict())
    targets64 = regularizer_targets(hnet64, ids)
    step = [1e-4 * torch.randn_like(p) for p in hnet.theta]
    with torch.no_grad():
        for p, p64, s in zip(hnet.theta, hnet64.theta, step):
            p.add_(s)
            p64.add_(s.double())
    exact = output_regularizer(hnet64, targets64, ids).item()
    assert fast32().item() == pytest.approx(exact, rel=1e-3)


def test_only_for_hypernetworks_with_a_linear_head():
    shapes = MLP(5, (4,), 3).param_shapes
    assert supports_fast_regularizer(HMLP(shapes, 2)) and not supports_fast_regularizer(DirectWeights(shapes, 2))
    with pytest.raises(TypeError, match="output_regularizer"):
        FastOutputRegularizer(DirectWeights(shapes, 2), [0])


@pytest.mark.parametrize("make_opt", [lambda ps: torch.optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.SGD(ps, lr=0.3)])
def test_penalty_with_lookahead_equals_the_plain_formula_at_the_step(make_opt):
    """The look-ahead written straight into the change rows gives the plain penalty at
    ``theta + lookahead_step(...)``, value and gradient."""
    torch.manual_seed(0)
    hnet = ChunkedHMLP(MLP(5, (4,), 3).param_shapes, 6, chunk_size=37, emb_dim=4, chunk_emb_dim=3, hidden=(7, 5))
    ids = [0, 1, 2, 3]
    targets = regularizer_targets(hnet, ids)
    fast = FastOutputRegularizer(hnet, ids)
    perturbed(hnet, 0.05)
    params = list(hnet.theta)
    opt = make_opt(hnet.trainable_parameters(4))
    hnet([4]).pow(2).sum().backward()
    quick = fast.penalty_with_lookahead(opt, torch.tensor([0, 2]))
    plain = output_regularizer(hnet, targets[[0, 2]], [0, 2], lookahead_step(opt, params))
    assert quick.item() == pytest.approx(plain.item(), rel=1e-4)
    for a, b in zip(grads(plain, params), grads(quick, params)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-7)
