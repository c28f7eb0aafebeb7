"""The method registry and the runner: every method in every scenario, HNET unchanged by the move,
runs that resume to the same matrix, checkpoints that refuse another config or a truncated file."""

import numpy as np
import pytest
import torch

from hnlab.checkpoint import CheckpointCorrupt, CheckpointMismatch
from hnlab.data import Task
from hnlab.data.mnist import load_mnist
from hnlab.experiments.benchmarks import make_hnet, make_tasks, make_tnet, run_benchmark, train_config
from hnlab.methods import METHODS, Method, paper_settings, scenario_scores, smoke_settings
from hnlab.methods.direct import make_direct_tnet
from hnlab.train import train_continual


@pytest.fixture(scope="module")
def data():
    return load_mnist(root="/nonexistent-hnlab-root", download=False, verbose=False)


def smoke(method="hnet", scenario=1, **overrides):
    return smoke_settings(paper_settings("splitmnist", scenario, method, **overrides))


def test_registry_names_every_method_and_rejects_unknown_ones():
    assert set(METHODS) == {
        *("hnet", "finetune_target", "finetune_hnet", "multitask", "ewc", "online_ewc", "si", "hypermask"),
        *("lstm_hnet", "lstm_hnet_iwr", "lstm_grow", "hnet_iwr"),
        *("hnet_r", "hnet_tir"),
    }
    with pytest.raises(ValueError, match="unknown method 'lstm'; registered methods: hnet, finetune_target"):
        paper_settings("splitmnist", 1, "lstm")
    with pytest.raises(ValueError, match=r"unknown methods \['ewc2'\]"):
        run_benchmark(smoke(), None, compare=["ewc2"])


def test_method_hyperparameters_come_from_van_de_ven_and_can_be_overridden():
    assert paper_settings("splitmnist", 3, "ewc").hparams == {"lam": 1e8}
    assert paper_settings("permutedmnist", 2, "online_ewc").hparams == {"lam": 1000.0, "gamma": 0.9}
    assert paper_settings("splitmnist", 2, "si").hparams == {"c": 500.0, "xi": 0.1}
    assert paper_settings("splitmnist", 1, "ewc", hparams={"lam": 10}).hparams == {"lam": 10.0}
    with pytest.raises(ValueError, match=r"method 'si' has no settings \['lam'\]; its own: \['c', 'xi'\]"):
        paper_settings("splitmnist", 1, "si", hparams={"lam": 1.0})
    with pytest.raises(ValueError, match="non-negative number"):
        paper_settings("splitmnist", 1, "ewc", hparams={"lam": "big"})


def test_heads_follow_the_scenario():
    assert make_tnet(paper_settings("splitmnist", 1)).num_heads == 5  # HNET: a head per task in CL1 and CL3
    assert make_tnet(paper_settings("splitmnist", 3)).num_heads == 5
    assert make_tnet(paper_settings("splitmnist", 2)).num_heads == 1
    shapes = {c: make_direct_tnet(paper_settings("splitmnist", c, "ewc")) for c in (1, 2, 3)}
    assert (shapes[1].num_heads, shapes[1].out_features) == (5, 2)
    assert (shapes[2].num_heads, shapes[2].out_features) == (1, 2)
    assert (shapes[3].num_heads, shapes[3].out_features) == (1, 10)  # class-incremental: one 10-way head


class _Fixed(Method):
    """Answers a fixed label: the scoring must count CL3 against global classes t C + y."""

    def __init__(self, s, label):
        super().__init__(s)
        self.label = label

    def logits(self, x, task_id):
        return torch.nn.functional.one_hot(torch.full((len(x),), self.label % 2), 2).float()

    def predict(self, x, num_seen):
        return torch.full((len(x),), self.label)


def test_scenario_scores_count_within_task_labels_in_cl2_and_global_classes_in_cl3():
    y = torch.tensor([0, 1, 1, 1])
    tasks = [Task(f"t{t}", torch.zeros(4, 784), y, torch.zeros(4, 784), y) for t in range(2)]
    s = smoke("ewc")
    assert scenario_scores(_Fixed(s, 1), tasks, 1, 2) == [75.0, 75.0]
    assert scenario_scores(_Fixed(s, 1), tasks, 2, 2) == [75.0, 75.0]
    assert scenario_scores(_Fixed(s, 3), tasks, 3, 2) == [0.0, 75.0]  # class 3 is task 2's second class


def test_hnet_through_the_registry_gives_the_matrix_of_the_plain_loop(data):
    """Moving HNET onto the method interface must not change its numbers (same seed, same draws)."""
    s = smoke()
    tasks = make_tasks(s, data, 0)
    torch.manual_seed(0)
    tnet = make_tnet(s)
    before = train_continual(tnet=tnet, hnet=make_hnet(s, tnet), tasks=tasks, config=train_config(s), progress=False)
    after = run_benchmark(s, data, seeds=1, progress=False)
    np.testing.assert_allclose(after["acc_matrix"][0], before.matrix, atol=1e-4)


@pytest.mark.parametrize("scenario", [1, 2, 3])
def test_every_method_runs_in_every_scenario(data, scenario):
    r = run_benchmark(smoke("hnet", scenario), data, seeds=1, compare=list(METHODS), progress=False)
    assert r["method"] == "hnet" and set(r["baselines"]) == set(METHODS) - {"hnet"}
    R = np.asarray(r["acc_matrix"][0])
    assert R.shape == (3, 3) and R[0, 0] > 90  # the first task is always learned
    assert r["final_acc"] == pytest.approx(R[-1].mean()) and len(r["bwt"]) == len(r["forgetting"]) == 1
    for name in METHODS:
        assert 0 <= (r["baselines"].get(name, r["final_acc"])) <= 100


