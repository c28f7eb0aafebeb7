"""EWC's Fisher and penalties and SI's path integral against the plain formulas."""

import io

import pytest
import torch

from hnlab.data.sequences import PermutedImages
from hnlab.regularizers import EWCPenalty, SynapticIntelligence, diagonal_fisher, mlp_fisher
from hnlab.targets import MLP


def loop_fisher(logits_fn, W, x):
    """The reference: one sample at a time, as van de Ven's code does."""
    total = torch.zeros_like(W)
    for n in range(len(x)):
        w = W.detach().requires_grad_(True)
        logp = torch.log_softmax(logits_fn(x[n : n + 1], w), dim=-1)[0]
        (g,) = torch.autograd.grad(logp[logp.argmax()], w)
        total += g.square()
    return total / max(len(x) - 1, 1)


def roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


@pytest.mark.parametrize("active", [slice(None), slice(2, 5)])
def test_fisher_matches_the_per_sample_loop(active):
    tnet = MLP(6, (5,), 6)
    W = 0.5 * torch.randn(tnet.num_params, dtype=torch.float64)
    x = torch.randn(11, 6, dtype=torch.float64)
    logits_fn = lambda xb, w: tnet(xb, w)[:, active]
    # several predicted classes, so a Fisher of a fixed class (or the label) would differ;
    # with three or more classes the squared gradients of different classes differ too
    assert len(logits_fn(x, W).argmax(1).unique()) > 1
    expected = loop_fisher(logits_fn, W, x)
    got = diagonal_fisher(logits_fn, W.requires_grad_(True), x, batch_size=4)  # 4 does not divide 11
    assert not got.requires_grad and got.shape == W.shape
    assert expected.abs().max() > 0
    torch.testing.assert_close(got, expected)


def test_fisher_over_permuted_images_and_a_single_sample():
    tnet = MLP(8, (5,), 3)
    W = torch.randn(tnet.num_params, dtype=torch.float64)
    base = torch.rand(9, 8, dtype=torch.float64)
    perm = torch.randperm(8)
    x = PermutedImages(base, perm)
    logits_fn = lambda xb, w: tnet(xb, w)
    got = diagonal_fisher(logits_fn, W, x, batch_size=2)
    torch.testing.assert_close(got, loop_fisher(logits_fn, W, base[:, perm]))
    one = base[:1, perm]
    torch.testing.assert_close(diagonal_fisher(logits_fn, W, one), loop_fisher(logits_fn, W, one))  # / max(N-1, 1)


def test_ewc_plain_value_gradient_and_state():
    P, lam = 7, 3.0
    ewc = EWCPenalty(lam)
    W = torch.randn(P, dtype=torch.float64, requires_grad=True)
    assert ewc.num_terms == 0 and ewc(W).item() == 0.0
    anchors = [torch.randn(P, dtype=torch.float64) for _ in range(2)]
    fishers = [torch.rand(P, dtype=torch.float64) for _ in range(2)]
    for a, f in zip(anchors, fishers):
        ewc.consolidate(a, f)
    assert ewc.num_terms == 2
    value = ewc(W)
    expected = lam / 2 * sum((f * (W - a) ** 2).sum() for a, f in zip(anchors, fishers))
    torch.testing.assert_close(value, expected)
    (g,) = torch.autograd.grad(value, W)
    torch.testing.assert_close(g, lam * sum(f * (W.detach() - a) for a, f in zip(anchors, fishers)))
    # consolidate copies: changing the caller's tensors afterwards changes nothing
    anchors[0].add_(1.0)
    torch.testing.assert_close(ewc(W), expected)
    resumed = EWCPenalty(0.0)
    resumed.load_state_dict(roundtrip(ewc.state_dict()))
    assert resumed.num_terms == 2 and not resumed.online
    torch.testing.assert_close(resumed(W), expected)
    empty = EWCPenalty(1.0, online=True, gamma=0.5)
    empty.load_state_dict(roundtrip(EWCPenalty(2.0).state_dict()))
    assert empty.num_terms == 0 and not empty.online and empty.lam == 2.0


def test_online_ewc_keeps_one_running_term():
    P, lam, gamma = 5, 2.0, 0.7
    ewc = EWCPenalty(lam, online=True, gamma=gamma)
    a1, a2 = torch.randn(P, dtype=torch.float64), torch.randn(P, dtype=torch.float64)
    f1, f2 = torch.rand(P, dtype=torch.float64), torch.rand(P, dtype=torch.float64)
    ewc.consolidate(a1, f1)
    torch.testing.assert_close(ewc.fisher[0], f1)
    ewc.consolidate(a2, f2)
    assert ewc.num_terms == 1
    torch.testing.assert_close(ewc.fisher[0], f2 + gamma * f1)
    torch.testing.assert_close(ewc.W_star[0], a2)
    W = torch.randn(P, dtype=torch.float64, requires_grad=True)
    expected = lam / 2 * (gamma * (f2 + gamma * f1) * (W - a2) ** 2).sum()
    torch.testing.assert_close(ewc(W), expected)
    resumed = EWCPenalty(1.0)
    resumed.load_state_dict(roundtrip(ewc.state_dict()))
    assert resumed.online and resumed.gamma == gamma
    torch.testing.assert_close(resumed(W), expected)
    resumed.consolidate(a1, f1)  # the resumed one keeps folding
    torch.testing.assert_close(resumed.fisher[0], f1 + gamma * (f2 + gamma * f1))


