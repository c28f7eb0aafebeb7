import pytest
import torch
import torch.nn.functional as F

from hnlab.targets import MLP


def reference_mlp(x, W, tnet):
    """Plain loop over layers with F.linear, for comparison."""
    params = tnet.unflatten(W.unsqueeze(0))
    h = x
    for i in range(len(tnet.layers)):
        h = F.linear(h, params[2 * i][0], params[2 * i + 1][0])
        if i < len(tnet.layers) - 1:
            h = tnet.act(h)
    return h


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "elu", "tanh"])
def test_flat_weights_match_reference(activation):
    tnet = MLP(3, (5, 4), 2, activation)
    W, x = torch.randn(tnet.num_params), torch.randn(7, 3)
    assert tnet(x, W).shape == (7, 2)
    torch.testing.assert_close(tnet(x, W), reference_mlp(x, W, tnet))


def test_param_shapes_and_count():
    tnet = MLP(1, (10, 10), 1, "sigmoid")
    assert tnet.param_shapes == [(10, 1), (10,), (10, 10), (10,), (1, 10), (1,)]
    assert tnet.num_params == 141


def test_batched_weights_equal_loop_over_networks():
    tnet = MLP(4, (6,), 3, "relu")
    W, x = torch.randn(5, tnet.num_params), torch.randn(8, 4)
    batched = tnet(x, W)
    assert batched.shape == (5, 8, 3)
    for t in range(5):
        torch.testing.assert_close(batched[t], tnet(x, W[t]))
    xs = torch.randn(5, 8, 4)  # per-network inputs
    per_net = tnet(xs, W)
    for t in range(5):
        torch.testing.assert_close(per_net[t], tnet(xs[t], W[t]))


def test_multi_head_selects_its_slice():
    tnet = MLP(4, (6,), 2, "relu", num_heads=3)
    W, x = torch.randn(tnet.num_params), torch.randn(5, 4)
    full = tnet(x, W)
    assert full.shape == (5, 6)
    torch.testing.assert_close(tnet(x, W, head=2), full[:, 4:6])
    with pytest.raises(ValueError, match="head 3 out of range"):
        tnet(x, W, head=3)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(1, (3,), 1, "swish")
    with pytest.raises(ValueError, match="positive int"):
        MLP(0, (3,), 1)
    tnet = MLP(2, (3,), 1)
    with pytest.raises(ValueError, match="needs 13"):
        tnet(torch.randn(4, 2), torch.randn(12))
