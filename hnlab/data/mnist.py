"""MNIST and Fashion-MNIST from the original IDX ``.gz`` files, with hnlab's own reader.

``load_mnist("mnist")`` finds the four files under the data root (the ``root`` argument,
then ``$HNLAB_DATA``, then the project's ``data/``), checks their MD5s, downloads them
(official source, then a mirror) when missing and online, and keeps the whole set as
float tensors on the device. When the full MNIST set is neither present nor
downloadable, it falls back to the small real subset shipped in ``data/`` and says so
(``MnistData.source == "subset"``). Introduced in notebooks/03_benchmarks.ipynb.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

PROJECT_DATA = Path(__file__).resolve().parents[2] / "data"
SUBSET_FILE = "mnist_subset.npz"
SUBSET_MD5 = "b03a2e0c905c15c22b5c14f722d67901"

#: name -> (folder under the root, download urls tried in order, {file: md5}).
DATASETS = {
    "mnist": (
        "MNIST",
        (
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        {
            "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
        },
    ),
    "fashion_mnist": (
        "FashionMNIST",
        (
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
        {
            "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
        },
    ),
}


class DataError(RuntimeError):
    """Missing or corrupt data files; the message says which files, where, and what to do."""


@dataclass
class MnistData:
    """A whole image set on one device: ``x_*`` float32 ``[N, 784]`` in [0, 1], ``y_*`` int64.

    ``source`` is ``"full"`` (the official files) or ``"subset"`` (the shipped subset).
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    source: str
    root: Path
    name: str = "mnist"


def data_root(root=None) -> Path:
    """The data root: ``root``, else ``$HNLAB_DATA``, else the project's ``data/`` folder."""
    if root is not None:
        return Path(root)
    return Path(os.environ["HNLAB_DATA"]) if os.environ.get("HNLAB_DATA") else PROJECT_DATA


def md5sum(path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_idx(path) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) of unsigned bytes into a numpy array."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{path}: header says {dims}, found {data.size} values (truncated file?)")
    return data.reshape(dims)


def _check_name(name: str) -> None:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")


def dataset_files(name: str, root=None) -> dict[str, Path]:
    """The four expected file paths of ``name`` under the data root."""
    _check_name(name)
    folder, _, md5s = DATASETS[name]
    raw = data_root(root) / folder / "raw"
    return {f: raw / f for f in md5s}


def download_files(name: str, root=None, timeout: float = 20.0) -> None:
    """Fetch the missing files of ``name`` (official source, then the mirror)."""
    folder, urls, md5s = DATASETS[name]
    for file, path in dataset_files(name, root).items():
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        errors = []
        for url in urls:
            tmp = path.with_suffix(".part")
            try:
                with urllib.request.urlopen(url + file, timeout=timeout) as r, open(tmp, "wb") as f:
                    f.write(r.read())
                if md5sum(tmp) != md5s[file]:
                    raise DataError(f"checksum mismatch for {url + file}")
                os.replace(tmp, path)
                break
            except Exception as err:  # network errors vary by platform
                tmp.unlink(missing_ok=True)
                errors.append(f"{url + file}: {err}")
        else:
            raise DataError("could not download " + "; ".join(errors))


def _verify(name: str, files: dict[str, Path]) -> None:
    md5s = DATASETS[name][2]
    bad = [str(p) for f, p in files.items() if md5sum(p) != md5s[f]]
    if bad:
        raise DataError(
            f"corrupt {name} files (MD5 mismatch): {', '.join(bad)}. "
            "Delete them and run again to re-download, or copy the official files there."
        )


@lru_cache(maxsize=4)
def _read_full(name: str, root: str) -> tuple[np.ndarray, ...]:
    files = dataset_files(name, root)
    _verify(name, files)
    return tuple(read_idx(files[f]) for f in DATASETS[name][2])


@lru_cache(maxsize=1)
def _read_subset(path: str) -> tuple[np.ndarray, ...]:
    if not Path(path).exists() or md5sum(path) != SUBSET_MD5:
        raise DataError(
            f"the shipped MNIST subset {path} is missing or corrupt; "
            "restore it with `git checkout data/` or rebuild it with data/make_subset.py"
        )
    with np.load(path) as z:
        return tuple(z[k] for k in ("x_train", "y_train", "x_test", "y_test"))


def _to_data(arrays, source: str, root: Path, name: str, device) -> MnistData:
    x_train, y_train, x_test, y_test = arrays
    as_x = lambda a: torch.tensor(a.reshape(len(a), -1), device=device).float().div_(255.0)
    as_y = lambda a: torch.tensor(a.astype(np.int64), device=device)
    return MnistData(as_x(x_train), as_y(y_train), as_x(x_test), as_y(y_test), source, root, name)


def load_mnist(
    name: str = "mnist", root=None, device="cpu", download: bool = True, allow_subset: bool = True, verbose: bool = True
) -> MnistData:
    """Load ``"mnist"`` or ``"fashion_mnist"`` as tensors on ``device`` (see module docstring).

    Missing files are downloaded when ``download``; if that fails (offline) MNIST falls
    back to the shipped subset when ``allow_subset``. Corrupt files always raise.
    """
    _check_name(name)
    root = data_root(root)
    files = dataset_files(name, root)
    missing = [str(p) for p in files.values() if not p.exists()]
    reason = "downloads are switched off"
    if missing and download:
        try:
            download_files(name, root)
            missing = []
        except DataError as err:
            reason = f"could not download them: {str(err)[:300]}"
    if not missing:
        return _to_data(_read_full(name, str(root)), "full", root, name, device)
    if allow_subset and name == "mnist":
        arrays = _read_subset(str(PROJECT_DATA / SUBSET_FILE))
        if verbose:  # one short line, the same in every lesson; the network errors stay out of it
            print(
                f"hnlab: using the shipped subset of MNIST in {PROJECT_DATA} ({len(arrays[0]):,} training and "
                f"{len(arrays[2]):,} test images): full MNIST is not in {files[next(iter(files))].parent}"
                f"{' and could not be downloaded' if download else ''}. For the full set, put the four official "
                "MNIST .gz files there or set HNLAB_DATA to a folder that holds MNIST/raw/."
            )
        return _to_data(arrays, "subset", PROJECT_DATA, name, device)
    raise DataError(
        f"{name} files missing under {root}: {', '.join(missing)} ({reason}). "
        f"Put the official IDX .gz files there, or set HNLAB_DATA to the folder that holds "
        f"{DATASETS[name][0]}/raw/."
    )
