"""CIFAR-10 and CIFAR-100 from the official "python version" files, read safely.

``load_cifar("cifar10")`` looks for ``cifar-10-batches-py/`` (``"cifar100"``: ``cifar-100-python/``)
under the data root (the ``root`` argument, then ``$HNLAB_DATA``, then the project's ``data/``, as
for MNIST), checks every file's MD5, downloads and unpacks the official archive when files are
missing and ``download`` is on, and raises one ``DataError`` naming every missing or corrupt file
otherwise. Images stay ``uint8 [N, 3, 32, 32]`` (``ByteImages`` turns batches into floats).

The files are pickles. ``pickle.load`` would run whatever a file names, so ``read_batch`` uses an
unpickler that knows only what those files hold: dicts, lists, bytes and numpy arrays. Introduced
in notebooks/08_conv_targets.ipynb.
"""

from __future__ import annotations

import io
import pickle
import tarfile
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from .mnist import DataError, data_root, md5sum

#: name -> (folder, archive url, archive md5, {file: md5}, label key). MD5s: ../shared/data/README.md.
CIFAR = {
    "cifar10": (
        "cifar-10-batches-py",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "c58f30108f718f92721af3b95e74349a",
        {
            "data_batch_1": "c99cafc152244af753f735de768cd75f",
            "data_batch_2": "d4bba439e000b95fd0a9bffe97cbabec",
            "data_batch_3": "54ebc095f3ab1f0389bbae665268c751",
            "data_batch_4": "634d18415352ddfa80567beed471001a",
            "data_batch_5": "482c414d41f54cd18b22e5b47cb7c3cb",
            "test_batch": "40351d587109b95175f43aff81a1287e",
            "batches.meta": "5ff9c542aee3614f3951f8cda6e48888",
        },
        "labels",
    ),
    "cifar100": (
        "cifar-100-python",
        "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        "eb9058c3a382ffc7106e4002c42a8d85",
        {
            "train": "16019d7e3df5f24257cddd939b257f8d",
            "test": "f0ef6b0ae62326f3e7ffdfab6717acfc",
            "meta": "7973b15100ade9c7d40fb424638fde48",
        },
        "fine_labels",
    ),
}

#: The only globals a CIFAR pickle may name: numpy's array reconstruction (numpy 1 and 2 paths)
#: and the codec Python 3 uses for bytes in protocol-2 pickles.
SAFE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in SAFE_GLOBALS:
            raise DataError(f"refusing to unpickle {module}.{name}: a CIFAR file holds only dicts, lists and arrays")
        return super().find_class(module, name)


def read_batch(path) -> dict:
    """One CIFAR pickle as a dict with ``str`` keys, through the restricted unpickler."""
    with open(path, "rb") as f:
        raw = _SafeUnpickler(io.BytesIO(f.read()), encoding="latin1").load()
    if not isinstance(raw, dict):
        raise DataError(f"{path} is not a CIFAR batch (a dict), got {type(raw).__name__}")
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in raw.items()}


@dataclass
class CifarData:
    """A CIFAR set: ``x_*`` ``uint8 [N, 3, 32, 32]``, ``y_*`` int64 (fine labels for CIFAR-100)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    name: str
    root: Path
    source: str = "full"


def _check_name(name: str) -> None:
    if name not in CIFAR:
        raise ValueError(f"unknown CIFAR set {name!r}; choose one of {sorted(CIFAR)}")


def cifar_files(name: str, root=None) -> dict[str, Path]:
    """The expected file paths of ``name`` under the data root."""
    _check_name(name)
    folder = data_root(root) / CIFAR[name][0]
    return {f: folder / f for f in CIFAR[name][3]}


def download_cifar(name: str, root=None, timeout: float = 60.0) -> None:
    """Fetch the official archive, check its MD5 and unpack only the expected files."""
    folder, url, archive_md5, md5s, _ = CIFAR[name]
    root = data_root(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / (Path(url).name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r, open(tmp, "wb") as f:
            while block := r.read(1 << 20):
                f.write(block)
        if md5sum(tmp) != archive_md5:
            raise DataError(f"checksum mismatch for {url}")
        with tarfile.open(tmp, "r:gz") as tar:
            for file in md5s:
                member = tar.getmember(f"{folder}/{file}")
                (root / folder).mkdir(exist_ok=True)
                (root / folder / file).write_bytes(tar.extractfile(member).read())
    except DataError:
        raise
    except Exception as err:  # network and archive errors vary by platform
        raise DataError(f"could not download {url}: {err}") from err
    finally:
        tmp.unlink(missing_ok=True)


def check_cifar_files(name: str, root=None) -> None:
    """One ``DataError`` naming every missing or corrupt file of ``name`` (nothing when all is well)."""
    files, md5s = cifar_files(name, root), CIFAR[name][3]
    missing = [str(p) for p in files.values() if not p.exists()]
    corrupt = [str(p) for f, p in files.items() if p.exists() and md5sum(p) != md5s[f]]
    if missing or corrupt:
        parts = [f"missing: {', '.join(missing)}"] * bool(missing) + [f"corrupt (MD5): {', '.join(corrupt)}"] * bool(
            corrupt
        )
        raise DataError(
            f"{name} files {'; '.join(parts)}. Put the official 'python version' files there (unpack "
            f"{Path(CIFAR[name][1]).name}), or set HNLAB_DATA to the folder that holds {CIFAR[name][0]}/."
        )


def _images(batch: dict, path) -> np.ndarray:
    data = np.asarray(batch.get("data"))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise DataError(f"{path}: 'data' must be uint8 [N, 3072], got {data.dtype} {data.shape}")
    return data.reshape(-1, 3, 32, 32)


@lru_cache(maxsize=2)
def _read(name: str, root: str) -> tuple[np.ndarray, ...]:
    check_cifar_files(name, root)
    files, key = cifar_files(name, root), CIFAR[name][4]
    splits = {"train": [f for f in files if f.startswith(("data_batch", "train"))], "test": ["test_batch", "test"]}
    out = []
    for split in ("train", "test"):
        batches = [(files[f], read_batch(files[f])) for f in splits[split] if f in files]
        out.append(np.concatenate([_images(b, p) for p, b in batches]))
        out.append(np.concatenate([np.asarray(b[key], dtype=np.int64) for _, b in batches]))
    return tuple(out)


def load_cifar(name: str = "cifar10", root=None, device="cpu", download: bool = True) -> CifarData:
    """Load ``"cifar10"`` or ``"cifar100"`` as uint8 tensors on ``device`` (see the module docstring)."""
    _check_name(name)
    root = data_root(root)
    if download and any(not p.exists() for p in cifar_files(name, root).values()):
        try:
            download_cifar(name, root)
        except DataError as err:
            print(f"hnlab: {str(err)[:300]}")
    x_tr, y_tr, x_te, y_te = (torch.from_numpy(a).to(device) for a in _read(name, str(root)))
    return CifarData(x_tr, y_tr, x_te, y_te, name, root)


def cifar_root_has(name: str, root=None) -> bool:
    """Whether every file of ``name`` is present (no MD5 check): lessons pick a benchmark with it."""
    return all(p.exists() for p in cifar_files(name, root).values())
