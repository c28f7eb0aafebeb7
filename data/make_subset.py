"""Build data/mnist_subset.npz: a small real MNIST subset shipped with hnlab.

The first 300 training and 100 test images of every digit, in file order, from the
official IDX files (read and MD5-checked by hnlab.data.mnist). Run from the project root:

    HNLAB_DATA=../shared/data .venv/bin/python data/make_subset.py

then paste the printed MD5 into hnlab/data/mnist.py (SUBSET_MD5).
"""
from pathlib import Path

import numpy as np

from hnlab.data.mnist import _read_full, data_root, md5sum

TRAIN_PER_CLASS, TEST_PER_CLASS = 300, 100


def first_per_class(y: np.ndarray, per_class: int) -> np.ndarray:
    idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(10)])
    return np.sort(idx)


def main() -> None:
    x_train, y_train, x_test, y_test = _read_full("mnist", str(data_root()))
    tr, te = first_per_class(y_train, TRAIN_PER_CLASS), first_per_class(y_test, TEST_PER_CLASS)
    out = Path(__file__).resolve().parent / "mnist_subset.npz"
    np.savez_compressed(out, x_train=x_train[tr], y_train=y_train[tr], x_test=x_test[te], y_test=y_test[te])
    print(out, out.stat().st_size, "bytes, md5", md5sum(out))


if __name__ == "__main__":
    main()
