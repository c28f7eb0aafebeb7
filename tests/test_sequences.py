"""hnlab.data.sequences on the shipped MNIST subset."""

import pytest
import torch

from hnlab.data.mnist import load_mnist
from hnlab.data.sequences import PermutedImages, pad_to_32, permutations, permuted_mnist, split_mnist
from hnlab.targets import MLP


@pytest.fixture(scope="module")
def data():
    return load_mnist(root="/nonexistent-hnlab-root", download=False, verbose=False)


def test_split_mnist_pairs_and_binary_labels(data):
    tasks = split_mnist(data)
    assert [t.name for t in tasks] == ["0/1", "2/3", "4/5", "6/7", "8/9"]
    for t in tasks:
        assert set(t.y_train.unique().tolist()) == {0, 1} and len(t.x_train) == 600 and len(t.x_test) == 200
    assert len(split_mnist(data, num_tasks=2)) == 2
    with pytest.raises(ValueError, match="num_tasks"):
        split_mnist(data, num_tasks=6)


def test_validation_split_replaces_the_test_set(data):
    task = split_mnist(data, val_size=100)[0]
    assert len(task.x_train) == 500 and len(task.x_test) == 100
    full = split_mnist(data)[0]
    pool = torch.cat([task.x_train, task.x_test])
    assert torch.equal(pool.sum(0), full.x_train.sum(0).to(pool.dtype)) or torch.allclose(
        pool.sum(0), full.x_train.sum(0)
    )
    with pytest.raises(ValueError, match="val_size"):
        split_mnist(data, val_size=600)


def test_permutations_are_seeded_and_identity_first():
    a, b = permutations(5, seed=3), permutations(5, seed=3)
    assert torch.equal(a, b) and torch.equal(a[0], torch.arange(1024))
    assert not torch.equal(a[1], a[2]) and torch.equal(a[3].sort().values, torch.arange(1024))
    assert not torch.equal(permutations(3, seed=4)[1], a[1])


def test_permuted_mnist_is_a_lazy_permuted_view(data):
    tasks = permuted_mnist(data, num_tasks=100, seed=1)
    assert len(tasks) == 100 and all(t.x_train.base is tasks[0].x_train.base for t in tasks)
    padded = pad_to_32(data.x_train[:4])
    assert padded.shape == (4, 1024) and padded.reshape(4, 32, 32)[:, :2].abs().sum() == 0
    idx = torch.tensor([0, 3])
    assert torch.equal(tasks[7].x_train[idx], padded[[0, 3]][:, tasks[7].x_train.perm])
    tnet = MLP(1024, (8,), 10)
    W = torch.randn(tnet.num_params)
    assert torch.allclose(tnet(tasks[7].x_test, W), tnet(tasks[7].x_test.materialize(), W))
    assert isinstance(tasks[2].to("cpu").x_train, PermutedImages)
