"""hnlab.data.cifar, images and streams32 on tiny generated files (no network)."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from hnlab.data import cifar
from hnlab.data.cifar import CifarData, DataError, load_cifar, read_batch
from hnlab.data.images import ByteImages, augment
from hnlab.data.mnist import MnistData, md5sum
from hnlab.data.streams32 import fashion_mnist32, split_cifar10_100, split_cifar100


def write_batch(path: Path, n: int, labels_key: str, num_classes: int, offset: int = 0) -> np.ndarray:
    """A CIFAR pickle as the official files are: protocol 2, bytes keys, uint8 [N, 3072] data."""
    data = ((np.arange(n * 3072).reshape(n, 3072) + offset) % 256).astype(np.uint8)
    batch = {b"batch_label": b"tiny", labels_key.encode(): [i % num_classes for i in range(n)], b"data": data}
    path.write_bytes(pickle.dumps(batch, protocol=2))
    return data


def fake_cifar(root: Path, name: str, monkeypatch, n: int = 20) -> None:
    folder, url, archive_md5, md5s, key = cifar.CIFAR[name]
    (root / folder).mkdir(parents=True)
    classes = 10 if name == "cifar10" else 100
    for i, file in enumerate(md5s):
        if "meta" in file:
            (root / folder / file).write_bytes(pickle.dumps({b"label_names": [b"a"]}, protocol=2))
        else:
            write_batch(root / folder / file, n if "test" not in file else n // 2, key, classes, offset=i)
    real = {f: md5sum(root / folder / f) for f in md5s}
    monkeypatch.setitem(cifar.CIFAR, name, (folder, url, archive_md5, real, key))
    cifar._read.cache_clear()


def test_readers_read_the_official_format(tmp_path, monkeypatch):
    fake_cifar(tmp_path, "cifar10", monkeypatch)
    data = load_cifar("cifar10", root=tmp_path, download=False)
    assert data.x_train.shape == (100, 3, 32, 32) and data.x_train.dtype == torch.uint8
    assert data.x_test.shape == (10, 3, 32, 32) and data.y_train.tolist()[:12] == [*range(10), 0, 1]
    first = read_batch(tmp_path / "cifar-10-batches-py" / "data_batch_1")
    assert np.array_equal(data.x_train[0].numpy().reshape(-1), first["data"][0])


def test_missing_and_corrupt_files_are_named_in_one_error(tmp_path, monkeypatch):
    fake_cifar(tmp_path, "cifar100", monkeypatch)
    folder = tmp_path / "cifar-100-python"
    (folder / "meta").unlink()
    (folder / "test").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"missing: .*meta.*corrupt \(MD5\): .*test"):
        load_cifar("cifar100", root=tmp_path, download=False)


def test_the_unpickler_refuses_anything_but_plain_data(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (tmp_path / "evil").write_bytes(pickle.dumps({"data": Evil()}, protocol=2))
    with pytest.raises(DataError, match="refusing to unpickle .*print"):
        read_batch(tmp_path / "evil")


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="cifar10"):
        load_cifar("cifar7", download=False)


def tiny_cifar(classes: int, n: int = 400) -> CifarData:
    g = torch.Generator().manual_seed(0)
    x = torch.randint(0, 256, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    y = torch.arange(n) % classes
    return CifarData(x, y, x[: n // 2], y[: n // 2], f"cifar{classes}", Path("."))


def test_split_cifar_sequences():
    tasks = split_cifar10_100(tiny_cifar(10), tiny_cifar(100), num_tasks=3)
    assert [t.name for t in tasks] == ["cifar10", "cifar100 0-9", "cifar100 10-19"]
    assert tasks[0].y_train.unique().tolist() == list(range(10)) and tasks[2].y_test.max() == 9
    assert tasks[1].x_train[:2].shape == (2, 3, 32, 32) and tasks[1].x_train[:2].dtype == torch.float32
    a, b = split_cifar100(tiny_cifar(100), 20, seed=0), split_cifar100(tiny_cifar(100), 20, seed=1)
    assert len(a) == 20 and a[0].y_train.unique().tolist() == list(range(5))
    assert not torch.equal(a[0].x_train.base, b[0].x_train.base), "the seed fixes the class order"
    with pytest.raises(ValueError, match="divide 100"):
        split_cifar100(tiny_cifar(100), 7)


def tiny_mnist(name: str, n: int = 200) -> MnistData:
    x = (torch.arange(n * 784).reshape(n, 784) % 256).float() / 255
    return MnistData(x, torch.arange(n) % 10, x[:50], torch.arange(50) % 10, "full", Path("."), name)


def test_fashion_mnist32_stream():
    tasks = fashion_mnist32(tiny_mnist("fashion_mnist"), tiny_mnist("mnist"), num_tasks=3, max_train=30, max_test=8)
    assert [t.name for t in tasks] == ["fashion", "0/1", "2/3"]
    assert len(tasks[0].x_train) == 30 and len(tasks[1].x_test) == 8
    assert tasks[0].y_train.max() <= 9 and set(tasks[2].y_train.tolist()) == {0, 1}
    x = tasks[1].x_train[:3]
    assert x.shape == (3, 3, 32, 32) and torch.equal(x[:, 0], x[:, 2])
    assert x[:, :, :2].abs().sum() == 0 and x[:, :, :, 30:].abs().sum() == 0, "zero padding of 2 pixels"
    row = tasks[1].x_train.base[0, 0]
    assert torch.allclose(x[0, 0, 2:30, 2:30], row.float() / 255)


def test_byte_images_behave_like_a_tensor():
    images = ByteImages(torch.full((4, 1, 28, 28), 255, dtype=torch.uint8))
    assert images.shape == (4, 3, 32, 32) and len(images) == 4
    assert float(torch.sum(images)) == 4 * 3 * 28 * 28


def test_augment_crops_and_flips_the_whole_batch():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float).reshape(2, 1, 6, 6)
    assert torch.equal(augment(x, pad=0, flip=False), x)
    g = torch.Generator().manual_seed(3)
    out = augment(x, g, pad=2, flip=False)
    padded = torch.nn.functional.pad(x, (2, 2, 2, 2))
    for b in range(2):  # every output is some 6x6 window of its padded image
        windows = padded[b, 0].unfold(0, 6, 1).unfold(1, 6, 1).reshape(-1, 6, 6)
        assert any(torch.equal(out[b, 0], w) for w in windows)
    flipped = augment(x[:1].expand(64, 1, 6, 6), torch.Generator().manual_seed(0), pad=0, flip=True)
    is_flip = [torch.equal(f, x[0].flip(-1)) for f in flipped]
    assert all(torch.equal(f, x[0]) or m for f, m in zip(flipped, is_flip)) and 10 < sum(is_flip) < 54
