"""Entropy task inference and the CL1/CL2/CL3 accuracies (hnlab.infer)."""

import pytest
import torch

from hnlab.data import Task
from hnlab.hnets import HMLP, DirectWeights
from hnlab.infer import entropy, infer_batch, per_network_logits, scenario_accuracies
from hnlab.targets import MLP


def test_entropy_is_lowest_for_confident_outputs():
    e = entropy(torch.tensor([[10.0, 0.0], [0.0, 0.0]]))
    assert e[0] < e[1] and abs(e[1].item() - torch.log(torch.tensor(2.0)).item()) < 1e-6


def test_multi_head_networks_read_their_own_head():
    tnet = MLP(3, (4,), 2, num_heads=3)
    W, x = torch.randn(3, tnet.num_params), torch.randn(5, 3)
    logits = per_network_logits(tnet, x, W)
    for t in range(3):
        assert torch.allclose(logits[t], tnet(x, W[t], head=t))


def linear_tasks():
    """Two tasks whose inputs live in disjoint halves of the input space; task 0's label is
    the sign of x0, task 1's of x1. A network that knows its task is confident only there."""
    x0 = torch.zeros(40, 2)
    x0[:, 0] = torch.randn(40) * 3
    x1 = torch.zeros(40, 2)
    x1[:, 1] = torch.randn(40) * 3
    return [
        Task("a", x0, (x0[:, 0] > 0).long(), x0, (x0[:, 0] > 0).long()),
        Task("b", x1, (x1[:, 1] > 0).long(), x1, (x1[:, 1] > 0).long()),
    ]


def test_entropy_picks_the_right_network_and_scores_the_scenarios():
    tasks = linear_tasks()
    tnet = MLP(2, (), 2, activation="linear")
    hnet = HMLP(tnet.param_shapes, 2, emb_dim=2, hidden=())
    W = torch.tensor([[-5.0, 0.0, 5.0, 0.0, 0.0, 0.0], [0.0, -5.0, 0.0, 5.0, 0.0, 0.0]])
    with torch.no_grad():  # make the head emit W exactly: zero weight, bias = W of task 0, embedding picks task 1
        weight, bias = hnet.head_params()
        weight.zero_()
        bias.copy_(W[0])
        weight[:, 0] = W[1] - W[0]
        hnet.task_emb[0].zero_()
        hnet.task_emb[1].copy_(torch.tensor([1.0, 0.0]))
    assert torch.allclose(hnet([0, 1]), W)
    task_hat, label_hat = infer_batch(tnet, tasks[1].x_test, hnet([0, 1]))
    assert (task_hat == 1).float().mean() > 0.9
    acc = scenario_accuracies(hnet, tnet, tasks, batch_size=7)
    assert acc["cl1"] == [100.0, 100.0]
    assert all(a > 90 for a in acc["task_inference"]) and all(a >= b for a, b in zip(acc["cl2"], acc["cl3"]))


def test_identical_networks_cannot_infer_the_task():
    tasks = linear_tasks()
    tnet = MLP(2, (), 2, activation="linear")
    acc = scenario_accuracies(DirectWeights(tnet.param_shapes, 2), tnet, tasks)
    assert acc["task_inference"] == [100.0, 0.0] and acc["cl3"][1] == 0.0
    # Equal entropies: argmin picks network 0 for every input of both tasks.
    assert acc["task_confusion"] == [[100.0, 0.0], [100.0, 0.0]]


def test_task_confusion_counts_where_each_input_went():
    """Three networks over batches of 7: rows sum to 100, the diagonal is the task-inference
    accuracy, and each entry matches a per-input count of the lowest-entropy network."""
    torch.manual_seed(0)
    tnet = MLP(2, (3,), 2, activation="tanh")
    hnet = HMLP(tnet.param_shapes, 3, emb_dim=2, hidden=(4,))
    tasks = [
        Task(str(t), torch.randn(5, 2), torch.randint(2, (5,)), torch.randn(16, 2) + t, torch.randint(2, (16,)))
        for t in range(3)
    ]
    acc = scenario_accuracies(hnet, tnet, tasks, batch_size=7)
    W = hnet([0, 1, 2]).detach()
    for j, task in enumerate(tasks):
        chosen = torch.stack([entropy(tnet(x.unsqueeze(0), W[k]).squeeze(0)) for k in range(3) for x in task.x_test])
        chosen = chosen.view(3, -1).argmin(0)
        expected = [100 * (chosen == k).float().mean().item() for k in range(3)]
        assert acc["task_confusion"][j] == pytest.approx(expected)
        assert sum(acc["task_confusion"][j]) == pytest.approx(100.0)
        assert acc["task_confusion"][j][j] == pytest.approx(acc["task_inference"][j])
