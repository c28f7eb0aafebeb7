"""Partial hypernetworks and latent replay (Hemati et al. 2023, lesson 09) on tiny generated data."""

import pytest
import torch
from test_corruptions import tiny_partial_stream

from hnlab.experiments.benchmarks import run_benchmark
from hnlab.hnets.partial import PartialHNet
from hnlab.methods import CONV_METHODS, method_class, paper_settings
from hnlab.methods.latent_replay import ClassBalancedBuffer
from hnlab.regularizers.virtual import lookahead_grads
from hnlab.targets import slim_resnet18
from hnlab.targets.partial import SplitResNet
from hnlab.targets.resnet_nn import default_weights


def settings(method, k=2, num_tasks=3, **hparams):
    hparams = {"freeze_depth": k, **hparams}
    return paper_settings("split_fashion32", 1, method, hparams, num_tasks=num_tasks, iters=3, batch_size=8)


def test_registry_and_settings():
    assert {"partial_hnet", "latent_replay"} <= set(CONV_METHODS)
    s = paper_settings("noisy_fashion32", 1, "partial_hnet")
    assert (s.target, s.num_tasks, s.classes_per_task, s.beta, s.lr, s.hnet_hidden) == (
        "slim_resnet18",
        4,
        2,
        0.5,
        1e-3,
        (50,),
    )
    assert s.hparams == {"freeze_depth": 2.0, "reg_tasks": 20.0, "second_order": 0.0}
    assert paper_settings("mnist_first32", 1, "latent_replay").hparams["buffer_size"] == 200


@pytest.mark.parametrize(
    "method, hparams, message",
    [
        ("partial_hnet", {"freeze_depth": 5}, "freeze_depth k must be an int in 0..4"),
        ("latent_replay", {"freeze_depth": 1.5}, "freeze_depth k must be an int in 0..4"),
        ("latent_replay", {"buffer_size": 0}, "buffer_size must be an int >= 1"),
        ("partial_hnet", {"second_order": 2}, "second_order 0 or 1"),
    ],
)
def test_bad_settings_get_one_clear_error(method, hparams, message):
    s = paper_settings("split_fashion32", 1, method, hparams)
    with pytest.raises(ValueError, match=message):
        method_class(method, s.benchmark)(s)


@pytest.mark.parametrize("k", [0, 2, 4])
def test_split_network_is_the_whole_network(k):
    torch.manual_seed(0)
    tnet = slim_resnet18(2, num_heads=2, num_stats=2).eval()
    tnet.stats.running_mean.normal_(0, 0.1)
    split = SplitResNet(tnet, k)
    W = torch.stack([default_weights(tnet) for _ in range(2)])
    x = torch.rand(3, 3, 32, 32)
    h = split.features(x, W[0, : split.num_frozen])
    assert tuple(h.shape[1:]) == split.feature_shape()
    whole = tnet(x, torch.cat([W[:1, : split.num_frozen].expand(2, -1), W[:, split.num_frozen :]], 1), stats=[0, 0])
    assert torch.allclose(split.rest(h, W[:, split.num_frozen :], stats=[0, 0]), whole, atol=1e-5)


def test_channel_wise_head_against_a_loop_over_channels():
    torch.manual_seed(0)
    names, shapes = ["a.weight", "a.bn.weight", "fc.weight"], [(4, 3, 3, 3), (4,), (2, 4)]
    hnet = PartialHNet(names, shapes, num_tasks=3, emb_dim=5, hidden=(6,), trunk_out=7, chan_emb_dim=2)
    W = hnet([0, 2])
    head, U = hnet.conv_heads["a_weight"], hnet.chan_emb["a_weight"]
    z = hnet.trunk_output(torch.tensor([0, 2]))
    for t in range(2):
        loop = torch.stack([head(torch.cat([z[t], U[c]])) for c in range(4)])
        assert torch.allclose(W[t, :108], loop.reshape(-1), atol=1e-6)
    assert torch.equal(W[1, 108:112], hnet.tables[2]) and W.shape == (2, 108 + 4 + 8)


