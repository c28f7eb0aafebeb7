"""HyperMask (hnlab.hnets.mask, hnlab.methods.hypermask): the batched percentile mask against a
per-task, per-tensor loop, the kept share, the unmasked output bias, the first task's p ramp, the
masked L1 term, protection of the first task on a shortened SplitMNIST run, and clear errors."""

import math
from dataclasses import replace

import pytest
import torch

from hnlab.data.mnist import load_mnist
from hnlab.experiments.benchmarks import make_tasks, run_seed
from hnlab.hnets.mask import MaskGenerator, percentile_mask
from hnlab.methods import METHODS, paper_settings, smoke_settings
from hnlab.methods.hypermask import HYPERMASK, l1_change, ramped_sparsity

SHAPES = [(6, 5), (6,), (4, 6), (4,), (3, 4), (3,)]


@pytest.fixture(scope="module")
def data():
    return load_mnist(root="/nonexistent-hnlab-root", download=False, verbose=False)


def loop_masks(gen: MaskGenerator, task_ids, p: float) -> torch.Tensor:
    """The authors' route: per task, per tensor, |tanh(h)| cut at torch.quantile's (numpy's linear)
    p-th percentile; the last tensor uncut."""
    rows = []
    for t in task_ids:
        h = gen.hnet([t])[0]
        parts = torch.split(h.tanh().abs(), gen.sizes)
        cut = []
        for r in parts[:-1]:
            tau = torch.quantile(r.double(), p / 100).float()
            cut.append(torch.where(r >= tau, r, torch.zeros_like(r)))
        rows.append(torch.cat([*cut, parts[-1]]))
    return torch.stack(rows)


@pytest.mark.parametrize("chunk", [0, 7])
@pytest.mark.parametrize("p", [0.0, 30.0, 62.5, 90.0])
def test_batched_mask_equals_the_per_task_per_tensor_loop(p, chunk):
    gen = MaskGenerator(SHAPES, 4, emb_dim=3, hidden=(5,), sparsity=p, chunk_size=chunk)
    assert gen.chunked == bool(chunk)
    ids = [0, 1, 2, 3]
    batched = gen.masks(gen.raw(ids))
    looped = loop_masks(gen, ids, p)
    torch.testing.assert_close(batched, looped)
    assert torch.equal(batched == 0, looped == 0)  # the same weights are switched off


@pytest.mark.parametrize("p", [0.0, 30.0, 90.0])
def test_the_percentile_rule_keeps_the_right_share_of_each_tensor(p):
    r = torch.rand(3, 1001)  # distinct values: the share is exact
    kept = (percentile_mask(r, p) > 0).sum(-1)
    expected = 1001 - math.ceil(p / 100 * 1000)
    assert kept.tolist() == [expected] * 3
    gen = MaskGenerator([(400, 50), (400,), (2, 400), (2,)], 2, emb_dim=4, hidden=(5,), sparsity=p)
    share = gen.kept_fraction([0, 1])
    assert torch.allclose(share[:, :-1], torch.full_like(share[:, :-1], 1 - p / 100), atol=2e-3)
    assert torch.all(share[:, -1] == 1.0)  # the output bias: never cut


def test_the_last_tensor_is_not_masked_and_the_others_are():
    gen = MaskGenerator(SHAPES, 2, emb_dim=3, hidden=(5,), sparsity=50)
    W = gen([0, 1])
    last = gen.sizes[-1]
    assert torch.equal(W[:, -last:], gen.theta[-last:].expand(2, -1))
    masked = W[:, :-last]
    assert (masked == 0).float().mean() > 0.4
    assert torch.all(masked.abs() <= gen.theta[:-last].abs() + 1e-7)  # a soft mask in [0, 1]


