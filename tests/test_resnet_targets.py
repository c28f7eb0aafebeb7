"""Functional ResNets (hnlab.targets.resnet) against the same networks built from torch.nn layers."""

import pytest
import torch

from hnlab.targets import ResNet, resnet20, resnet32, slim_resnet18
from hnlab.targets.resnet_nn import as_torch_nn, default_weights

NETS = {
    "resnet32": lambda: resnet32(4, num_heads=2, num_stats=3),
    "resnet20": lambda: resnet20(4, num_heads=2, num_stats=3),
    "slim_resnet18": lambda: slim_resnet18(4, num_heads=2, num_stats=3),
}


@pytest.fixture(autouse=True, scope="module")
def double():
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(old)


def weights(tnet, T=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    W = default_weights(tnet, g).double()
    W = W + 0.1 * torch.randn(W.shape, generator=g)  # non-trivial batch-norm scales and shifts
    return W if T is None else torch.stack([W * (1 + 0.1 * t) for t in range(T)])


def test_the_paper_sizes():
    assert resnet32(10, num_heads=6).num_params == 468_540  # von Oswald et al. App. C
    assert slim_resnet18(10).widths == (20, 40, 80, 160) and slim_resnet18().blocks_per_stage == (2, 2, 2, 2)
    assert resnet20().blocks_per_stage == (3, 3, 3)


@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("training", [True, False])
def test_forward_and_gradient_match_torch_nn(name, training):
    tnet = NETS[name]()
    tnet.stats.running_mean.normal_(0, 0.1)
    tnet.stats.running_var.uniform_(0.5, 2)
    W = weights(tnet).requires_grad_()
    x = torch.randn(5, 3, 8, 8)
    twin = as_torch_nn(tnet, W, stats=1).double().train(training)
    tnet.train(training)
    y = tnet(x, W, head=1)
    expected = twin(x)[:, 4:8]
    torch.testing.assert_close(y, expected)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    (expected * r).sum().backward()
    twin_grads = dict(twin.named_parameters())
    for pname, g in tnet.unflatten(W.grad).items():
        torch.testing.assert_close(g, twin_grads[pname].grad, msg=f"gradient of {pname}")
    if training:  # task 1's statistics moved as torch's did; the others did not
        twin_after = as_torch_nn(tnet, W, stats=1)
        for mod, ref in zip(twin_after.modules(), twin.modules()):
            if isinstance(mod, torch.nn.BatchNorm2d):
                torch.testing.assert_close(mod.running_mean, ref.running_mean.double())
                torch.testing.assert_close(mod.running_var, ref.running_var.double())


@pytest.mark.parametrize("name", NETS)
def test_batched_networks_equal_one_at_a_time(name):
    tnet = NETS[name]()
    W = weights(tnet, T=3).requires_grad_()
    x = torch.randn(4, 3, 8, 8)
    tnet.eval()
    batched = tnet(x, W)  # network t with task t's statistics
    single = torch.stack([tnet(x, W[t], stats=t) for t in range(3)])
    torch.testing.assert_close(batched, single)
    torch.testing.assert_close(tnet.forward_vmap(x, W), batched)
    g1 = torch.autograd.grad(batched.square().sum(), W)[0]
    g2 = torch.autograd.grad(single.square().sum(), W)[0]
    torch.testing.assert_close(g1, g2)
    xs = torch.randn(3, 4, 3, 8, 8)  # each network its own inputs
    torch.testing.assert_close(tnet(xs, W)[2], tnet(xs[2], W[2], stats=2))


def test_training_mode_batched_matches_single_and_vmap():
    tnet = resnet20(4, num_stats=3).train()
    W = weights(tnet, T=3)
    x = torch.randn(6, 3, 8, 8)
    vmapped = tnet.forward_vmap(x, W)
    batched = tnet(x, W)
    stats_after = tnet.stats.running_mean.clone()
    tnet.stats.running_mean.zero_()
    tnet.stats.running_var.fill_(1)
    single = torch.stack([tnet(x, W[t], stats=t) for t in range(3)])
    torch.testing.assert_close(batched, single)
    torch.testing.assert_close(vmapped, single)
    torch.testing.assert_close(tnet.stats.running_mean, stats_after)


def test_per_task_statistics_are_separate():
    tnet = resnet20(2, num_heads=3, num_stats=3)
    W = weights(tnet)
    before = tnet.stats.running_mean.clone()
    tnet.train()
    tnet(torch.randn(8, 3, 8, 8) + 3, W, head=1)  # learns with task 1's statistics
    moved = (tnet.stats.running_mean != before).any(dim=1)
    assert moved.tolist() == [False, True, False]
    tnet.eval()
    x = torch.randn(4, 3, 8, 8)
    assert not torch.allclose(tnet(x, W, head=1), tnet(x, W, head=1, stats=0))
    with pytest.raises(ValueError, match="out of range"):
        tnet(x, W, stats=3)


def test_bad_weights_are_named():
    tnet = resnet20()
    with pytest.raises(ValueError, match="this target needs 270410"):
        tnet(torch.randn(1, 3, 8, 8), torch.zeros(5))
    with pytest.raises(ValueError, match="shortcut"):
        ResNet((1,), (4,), 2, shortcut="B")
