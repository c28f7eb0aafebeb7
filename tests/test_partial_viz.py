"""Lesson 09's figures and retrain widget on tiny runs (no kernel)."""

import pytest
import torch
from test_corruptions import tiny_partial_stream

from hnlab.experiments.benchmarks import run_benchmark
from hnlab.methods import paper_settings
from hnlab.viz.partial import (
    example_images_figure,
    first_experience_figure,
    freeze_depth_figure,
    gradient_cosine_figure,
    split_figure,
    split_rows,
)
from hnlab.widgets.partial import retrain, retrain_widget


@pytest.fixture(scope="module")
def runs():
    torch.manual_seed(0)
    data = tiny_partial_stream("noisy_fashion32", max_train=16)
    out = {}
    for method in ("partial_hnet", "latent_replay"):
        s = paper_settings("noisy_fashion32", 1, method, {"freeze_depth": 4}, num_tasks=2, iters=2, batch_size=4)
        out[method] = {4: run_benchmark(s, data, seeds=1, progress=False)}
    return out


def test_figures_draw_the_runs(runs):
    rows = split_rows(runs)
    assert [r["model"] for r in rows] == ["HN-4", "LR-4"] and all(r["memory_mb"] > 0 for r in rows)
    assert len(split_figure(runs).data) == 8
    assert len(freeze_depth_figure({"similar": runs["latent_replay"]}).data[0].y) == 1
    fig = first_experience_figure({"noisy": {m: r[4] for m, r in runs.items()}})
    assert [len(t.y) for t in fig.data] == [2, 2]
    assert len(gradient_cosine_figure(runs["partial_hnet"][4]).data[0].y) == 2
    tasks = tiny_partial_stream("noisy_fashion32").tasks(4)
    assert len(example_images_figure(tasks).data) == 4


def test_retrain_behind_the_widget():
    streams = {"noisy": tiny_partial_stream("noisy_fashion32", max_train=8)}
    out = retrain(streams, 4, "noisy", iters=1, batch_size=4)
    assert set(out["noisy"]) == {"partial_hnet", "latent_replay"}
    assert retrain_widget(streams, out, iters=1, batch_size=4).children
    with pytest.raises(ValueError, match="unknown stream 'fog'"):
        retrain(streams, 4, "fog")
