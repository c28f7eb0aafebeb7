import pytest
import torch

from hnlab.hnets import HMLP, ChunkedHMLP
from hnlab.regularizers import adam_lookahead, lookahead_step, output_regularizer, regularizer_targets
from hnlab.targets import MLP

TNET = MLP(3, (7,), 2, "tanh")


def hnets():
    return [
        HMLP(TNET.param_shapes, 6, emb_dim=4, hidden=(9,), activation="sigmoid"),
        ChunkedHMLP(TNET.param_shapes, 6, chunk_size=11, emb_dim=4, chunk_emb_dim=3, hidden=(9,)),
    ]


def perturb(hnet, scale=0.05):
    with torch.no_grad():
        for p in hnet.theta:
            p.add_(scale * torch.randn_like(p))


def loop_regularizer(hnet, targets, ids, delta=None):
    """The reference code's way: one hypernetwork pass per old task."""
    theta = list(hnet.theta) if delta is None else [p + d for p, d in zip(hnet.theta, delta)]
    total = 0.0
    for k, t in enumerate(ids):
        W = hnet(task_emb=hnet.task_embeddings([t]).detach(), theta=theta)[0]
        total = total + (W - targets[k]).pow(2).sum()
    return total / len(ids)


@pytest.mark.parametrize("hnet", hnets(), ids=["full", "chunked"])
def test_batched_regularizer_equals_per_task_loop(hnet):
    ids = [0, 1, 2, 3, 4]
    targets = regularizer_targets(hnet, ids)
    perturb(hnet)
    delta = [0.01 * torch.randn_like(p) for p in hnet.theta]
    for d in (None, delta):
        batched = output_regularizer(hnet, targets, ids, d)
        grads_b = torch.autograd.grad(batched, list(hnet.theta))
        looped = loop_regularizer(hnet, targets, ids, d)
        grads_l = torch.autograd.grad(looped, list(hnet.theta))
        assert batched.item() > 0
        assert abs(batched.item() - looped.item()) <= 1e-6 * max(1.0, looped.item())
        for gb, gl in zip(grads_b, grads_l):
            torch.testing.assert_close(gb, gl, atol=1e-6, rtol=1e-5)


def test_regularizer_is_zero_at_the_snapshot():
    hnet = hnets()[0]
    targets = regularizer_targets(hnet, [0, 1])
    assert output_regularizer(hnet, targets, [0, 1]).item() == 0.0


@pytest.mark.parametrize("steps_before", [0, 3])
def test_lookahead_equals_the_adam_step_taken(steps_before):
    hnet = hnets()[1]
    params = list(hnet.theta)
    opt = torch.optim.Adam(params, lr=1e-2, betas=(0.8, 0.99), eps=1e-6)
    for _ in range(steps_before + 1):
        opt.zero_grad()
        hnet([0, 1]).pow(2).sum().backward()
        if _ < steps_before:
            opt.step()
    before = [p.detach().clone() for p in params]
    delta = adam_lookahead(opt, params)
    opt.step()
    for p, b, d in zip(params, before, delta):
        torch.testing.assert_close(p.detach() - b, d, atol=1e-7, rtol=1e-4)


def test_lookahead_by_hand_on_first_step():
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = torch.optim.Adam([p], lr=0.1)
    p.grad = torch.tensor([0.5, -0.25])
    # first Adam step: m_hat = g, v_hat = g^2 -> step = -lr * g / (|g| + eps)
    expected = -0.1 * p.grad / (p.grad.abs() + 1e-8)
    torch.testing.assert_close(adam_lookahead(opt, [p])[0], expected)


def test_lookahead_rejects_other_optimizers():
    p = torch.nn.Parameter(torch.zeros(2))
    with pytest.raises(TypeError, match="Adam"):
        adam_lookahead(torch.optim.SGD([p], lr=0.1), [p])


def test_sgd_lookahead_equals_the_sgd_step_taken():
    hnet = hnets()[0]
    params = list(hnet.theta)
    opt = torch.optim.SGD(params, lr=0.3)
    hnet([0, 1]).pow(2).sum().backward()
    before = [p.detach().clone() for p in params]
    delta = lookahead_step(opt, params)
    opt.step()
    for p, b, d in zip(params, before, delta):
        torch.testing.assert_close(p.detach() - b, d)
    assert any(d.abs().sum() > 0 for d in delta)
    with pytest.raises(ValueError, match="plain SGD"):
        lookahead_step(torch.optim.SGD(params, lr=0.1, momentum=0.9), params)


def test_fused_and_foreach_lookahead_agree(monkeypatch):
    """The fused-kernel look-ahead (CPU, CUDA) and the foreach formula (other devices) give one step."""
    hnet = hnets()[1]
    params = list(hnet.theta)
    opt = torch.optim.Adam(params, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)
    for step in range(3):
        opt.zero_grad()
        hnet([0, 1]).pow(2).sum().backward()
        if step < 2:
            opt.step()
    fused = adam_lookahead(opt, params)
    monkeypatch.delattr(torch, "_fused_adam_")
    for a, b in zip(fused, adam_lookahead(opt, params)):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-4)


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("make_opt", [lambda ps: torch.optim.Adam(ps, lr=1e-2), lambda ps: torch.optim.SGD(ps, lr=0.3)])
def test_lookahead_adds_the_step_to_start_in_place(make_opt, fused, monkeypatch):
    """``start`` comes back holding ``start + step`` (the fast regularizer's ``W - W*`` becomes ``W + dW - W*``)."""
    hnet = hnets()[1]
    params = list(hnet.theta)
    opt = make_opt(params)
    hnet([0, 1]).pow(2).sum().backward()
    if not fused:
        monkeypatch.delattr(torch, "_fused_adam_")
    start = [torch.randn_like(p) for p in params]
    expected = [s + d for s, d in zip(start, lookahead_step(opt, params))]
    out = lookahead_step(opt, params, start)
    assert all(o is s for o, s in zip(out, start))
    for o, e in zip(out, expected):
        torch.testing.assert_close(o, e)
