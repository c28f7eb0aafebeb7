"""hnlab.data.mnist: IDX reader, checksums, root resolution, subset fallback (no network)."""

import gzip

import numpy as np
import pytest
import torch

from hnlab.data import mnist
from hnlab.data.mnist import DataError, data_root, load_mnist, read_idx


def write_idx(path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_mnist(root, n=6):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.arange(n * 784).reshape(n, 28, 28) % 256
    write_idx(raw / "train-images-idx3-ubyte.gz", images)
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.arange(n) % 10)
    write_idx(raw / "t10k-images-idx3-ubyte.gz", images[:2])
    write_idx(raw / "t10k-labels-idx1-ubyte.gz", np.arange(2))
    return raw, images


def test_read_idx_roundtrip_and_truncation(tmp_path):
    raw, images = fake_mnist(tmp_path)
    np.testing.assert_array_equal(read_idx(raw / "train-images-idx3-ubyte.gz"), images)
    with gzip.open(tmp_path / "bad.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 1, 0, 0, 0, 9, 1, 2]))
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "bad.gz")


def test_corrupt_files_raise_one_clear_error(tmp_path):
    fake_mnist(tmp_path)  # valid IDX, but not the official bytes: the MD5 check must fail
    with pytest.raises(DataError, match="corrupt mnist files.*train-images"):
        load_mnist(root=tmp_path, download=False)


def test_missing_files_fall_back_to_the_shipped_subset(tmp_path, capsys):
    data = load_mnist(root=tmp_path, download=False)
    assert data.source == "subset" and "shipped subset" in capsys.readouterr().out
    assert data.x_train.shape == (3000, 784) and data.x_train.dtype == torch.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert torch.bincount(data.y_test).tolist() == [100] * 10


def test_missing_without_subset_names_files_and_root(tmp_path):
    with pytest.raises(DataError, match=f"missing under {tmp_path}.*train-images"):
        load_mnist(root=tmp_path, download=False, allow_subset=False)
    with pytest.raises(DataError, match="fashion_mnist files missing"):
        load_mnist("fashion_mnist", root=tmp_path, download=False)


def test_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="fashion_mnist"):
        load_mnist("cifar")


def test_root_resolution_order(tmp_path, monkeypatch):
    monkeypatch.setenv("HNLAB_DATA", str(tmp_path))
    assert data_root() == tmp_path and data_root("x") == mnist.Path("x")
    monkeypatch.delenv("HNLAB_DATA")
    assert data_root() == mnist.PROJECT_DATA