def test_first_and_second_order_lookahead_against_their_formulas():
    torch.manual_seed(0)
    A, b, w_star = torch.randn(5, 3), torch.randn(5), torch.randn(3)
    w = torch.randn(3, requires_grad=True)
    e = torch.randn(2, requires_grad=True)  # a task's own parameter: task gradient only
    loss = lambda: 0.5 * (A @ w - b).pow(2).sum() + (e * w[:2]).sum()
    reg = lambda values: (values[0] - w_star).pow(2).sum()
    lr, c = 0.1, 0.5
    g1 = (A.T @ (A @ w - b) + torch.cat([e, torch.zeros(1)])).detach()
    w_virtual = (w - lr * g1).detach()
    first, own, cosine = lookahead_grads(loss(), [w], [e], reg, lr, c)
    assert torch.allclose(first[0], g1 + c * 2 * (w_virtual - w_star), atol=1e-5)
    assert torch.allclose(own[0], w[:2].detach())
    g2 = c * 2 * (w_virtual - w_star)
    assert cosine == pytest.approx(float(torch.nn.functional.cosine_similarity(g1, g2, dim=0)), abs=1e-5)
    second, _, _ = lookahead_grads(loss(), [w], [e], reg, lr, c, second_order=True)
    hessian = A.T @ A  # of the task loss in w (e enters linearly)
    want = g1 + (torch.eye(3) - lr * hessian).T @ (c * 2 * (w_virtual - w_star))
    assert torch.allclose(second[0], want.detach(), atol=1e-5)


def test_class_balanced_buffer_keeps_equal_counts():
    g = torch.Generator().manual_seed(0)
    buffer = ClassBalancedBuffer(12)
    for task in range(3):
        y = torch.tensor([0] * 9 + [1] * 7)
        idx = buffer.choose(y, g)
        buffer.add(torch.randn(len(idx), 4) + task, y[idx], task)
        counts = set(buffer.counts().values())
        assert counts == {12 // (2 * (task + 1))} and len(buffer.counts()) == 2 * (task + 1)
    x, y, t = buffer.sample(5, g)
    assert x.shape == (5, 4) and set(t.tolist()) <= {0, 1, 2}


@pytest.mark.parametrize("method", ["partial_hnet", "latent_replay"])
def test_freezing_really_freezes(method):
    torch.manual_seed(0)
    s = settings(method, k=2)
    tasks = tiny_partial_stream("split_fashion32", max_train=24).tasks(3)
    m = method_class(method, s.benchmark)(s)
    g = torch.Generator().manual_seed(0)
    m.learn_task(0, tasks, g)
    m.end_task(0, tasks)
    frozen, stats = m.frozen.detach().clone(), m.tnet.stats.running_mean[0].clone()
    feats = m.split.features(tasks[0].x_test[:], m.frozen)
    for t in (1, 2):
        m.learn_task(t, tasks, g)
        m.end_task(t, tasks)
    assert torch.equal(m.frozen, frozen), "frozen weights changed"
    a = m.tnet.stats.offsets["stages.1.1.bn2"][1]  # the frozen layers' statistics of experience 1
    assert torch.equal(m.tnet.stats.running_mean[0, :a], stats[:a])
    assert torch.equal(m.split.features(tasks[0].x_test[:], m.frozen), feats)
    if method == "partial_hnet":
        assert len(m.cosines[1]) == 3 and all(-1 <= c <= 1 for c in m.cosines[1])


@pytest.mark.parametrize("method, k", [("partial_hnet", 0), ("latent_replay", 4)])
def test_through_the_runner(method, k):
    data = tiny_partial_stream("noisy_fashion32", max_train=16)
    r = run_benchmark(settings(method, k, num_tasks=2), data, seeds=1, progress=False)
    run = r["runs"][0]
    assert len(r["acc_matrix"][0]) == 2 and run["freeze_depth"] == k and run["memory_mb"] > 0
