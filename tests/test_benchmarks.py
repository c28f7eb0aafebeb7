"""hnlab.experiments.benchmarks settings and a tiny end-to-end run on the shipped subset; results table."""

import numpy as np
import pytest

from hnlab.data.mnist import load_mnist
from hnlab.experiments.benchmarks import make_hnet, make_tnet, run_benchmark, train_config
from hnlab.methods import paper_settings, smoke_settings
from hnlab.results_table import markdown_table, pool, protocol_rows


def test_paper_settings_and_overrides():
    s = paper_settings("permutedmnist", 3)
    assert (s.iters, s.lr, s.chunk_size, s.hnet_hidden, s.in_features) == (5000, 1e-4, 78000, (25, 25), 1024)
    assert paper_settings("splitmnist", 1, iters=0, beta=None).iters == 2000
    assert paper_settings("splitmnist", 1, iters=7).iters == 7
    with pytest.raises(ValueError, match="unknown benchmark"):
        paper_settings("cifar")
    with pytest.raises(ValueError, match="scenario"):
        paper_settings("splitmnist", 4)
    with pytest.raises(ValueError, match="unknown hnet_init"):
        paper_settings("splitmnist", 1, hnet_init="glorot")
    with pytest.raises(ValueError, match="at most 5"):
        paper_settings("splitmnist", 1, num_tasks=6)
    assert paper_settings("splitmnist", 1, hnet_hidden=[25, 25], hnet_activation="elu").hnet_hidden == (25, 25)
    with pytest.raises(ValueError, match="hnet_hidden must be positive ints"):
        paper_settings("splitmnist", 1, hnet_hidden=[25, 0])
    with pytest.raises(ValueError, match="unknown activation"):
        paper_settings("splitmnist", 1, hnet_activation="swish")
    assert paper_settings("splitmnist", 1).sampling == "epochs"
    assert train_config(paper_settings("splitmnist", 1, sampling="replacement")).sampling == "replacement"
    with pytest.raises(ValueError, match="sampling must be one of"):
        paper_settings("splitmnist", 1, sampling="bootstrap")


def test_compression_ratio():
    s = paper_settings("splitmnist", 1)
    assert 0.5 < make_hnet(s, make_tnet(s)).compression_ratio() < 1.5


def test_hypernet_starts_from_the_authors_xavier_init():
    """Glorot-uniform weights (variance 2 / (fan_in + fan_out)) and zero biases in every
    hypernet layer, N(0, 1) embeddings: generated weights near 0.015, not PyTorch's ~0.3."""
    s = paper_settings("splitmnist", 1)
    hnet = make_hnet(s, make_tnet(s))
    head_weight, head_bias = hnet.head_params()
    assert head_weight.var().item() == pytest.approx(2 / sum(head_weight.shape), rel=0.02)
    assert all(p.abs().max().item() == 0 for p in hnet.theta[2::2])  # trunk and head biases
    assert hnet.theta[0].std().item() == pytest.approx(1.0, rel=0.1)  # chunk embeddings untouched
    assert 0.005 < hnet([0]).std().item() < 0.05
    default = paper_settings("splitmnist", 1, hnet_init="pytorch")
    assert make_hnet(default, make_tnet(default))([0]).std().item() > 0.05


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(seeds=0), "seeds must be a positive int"),
        (dict(seeds=True), "seeds must be a positive int"),
        (dict(first_seed=-1), "first_seed must be an int >= 0"),
        (dict(compare="multitask"), "list of method names"),
        (dict(compare=("multitask", "ewc3")), r"unknown methods \['ewc3'\]"),
    ],
)
def test_bad_run_arguments_fail_before_anything_trains(kwargs, message):
    """``data=None``: the error must come before the first seed touches the data."""
    with pytest.raises(ValueError, match=message):
        run_benchmark(paper_settings("splitmnist", 1), None, **kwargs)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--seeds", "0"], "--seeds: must be at least 1"),
        (["--device", "tpu"], "unknown device"),
        (["--compare", "multitask,ewc3"], "unknown methods"),
        (["--method", "lstm"], "unknown method 'lstm'; registered methods: hnet"),
        (["--method", "si", "--hparam", "lam=3"], "has no settings ['lam']"),
        (["--hnet-init", "glorot"], "unknown hnet_init"),
    ],
)
def test_benchmark_script_gives_one_usage_error_before_loading_data(argv, message, capsys, monkeypatch):
    import bench.benchmarks as bench

    monkeypatch.setattr(bench, "load_mnist", lambda **_: pytest.fail("data loaded despite bad arguments"))
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_tiny_run_learns_and_reports_every_key():
    data = load_mnist(root="/nonexistent-hnlab-root", download=False, verbose=False)
    s = smoke_settings(paper_settings("splitmnist", 2, num_tasks=2))
    r = run_benchmark(s, data, seeds=2, compare=("finetune_target", "multitask"), progress=False)
    assert r["data"] == "subset" and r["seeds"] == [0, 1] and len(r["acc_matrix"]) == 2
    assert r["final_acc"] == r["scenario_acc"]["cl2"] and r["scenario_acc"]["cl1"] > 80
    assert set(r["baselines"]) == {"finetune_target", "multitask"}
    confusion = np.asarray(r["task_confusion"])  # mean over seeds; its diagonal is task inference
    assert confusion.shape == (2, 2) and np.allclose(confusion.sum(1), 100)
    assert np.allclose(np.diag(confusion), np.mean([run["task_inference"] for run in r["runs"]], axis=0))
    assert "| splitmnist-2 | CL2 | subset | xavier_harmonic, relu, epochs | 0.01 | 0, 1 | 30 |" in markdown_table([r])