def quadratic(W, a=(1.0, 3.0), m=(0.5, -1.0)):
    return 0.5 * sum(ai * (W[i] - mi) ** 2 for i, (ai, mi) in enumerate(zip(a, m)))


def sgd_task(W, si, lr, steps):
    opt = torch.optim.SGD([W], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = quadratic(W) + si.penalty(W)
        loss.backward()
        g = W.grad.clone()
        opt.step()
        si.after_step(W, g)


def test_si_path_integral_omega_and_penalty():
    lr, xi, c, steps = 0.1, 0.1, 2.0, 5
    W = torch.nn.Parameter(torch.tensor([2.0, 1.0], dtype=torch.float64))
    si = SynapticIntelligence(W, c=c, xi=xi)
    assert si.penalty(W).item() == 0.0
    sgd_task(W, si, lr, steps)

    # by hand: g_k = a (W_k - m), W_{k+1} = W_k - lr g_k, so w = sum_k lr g_k^2 per weight
    w_hand, start, end = [], [2.0, 1.0], []
    for a, m, w0 in ((1.0, 0.5, 2.0), (3.0, -1.0, 1.0)):
        total, wk = 0.0, w0
        for _ in range(steps):
            g = a * (wk - m)
            total += lr * g * g
            wk -= lr * g
        w_hand.append(total)
        end.append(wk)
    torch.testing.assert_close(si.w, torch.tensor(w_hand, dtype=torch.float64))

    si.end_task(W)
    delta = torch.tensor(end, dtype=torch.float64) - torch.tensor(start, dtype=torch.float64)
    omega = torch.tensor(w_hand, dtype=torch.float64) / (delta**2 + xi)
    torch.testing.assert_close(si.omega, omega)
    torch.testing.assert_close(si.theta_prev_task, torch.tensor(end, dtype=torch.float64))
    assert si.w.abs().max() == 0

    shift = torch.tensor([0.3, -0.2], dtype=torch.float64)
    W_test = (W.detach() + shift).requires_grad_(True)
    value = si.penalty(W_test)
    torch.testing.assert_close(value, c * (omega * shift**2).sum())  # no 1/2
    (g,) = torch.autograd.grad(value, W_test)
    torch.testing.assert_close(g, 2 * c * omega * shift)

    # a second task: w restarts at 0 and gathers the TOTAL loss's gradient (task + penalty)
    a, m = torch.tensor([1.0, 3.0], dtype=torch.float64), torch.tensor([0.5, -1.0], dtype=torch.float64)
    theta, wk, w_hand = si.theta_prev_task.clone(), W.detach().clone(), torch.zeros(2, dtype=torch.float64)
    for _ in range(3):
        gk = a * (wk - m) + 2 * c * omega * (wk - theta)
        w_hand += lr * gk**2
        wk = wk - lr * gk
    resumed = SynapticIntelligence(torch.zeros(2, dtype=torch.float64), c=0.0)
    resumed.load_state_dict(roundtrip(si.state_dict()))
    assert resumed.c == c and resumed.num_tasks == 1
    W2 = torch.nn.Parameter(W.detach().clone())
    sgd_task(W, si, lr, 3)
    torch.testing.assert_close(si.w, w_hand)
    torch.testing.assert_close(W.detach(), wk)
    sgd_task(W2, resumed, lr, 3)  # the resumed copy continues identically
    torch.testing.assert_close(resumed.w, si.w)
    torch.testing.assert_close(resumed.penalty(W2), si.penalty(W))


def test_si_state_rejects_another_size():
    si = SynapticIntelligence(torch.zeros(3), c=1.0)
    with pytest.raises(ValueError, match="3 weights"):
        SynapticIntelligence(torch.zeros(2), c=1.0).load_state_dict(si.state_dict())


@pytest.mark.parametrize("window", [None, (2, 5)])
def test_mlp_fisher_in_closed_form_matches_the_per_sample_gradients(window):
    """One backward pass and one product per layer against torch.func's per-sample gradients."""
    torch.manual_seed(1)
    tnet = MLP(6, (8, 7), 5, "relu")
    W = torch.randn(tnet.num_params, dtype=torch.float64) * 0.5
    x = torch.randn(23, 6, dtype=torch.float64)
    select = None if window is None else (lambda y: y[:, window[0] : window[1]])
    logits_fn = lambda xb, w: tnet(xb, w) if select is None else select(tnet(xb, w))
    torch.testing.assert_close(mlp_fisher(tnet, W, x, select, batch_size=10), diagonal_fisher(logits_fn, W, x))