def test_the_head_gradient_added_in_place_equals_autograds():
    gen = MaskGenerator(SHAPES, 4, emb_dim=3, hidden=(5, 5), sparsity=30)
    w = torch.randn(3, gen.num_outputs)
    (gen.raw([0, 2, 3]) * w).sum().backward()
    fast = [None if p.grad is None else p.grad.clone() for p in gen.hnet.parameters()]
    gen.hnet.zero_grad(set_to_none=True)
    (gen.hnet([0, 2, 3]) * w).sum().backward()
    for a, p in zip(fast, gen.hnet.parameters()):
        assert (a is None and p.grad is None) or torch.allclose(a, p.grad, atol=1e-5)


def test_the_chunked_generators_gram_penalty_equals_the_plain_one_with_live_embeddings():
    """The chunked option's old-task penalty (Gram route, old embeddings trainable, as HyperMask
    trains them) against ``mean_i ||h(e_i) - h*_i||^2`` from generated rows: values and gradients."""
    torch.manual_seed(0)
    s = replace(smoke_settings(paper_settings("splitmnist", 1, "hypermask")), num_tasks=4)
    s = replace(s, hparams={**s.hparams, "chunk": 97.0, "hnet_width": 6.0, "emb_dim": 5.0})
    method = METHODS["hypermask"](s)
    gen, old = method.gen, [0, 1, 2]
    targets = gen.raw(old).detach()
    penalty = method.old_task_penalty(old)
    with torch.no_grad():
        for p in [*gen.hnet.theta, *gen.hnet.task_emb]:
            p.add_(0.05 * torch.randn_like(p))
    params = [*gen.hnet.theta, *gen.hnet.task_emb[:3]]
    fast = penalty(None)
    grads = torch.autograd.grad(fast, params)
    plain = (gen.raw(old) - targets).pow(2).sum(-1).mean()
    torch.testing.assert_close(fast, plain, rtol=1e-4, atol=1e-6)
    for a, b in zip(grads, torch.autograd.grad(plain, params)):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-6)
    assert grads[-1].abs().sum() > 0  # the old embeddings feel the penalty


def test_p_ramps_linearly_on_the_first_task_only(data):
    assert [ramped_sparsity(30.0, 0, it, 4) for it in range(4)] == [7.5, 15.0, 22.5, 30.0]
    assert ramped_sparsity(30.0, 1, 0, 4) == 30.0
    s = replace(smoke_settings(paper_settings("splitmnist", 1, "hypermask")), num_tasks=2, iters=4)
    method = METHODS["hypermask"](s)
    seen, masks = [], method.gen.masks
    method.gen.masks = lambda h, p=None: seen.append(p) or masks(h, p)
    tasks = make_tasks(s, data)
    for t in range(2):
        method.learn_task(t, tasks, torch.Generator().manual_seed(0))
    assert seen == [7.5, 15.0, 22.5, 30.0, 30.0, 30.0, 30.0, 30.0]


def test_the_masked_l1_term_is_the_authors_sum_of_per_tensor_norms():
    gen = MaskGenerator(SHAPES, 2, emb_dim=3, hidden=(5,), sparsity=30)
    start = gen.theta.detach().clone()
    theta = start + torch.randn_like(start)
    mask = gen.masks(gen.raw([1]))[0]
    per_tensor = zip(torch.split(theta - start, gen.sizes), torch.split(mask, gen.sizes))
    authors = sum(torch.norm(d * m, p=1) for d, m in per_tensor)
    torch.testing.assert_close(l1_change(theta, start, mask), authors)
    torch.testing.assert_close(l1_change(theta, start, None), (theta - start).abs().sum())


@pytest.mark.parametrize("chunk", [0.0, 20000.0])
def test_hypermask_keeps_the_first_task_where_beta_and_lambda_zero_forget_it(data, chunk):
    """Three tasks of 60 steps on the bundled subset: task 1 stays near 100 with the authors' beta
    and lambda (measured 100, 100, 96) and falls without them (100, 96, 67.5); the same with the
    chunked generator."""
    s = replace(smoke_settings(paper_settings("splitmnist", 1, "hypermask")), num_tasks=3, iters=60)
    s = replace(s, hparams={**s.hparams, "chunk": chunk})
    tasks = make_tasks(s, data)
    protected = run_seed(s, tasks, 0, progress=False)["matrix"]
    bare = replace(s, hparams={**s.hparams, "beta": 0.0, "lam": 0.0})
    forgets = run_seed(bare, tasks, 0, progress=False)["matrix"]
    drop = lambda m: m[0][0] - m[-1][0]  # noqa: E731
    assert protected[0][0] > 90 and drop(protected) < 8
    assert drop(forgets) > drop(protected) + 15