def test_class_incremental_fine_tuning_forgets_and_multitask_does_not(data):
    """CL3 with one growing head: fine-tuning predicts only the last task's classes."""
    r = run_benchmark(smoke("finetune_target", 3), data, seeds=1, compare=["multitask"], progress=False)
    final = r["acc_matrix"][0][-1]
    assert final[0] < 5 and final[1] < 5 and final[2] > 90
    assert r["baselines"]["multitask"] > 80


@pytest.mark.parametrize("name", ["hnet", "ewc", "si", "hnet_r"])
def test_unfinished_run_resumes_to_the_uninterrupted_matrix(data, tmp_path, monkeypatch, name):
    """Stop after the second task, resume: the same final matrix as an uninterrupted run (CPU)."""
    s = smoke(name)
    whole = run_benchmark(s, data, seeds=1, progress=False)["acc_matrix"][0]
    learn = METHODS[name].learn_task

    def stop_at_third(self, task_id, *args, **kwargs):
        if task_id == 2:
            raise KeyboardInterrupt
        return learn(self, task_id, *args, **kwargs)

    monkeypatch.setattr(METHODS[name], "learn_task", stop_at_third)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark(s, data, seeds=1, progress=False, checkpoint_dir=tmp_path)
    monkeypatch.setattr(METHODS[name], "learn_task", learn)
    torch.manual_seed(123)  # the resumed run must not depend on the state it starts in
    resumed = run_benchmark(s, data, seeds=1, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert resumed["acc_matrix"][0] == whole
    assert not list(tmp_path.glob("*.tmp")), "no half-written checkpoint left behind"


def test_finished_run_is_not_retrained(data, tmp_path, monkeypatch):
    s = smoke("si")
    first = run_benchmark(s, data, seeds=1, progress=False, checkpoint_dir=tmp_path)
    monkeypatch.setattr(METHODS["si"], "learn_task", lambda *a, **k: pytest.fail("retrained a finished run"))
    again = run_benchmark(s, data, seeds=1, progress=False, checkpoint_dir=tmp_path, resume=True)
    assert again["acc_matrix"] == first["acc_matrix"]


def test_checkpoint_of_another_config_or_a_truncated_file_is_refused(data, tmp_path):
    run_benchmark(smoke("ewc"), data, seeds=1, progress=False, checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointMismatch, match=r"hparams: saved \{'lam': 10000000.0\} vs now \{'lam': 5.0\}"):
        run_benchmark(
            smoke_settings(paper_settings("splitmnist", 1, "ewc", hparams={"lam": 5})),
            data,
            seeds=1,
            progress=False,
            checkpoint_dir=tmp_path,
            resume=True,
        )
    path = next(tmp_path.glob("*.pt"))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointCorrupt, match="corrupt"):
        run_benchmark(smoke("ewc"), data, seeds=1, progress=False, checkpoint_dir=tmp_path, resume=True)


def test_lesson_figures_compare_within_a_scenario_and_the_explorer_follows_its_dropdowns(data):
    from hnlab.viz.benchmarks import comparison_figure, comparison_sentences
    from hnlab.widgets.benchmarks import matrix_explorer, matrix_figure

    by = {
        c: run_benchmark(smoke("finetune_target", c), data, seeds=1, compare=["multitask"], progress=False)
        for c in (1, 3)
    }
    fig = comparison_figure(by)
    assert [bar.name for bar in fig.data] == ["fine-tuning (target net)", "multitask (upper bound)"]
    assert list(fig.data[1].y) == [by[1]["baselines"]["multitask"], by[3]["baselines"]["multitask"]]
    cl3 = comparison_sentences(by)[1]
    assert cl3.startswith("CL3") and cl3.index("multitask") < cl3.index("fine-tuning")  # best first
    box = matrix_explorer(by)
    scenario, method = box.children[0].children
    figure = box.children[1]
    method.value, scenario.value = "multitask", 3
    expected = np.asarray(by[3]["runs"][0]["baselines"]["multitask"]["matrix"])
    np.testing.assert_allclose(np.asarray(figure.data[0].z), expected)
    with pytest.raises(ValueError, match="no results for method 'si' in CL1"):
        matrix_figure(by, 1, "si")


@pytest.mark.parametrize("scenario", [1, 2, 3])
def test_multitask_loss_in_one_pass_equals_the_mean_over_tasks(data, scenario):
    """Equal shares: one forward over all seen tasks' shares is the mean of each task's own loss."""
    import torch.nn.functional as F

    method = METHODS["multitask"](smoke("multitask", scenario))
    tasks = make_tasks(method.settings, data, 0)
    idx = torch.stack([torch.arange(4), torch.arange(4, 8), torch.arange(8, 12)])
    loop = torch.stack(
        [
            F.cross_entropy(
                method.active_logits(tasks[k].x_train[rows], k if scenario == 1 else 2),
                method.train_labels(tasks[k], k, rows),
            )
            for k, rows in enumerate(idx)
        ]
    ).mean()
    torch.testing.assert_close(method.batch_loss(tasks, 2, idx), loop)
