import pytest
import torch

from hnlab import MLP, DirectWeights, TrainConfig, train_continual, train_multitask
from hnlab.data import Task, toy1d_tasks
from hnlab.experiments.toy import ToyConfig, build_toy_models


@pytest.fixture(scope="module")
def toy_two_tasks():
    torch.set_num_threads(1)
    return toy1d_tasks(seed=0)[:2]


def toy_run(tasks, beta, iters=1000, optimizer="adam", lr=1e-2):
    torch.manual_seed(0)
    hnet, tnet = build_toy_models(ToyConfig(), num_tasks=len(tasks))
    cfg = TrainConfig(iters=iters, batch_size=32, lr=lr, beta=beta, optimizer=optimizer)
    return train_continual(hnet, tnet, tasks, cfg, progress=False)


def test_regularizer_keeps_task_one_while_fine_tuning_forgets(toy_two_tasks):
    protected = toy_run(toy_two_tasks, beta=0.05)
    forgetful = toy_run(toy_two_tasks, beta=0.0)
    assert protected.during[0] < 0.01 and forgetful.during[0] < 0.01  # task 1 was learned
    assert protected.final[0] < 0.01  # ... and kept with the regularizer
    assert forgetful.final[0] > 0.1  # ... and lost without it
    assert protected.final[1] < 0.05 and forgetful.final[1] < 0.05  # both learn task 2


def test_matrix_shape_and_losses(toy_two_tasks):
    result = toy_run(toy_two_tasks, beta=0.005, iters=30)
    assert len(result.matrix) == 2 and all(len(row) == 2 for row in result.matrix)
    assert len(result.losses) == 2 and len(result.losses[0]) == 3
    assert result.metric == "mse" and result.seconds > 0


def test_multitask_learns_all_tasks_at_once(toy_two_tasks):
    torch.manual_seed(0)
    tnet = MLP(1, (10, 10), 1, "sigmoid")
    direct = DirectWeights(tnet.param_shapes, 2)
    mse = train_multitask(direct, tnet, toy_two_tasks, TrainConfig(iters=1500, lr=0.05, beta=0.0), progress=False)
    assert max(mse) < 0.05


def test_classification_with_heads_reports_accuracy():
    gen = torch.Generator().manual_seed(0)
    tasks = []
    for t in range(2):  # two linearly separable tasks with flipped labels
        x = torch.randn(200, 2, generator=gen)
        y = ((x[:, 0] > 0) ^ bool(t)).long()
        tasks.append(Task(f"t{t}", x[:150], y[:150], x[150:], y[150:], loss="ce"))
    tnet = MLP(2, (8,), 2, "relu", num_heads=2)
    direct = DirectWeights(tnet.param_shapes, 2)
    result = train_continual(
        direct, tnet, tasks, TrainConfig(iters=300, lr=1e-2, beta=0.0, batch_size=32), progress=False
    )
    assert result.metric == "accuracy"
    assert result.final[1] > 90  # the last head is trained


def test_bad_configs_raise_clear_errors(toy_two_tasks):
    with pytest.raises(ValueError, match="iters"):
        TrainConfig(iters=0)
    with pytest.raises(ValueError, match="lr"):
        TrainConfig(lr="fast")
    with pytest.raises(ValueError, match="reg_subset"):
        TrainConfig(reg_subset=0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")
    with pytest.raises(ValueError, match="sampling"):
        TrainConfig(sampling="bootstrap")
    hnet, tnet = build_toy_models(ToyConfig(), num_tasks=2)
    with pytest.raises(ValueError, match="one TrainConfig"):
        train_continual(hnet, tnet, toy_two_tasks, [TrainConfig()], progress=False)
    other = MLP(1, (5,), 1)
    with pytest.raises(ValueError, match="target needs"):
        train_continual(hnet, other, toy_two_tasks, TrainConfig(iters=1), progress=False)
    with pytest.raises(ValueError, match="loss"):
        Task("bad", torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(2, 1), torch.zeros(2, 1), loss="l1")


def test_epoch_sampling_sees_every_example_once_per_epoch():
    """``sampling="epochs"`` (the authors' data handlers): 7 batches of 3 over 5 examples are
    four full sweeps in fresh orders and one example of a fifth; batches may straddle sweeps."""
    from hnlab.train import batch_indices

    cfg = TrainConfig(iters=7, batch_size=3, sampling="epochs")
    flat = batch_indices(5, cfg, torch.Generator().manual_seed(0)).flatten()
    sweeps = flat[:20].view(4, 5)
    assert all(sorted(s.tolist()) == [0, 1, 2, 3, 4] for s in sweeps)
    assert len({tuple(s.tolist()) for s in sweeps}) > 1 and 0 <= flat[20] < 5
    drawn = batch_indices(5, TrainConfig(iters=7, batch_size=3), torch.Generator().manual_seed(0))
    assert drawn.shape == (7, 3) and drawn.min() >= 0 and drawn.max() < 5


def test_reg_subset_trains_with_a_subset_of_old_tasks(toy_two_tasks):
    tasks = toy1d_tasks(seed=1)
    torch.manual_seed(0)
    hnet, tnet = build_toy_models(ToyConfig(), num_tasks=3)
    result = train_continual(hnet, tnet, tasks, TrainConfig(iters=20, beta=0.01, reg_subset=1), progress=False)
    assert len(result.matrix) == 3


def test_gram_route_for_chunked_heads_plain_route_for_the_toy():
    """``gram_route_pays``: the 1D toy (1-2 trunk rows, H = 10) keeps the plain route; the
    PermutedMNIST hypernet (27 chunks, H = 25) takes the Gram route from its first old task."""
    from hnlab.experiments.benchmarks import make_hnet, make_tnet, paper_settings
    from hnlab.train import gram_route_pays

    toy = build_toy_models(ToyConfig())[0]
    assert not gram_route_pays(toy, 1) and not gram_route_pays(toy, 2)
    s = paper_settings("permutedmnist", 1)
    assert gram_route_pays(make_hnet(s, make_tnet(s)), 1)
    assert not gram_route_pays(DirectWeights(MLP(2, (3,), 1).param_shapes, 2), 5)