def test_settings_are_the_authors_and_bad_ones_get_one_clear_error():
    assert paper_settings("splitmnist", 3, "hypermask").hparams == HYPERMASK["splitmnist"]
    assert paper_settings("permutedmnist", 1, "hypermask").hparams["sparsity"] == 0.0
    s = smoke_settings(paper_settings("splitmnist", 1, "hypermask"))
    for p in (100.0, 150.0):
        with pytest.raises(ValueError, match=r"sparsity p must be a number in \[0, 100\)"):
            METHODS["hypermask"](replace(s, hparams={**s.hparams, "sparsity": p}))
    with pytest.raises(ValueError, match="non-negative number"):
        paper_settings("splitmnist", 1, "hypermask", hparams={"lam": -1e-3})
    with pytest.raises(ValueError, match="hypermask chunk must be a whole number >= 0"):
        METHODS["hypermask"](replace(s, hparams={**s.hparams, "chunk": 2.5}))
    with pytest.raises(ValueError, match="sparsity p must be a number"):
        MaskGenerator(SHAPES, 2, sparsity=-5)


def test_the_lesson_figures_draw_from_plain_results():
    import numpy as np

    from hnlab.viz.hypermask import kept_fraction_figure, mask_images_figure, overlap_figure, versus_figure
    from hnlab.widgets.hypermask import retrain_figure

    names = ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"]
    run = {
        "matrix": [[100.0, 50.0], [99.0, 98.0]],
        "kept_fraction": [[0.7, 0.7, 0.7, 1.0]] * 2,
        "mask_overlap": [[1.0, 0.6], [0.6, 1.0]],
        "mask_tensors": names,
        "sparsity": 30.0,
        "lam": 1e-3,
    }
    assert "overlap 60%" in retrain_figure(run).layout.annotations[1].text
    fig = kept_fraction_figure(run["kept_fraction"], names)
    assert [bar.name for bar in fig.data] == ["task 1", "task 2"] and fig.data[0].x[0] == "layer 1 weights"
    assert "overlap 54%" in overlap_figure(run["mask_overlap"], kept=0.7).layout.title.text
    assert len(mask_images_figure(np.zeros((2, 3, 784)), [0, 1]).data) == 4
    with pytest.raises(ValueError, match="not a square image"):
        mask_images_figure(np.zeros((2, 3, 10)))
    fig = versus_figure({"hypermask": {"cl1": 99.0, "cl2": 80.0, "cl3": 60.0}}, "t")
    assert fig.data[0].name == "HyperMask" and list(fig.data[0].x) == ["CL1", "CL2", "CL3"]


def test_cl_step_times_the_chunked_hypermask_against_hnet_in_one_run(tmp_path):
    """``bench/cl_step.py --baseline``: both methods timed per old-task count, the ratio saved;
    an unknown baseline is one clear error before anything is timed."""
    import json

    import bench.cl_step as cl_step

    out = tmp_path / "step.json"
    argv = ["--method", "hypermask", "--hparam", "chunk=78000", "--steps", "1", "--old", "0,2", "--out", str(out)]
    cl_step.main([*argv, "--baseline", "hnet", "--ent-test-size", "10"])
    result = json.loads(out.read_text())
    assert result["regularizer"] == "fast (Gram), chunked mask generator"
    for k in ("0", "2"):
        ratio = result["step_seconds"][k] / result["baseline_step_seconds"][k]
        assert result["ratio_to_baseline"][k] == pytest.approx(ratio)
    with pytest.raises(SystemExit):
        cl_step.main([*argv, "--baseline", "hnett"])
