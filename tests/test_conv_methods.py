"""hnet, finetune_target and from_scratch on a ResNet benchmark through the runner (tiny data)."""

from pathlib import Path

import pytest
import torch

from hnlab.data.mnist import MnistData
from hnlab.data.streams32 import StreamData
from hnlab.experiments.benchmarks import run_benchmark
from hnlab.methods import METHODS, method_class, paper_settings


def tiny_stream() -> StreamData:
    g = torch.Generator().manual_seed(0)

    def images(n, shift):
        y = torch.arange(n) % 10
        x = torch.rand(n, 784, generator=g) * 0.3
        x[torch.arange(n), y * 70 + shift] = 1.0  # a class-dependent bright pixel: learnable
        return x, y

    sets = []
    for name, shift in (("fashion_mnist", 3), ("mnist", 40)):
        (x, y), (xt, yt) = images(60, shift), images(20, shift)
        sets.append(MnistData(x, y, xt, yt, "full", Path("."), name))
    return StreamData("fashion_mnist32", tuple(sets), max_train=40)


def settings(method):
    return paper_settings(
        "fashion_mnist32", 1, method, num_tasks=2, iters=3, batch_size=8, chunk_size=3000, target="resnet20"
    )


def test_settings_and_registry():
    s = paper_settings("split_cifar10_100", 1, "hnet")
    assert (s.target, s.epochs, s.batch_size, s.chunk_size, s.emb_dim, s.hnet_hidden) == (
        "resnet32",
        200,
        32,
        7000,
        32,
        (),
    )
    assert paper_settings("fashion_mnist32", 1, "hnet", iters=50).epochs == 0, "iters replaces epochs"
    assert method_class("hnet", "fashion_mnist32").__name__ == "ConvHNet" and method_class("hnet") is METHODS["hnet"]
    with pytest.raises(ValueError, match="on fashion_mnist32; registered methods on fashion_mnist32"):
        method_class("ewc", "fashion_mnist32")
    with pytest.raises(ValueError, match="supports scenarios"):
        paper_settings("fashion_mnist32", 2, "hnet")


def test_compression_of_the_papers_hypernetwork():
    from hnlab.methods.conv import ConvHNet

    method = ConvHNet(paper_settings("split_cifar10_100", 1, "hnet"))
    assert method.tnet.num_params == 468_540  # von Oswald App. C
    assert sum(p.numel() for p in method.hnet.theta) == 457_144  # "457,144 network weights"


@pytest.mark.parametrize("method", ["hnet", "finetune_target", "from_scratch"])
def test_methods_run_through_the_runner(method, tmp_path):
    results = run_benchmark(
        settings(method), tiny_stream(), seeds=1, progress=False, checkpoint_dir=tmp_path, resume=True
    )
    assert results["data"].startswith("fashion+mnist-32") and len(results["acc_matrix"][0]) == 2
    run = results["runs"][0]
    assert len(run["acc_task1_stats"]) == 2 and len(run["bn_stem_mean"]) == 2
    if method == "hnet":
        assert 0 < results["compression_ratio"]
    again = run_benchmark(
        settings(method), tiny_stream(), seeds=1, progress=False, checkpoint_dir=tmp_path, resume=True
    )
    assert again["acc_matrix"] == results["acc_matrix"], "a finished run resumes from its checkpoint"


def test_hnet_keeps_statistics_per_task_and_finetune_one_set():
    from hnlab.methods.conv import ConvFinetune, ConvHNet

    tasks = tiny_stream().tasks(2)
    for cls, moved in ((ConvHNet, [True, True]), (ConvFinetune, [True, False])):
        torch.manual_seed(0)
        method = cls(settings(cls.name))
        for t in range(2):
            method.learn_task(t, tasks, torch.Generator().manual_seed(t))
        assert (method.tnet.stats.running_mean != 0).any(dim=1).tolist() == moved


def test_lesson_figures_from_results():
    from hnlab.viz.conv import during_after_figure, own_vs_first_stats_figure, statistics_figure
    from hnlab.widgets.conv import channel_figure, statistics_explorer

    run = {"matrix": [[90, 10], [80, 95]], "acc_task1_stats": [80, 40], "bn_stem_mean": [[0, 1], [2, 3]]}
    results = {"method": "hnet", "runs": [{**run, "bn_stem_var": [[1, 1], [2, 2]]}]}
    fig = during_after_figure({"hnet": results, "from_scratch": results})
    assert len(fig.data) == 4 and list(fig.data[0].x) == ["task 1", "task 2"] and list(fig.data[1].y) == [80, 95]
    assert len(statistics_figure(results).data) == 2 and list(own_vs_first_stats_figure(results).data[1].y) == [80, 40]
    assert len(channel_figure(results, 1).data) == 4
    with pytest.raises(ValueError, match="out of range"):
        channel_figure(results, 2)
    statistics_explorer(results).children[0].children[0].value = 0  # redraws without error