def fake_result(seeds, cl1, init="xavier_harmonic", baselines=None, threads=1, scenario=1, cl2=80.0, sampling="epochs"):
    config = {"num_tasks": 5, "iters": 2000, "beta": 0.01, "hnet_init": init, "hnet_activation": "relu"}
    return {
        "benchmark": "splitmnist",
        "scenario": scenario,
        "data": "full",
        "seeds": seeds,
        "config": {**config, "sampling": sampling} if sampling else config,
        "scenario_acc": {"cl1": cl1, "cl2": cl2, "cl3": 60.0},
        "during_acc": cl1,
        "device": "cpu",
        "machine": {"threads": threads},
        "train_seconds_per_seed": [100.0 * threads] * len(seeds),
        "baselines": baselines or {},
    }


def test_pool_merges_files_of_one_setting_weighted_by_seeds():
    pooled = pool(
        [
            fake_result([0], 99.0),
            fake_result([1, 2], 99.6),
            fake_result([0], 98.0, init="pytorch"),
            fake_result([3], 97.0, sampling=None),
        ]
    )
    assert [p["seeds"] for p in pooled] == [[0, 1, 2], [0], [3]]
    assert pooled[0]["scenario_acc"]["cl1"] == pytest.approx(99.4) and pooled[1]["scenario_acc"]["cl1"] == 98.0
    assert "| xavier_harmonic, relu, epochs | 0.01 | 0, 1, 2 | 2000 | 99.40 |" in markdown_table(pooled)
    assert "| xavier_harmonic, relu, replacement | 0.01 | 3 | 2000 | 97.00 |" in markdown_table(pooled)  # older files


def test_pool_keeps_baselines_of_the_files_that_ran_them_and_all_thread_counts():
    pooled = pool(
        [
            fake_result([0], 99.0),
            fake_result([1, 2], 99.6, baselines={"multitask": 99.7}, threads=2),
            fake_result([3], 99.5, baselines={"multitask": 99.4}),
        ]
    )[0]
    assert pooled["baselines"]["multitask"] == pytest.approx(99.6) and pooled["baseline_seeds"] == [1, 2, 3]
    row = markdown_table([pooled])
    assert "| multitask 99.60 (seeds 1, 2, 3) | 100-200 | cpu (1, 2 threads) |" in row


def test_protocol_row_takes_cl2_from_the_shared_head_runs_of_the_same_setting():
    pooled = pool(
        [
            fake_result([0, 1, 2], 99.6, cl2=82.0),
            fake_result([0, 1], 99.7, scenario=2, cl2=86.0),
            fake_result([5], 99.0, scenario=2, cl2=99.0, init="pytorch"),
        ]
    )
    assert protocol_rows(pooled) == [
        "| splitmnist-5 | full | xavier_harmonic, relu, epochs | 0.01 | 2000 | 99.60 (seeds 0-2) | "
        "86.00 (seeds 0, 1) | 60.00 (seeds 0-2) |"
    ]
    assert protocol_rows(pool([fake_result([0], 99.6)])) == [
        "| splitmnist-5 | full | xavier_harmonic, relu, epochs | 0.01 | 2000 | 99.60 (seeds 0) | - | 60.00 (seeds 0) |"
    ]
