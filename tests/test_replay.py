"""Hypernetwork-protected replay (hnlab.replay, HNET+R, HNET+TIR): the generated decoder against its
nn twin, the VAE loss against its formula, batched sampling against a loop, protection of an old
task's samples by the regularizer, task inference on a tiny problem, and the methods' errors."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hnlab.data import Task
from hnlab.methods import paper_settings, smoke_settings
from hnlab.methods.replay import HNetR, distillation
from hnlab.replay import ReplayVAE, TaskInferenceNet, make_vae, replay_labels, train_task_inference, train_vae_task
from hnlab.train import TrainConfig


def tiny_vae(num_tasks=2, in_features=16, **kw) -> ReplayVAE:
    return ReplayVAE(in_features, num_tasks, (12,), (10, 14), latent_dim=3, task_code_dim=4, chunk_size=60, **kw)


def test_generated_decoder_equals_its_nn_twin_with_those_weights():
    vae = tiny_vae()
    W = vae.hnet([1]).squeeze(0).detach()
    z = torch.randn(5, 3)
    twin, params = nn.Sequential(nn.Linear(7, 10), nn.ReLU(), nn.Linear(10, 14), nn.ReLU(), nn.Linear(14, 16)), []
    for tensor, shape in zip(torch.split(W, vae.decoder.param_sizes), vae.decoder.param_shapes):
        params.append(tensor.view(shape))
    with torch.no_grad():
        for layer, (w, b) in zip([twin[0], twin[2], twin[4]], zip(params[::2], params[1::2])):
            layer.weight.copy_(w), layer.bias.copy_(b)
    code = torch.tensor([[0.0, 1.0, 0.0, 0.0]]).expand(5, 4)
    expected = twin(torch.cat([z, code], dim=-1))
    got = vae.decode_logits(z.unsqueeze(0), [1], W.unsqueeze(0)).squeeze(0)
    torch.testing.assert_close(got, expected)


def test_vae_loss_is_pixel_mean_bce_plus_kl_per_pixel():
    vae = tiny_vae()
    x = torch.rand(6, 16)
    W = vae.hnet([0]).squeeze(0)
    torch.manual_seed(3)
    loss = vae.loss(x, 0, W)
    torch.manual_seed(3)
    mean, logvar = vae.encoder(x)
    z = mean + torch.randn_like(mean) * torch.exp(logvar / 2)
    code = torch.zeros(6, 4)
    code[:, 0] = 1
    p = torch.sigmoid(vae.decoder(torch.cat([z, code], -1), W))
    bce = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).mean()
    kl = 0.5 * (mean**2 + logvar.exp() - 1 - logvar).sum(1).mean()
    torch.testing.assert_close(loss, bce + kl / 16)


def test_sampling_every_old_task_is_one_call_equal_to_a_loop():
    vae = tiny_vae(num_tasks=3)
    torch.manual_seed(0)
    batched = vae.sample([0, 2], 4)
    torch.manual_seed(0)
    z = torch.randn(2, 4, 3)
    loop = [torch.sigmoid(vae.decode_logits(z[i : i + 1], [t], vae.hnet([t]))) for i, t in enumerate([0, 2])]
    torch.testing.assert_close(batched, torch.cat(loop))
    assert batched.shape == (2, 4, 16) and 0 <= batched.min() and batched.max() <= 1
    assert replay_labels(batched).tolist() == [0] * 4 + [1] * 4


def pattern_task(name, rows, n=256, side=4):
    """Images of ``side x side`` pixels, bright in ``rows`` with noise: an easy task to tell apart."""
    x = torch.rand(n, side, side) * 0.2
    x[:, rows] += 0.7
    x = x.clamp(0, 1).flatten(1)
    y = torch.zeros(n, dtype=torch.long)
    return Task(name, x, y, x[:64], y[:64])


def drift_of_task_one_after_task_two(beta: float) -> float:
    torch.manual_seed(0)
    vae = tiny_vae()
    tasks = [pattern_task("top", slice(0, 2)), pattern_task("bottom", slice(2, 4))]
    cfg = TrainConfig(iters=300, batch_size=32, lr=1e-2, beta=beta)
    train_vae_task(vae, tasks[0], 0, cfg)
    z = torch.randn(1, 50, 3)
    with torch.no_grad():
        before = torch.sigmoid(vae.decode_logits(z, [0], vae.hnet([0])))
    train_vae_task(vae, tasks[1], 1, cfg)
    with torch.no_grad():
        after = torch.sigmoid(vae.decode_logits(z, [0], vae.hnet([0])))
    return (after - before).abs().mean().item()


def test_regularizer_keeps_an_old_tasks_replay_and_fine_tuning_lets_it_drift():
    protected, unprotected = drift_of_task_one_after_task_two(1.0), drift_of_task_one_after_task_two(0.0)
    assert protected < 0.01 < unprotected
    assert unprotected > 5 * protected


def test_task_inference_network_tells_replayed_and_real_tasks_apart():
    torch.manual_seed(0)
    vae = tiny_vae()
    tasks = [pattern_task("top", slice(0, 2)), pattern_task("bottom", slice(2, 4))]
    cfg = TrainConfig(iters=300, batch_size=32, lr=1e-2, beta=0.0)
    train_vae_task(vae, tasks[0], 0, cfg)
    tir = TaskInferenceNet(16, (20,), 2)
    assert train_task_inference(tir, vae, tasks[0], 0, cfg) == []  # one task: nothing to tell apart
    train_task_inference(tir, vae, tasks[1], 1, TrainConfig(iters=200, batch_size=32, lr=1e-2, beta=0.0))
    for t, task in enumerate(tasks):
        assert (tir.infer(task.x_test, 2) == t).float().mean() > 0.95


def test_distillation_is_the_tempered_kl_plus_the_teachers_entropy():
    student, teacher, T = torch.randn(7, 4, requires_grad=True), torch.randn(7, 4), 2.0
    p = F.softmax(teacher / T, -1)
    kl = F.kl_div(F.log_softmax(student / T, -1), p, reduction="batchmean")
    entropy = -(p * p.log()).sum(-1).mean()
    torch.testing.assert_close(distillation(student, teacher, T), T**2 * (kl + entropy))


def test_hnet_r_pads_the_old_copy_for_the_new_classes_in_cl3():
    s = smoke_settings(paper_settings("splitmnist", 3, "hnet_r"))
    method = HNetR(s)
    outputs = torch.randn(8, s.classes_per_task * s.num_tasks)
    assert method.replay_logits(outputs, 2, 3).shape == (8, 6) and method.replay_logits(outputs, 2, 2).shape == (8, 4)
    cl1 = HNetR(smoke_settings(paper_settings("splitmnist", 1, "hnet_r")))
    heads = torch.arange(8 * 6.0).view(8, 6)  # 3 heads of 2; two blocks of 4 inputs read heads 0 and 1
    torch.testing.assert_close(cl1.replay_logits(heads, 2, 2), torch.cat([heads[:4, 0:2], heads[4:, 2:4]]))


def test_replay_settings_follow_the_authors_code_and_bad_ones_are_refused():
    vae = make_vae("splitmnist", "hnet_r", 784, 5)
    assert vae.decoder.hidden == (250, 350) and vae.hnet.chunk_size == 50_000
    assert vae.decoder.num_params == 200 * 250 + 250 + 250 * 350 + 350 + 350 * 784 + 784
    assert make_vae("permutedmnist", "hnet_tir", 1024, 10).decoder.hidden == (1000, 1000)
    s = paper_settings("permutedmnist", 3, "hnet_r")
    assert s.hparams == {"vae_beta": 0.1, "temperature": 2.0, "replay_weight": 0.5}
    with pytest.raises(ValueError, match="hnet_tir has no settings|method 'hnet_tir' has no settings"):
        paper_settings("splitmnist", 3, "hnet_tir", hparams={"temperature": 2})
    with pytest.raises(ValueError, match="must be a non-negative number"):
        paper_settings("splitmnist", 3, "hnet_r", hparams={"vae_beta": "high"})
    with pytest.raises(ValueError, match="task_code_dim"):
        ReplayVAE(16, 5, (8,), (8,), task_code_dim=4)
    assert math.isclose(paper_settings("splitmnist", 2, "hnet_r").hparams["vae_beta"], 0.01)
