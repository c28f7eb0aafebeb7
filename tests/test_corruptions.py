"""Each corruption of the noisy stream on a fixed image against its formula, and the streams on tiny data."""

import math
from pathlib import Path

import pytest
import torch

from hnlab.data.corruptions import CorruptedImages, autocontrast, corrupt, gaussian_blur, grayscale, solarize
from hnlab.data.images import ByteImages
from hnlab.data.mnist import MnistData
from hnlab.data.streams_partial import PartialStreamData, partial_stream

IMAGE = torch.arange(3 * 5 * 5, dtype=torch.float32).view(1, 3, 5, 5) / 80.0  # values 0 .. 0.925


def test_solarize_inverts_at_and_above_the_threshold():
    x = torch.tensor([0.0, 0.2, 0.49, 0.5, 0.8, 1.0])
    assert torch.allclose(solarize(x), torch.tensor([0.0, 0.2, 0.49, 0.5, 0.2, 0.0]))


def test_gaussian_blur_against_the_double_sum():
    sigma, r = 1.0, 2
    k = [math.exp(-(i**2) / (2 * sigma**2)) for i in range(-r, r + 1)]
    k = [v / sum(k) for v in k]
    out = gaussian_blur(IMAGE, sigma, r)

    def reflect(i):  # index of the reflected border (no edge repeat) in a row of 5
        return -i if i < 0 else (8 - i if i > 4 else i)

    for c, y, x in ((0, 2, 2), (1, 0, 0), (2, 4, 1)):
        want = sum(
            k[i + r] * k[j + r] * float(IMAGE[0, c, reflect(y + i), reflect(x + j)])
            for i in range(-r, r + 1)
            for j in range(-r, r + 1)
        )
        assert float(out[0, c, y, x]) == pytest.approx(want, abs=1e-6)
    flat = torch.full((2, 3, 6, 6), 0.3)
    assert torch.allclose(gaussian_blur(flat), flat), "a flat image stays flat"


def test_autocontrast_stretches_each_channel_and_leaves_flat_ones():
    out = autocontrast(IMAGE)
    for c in range(3):
        ch = IMAGE[0, c]
        assert torch.allclose(out[0, c], (ch - ch.min()) / (ch.max() - ch.min()))
    flat = torch.full((1, 3, 4, 4), 0.4)
    assert torch.equal(autocontrast(flat), flat)


def test_grayscale_formula_and_no_op_on_grey_images():
    out = grayscale(IMAGE)
    want = 0.299 * IMAGE[:, 0] + 0.587 * IMAGE[:, 1] + 0.114 * IMAGE[:, 2]
    assert all(torch.allclose(out[:, c], want) for c in range(3))
    grey = IMAGE[:, :1].expand(1, 3, 5, 5)
    assert torch.allclose(grayscale(grey), grey, atol=1e-6)
    with pytest.raises(ValueError, match="unknown corruption 'snow'"):
        corrupt(IMAGE, "snow")


def test_corrupted_images_corrupt_only_the_batch():
    base = (torch.arange(2 * 28 * 28) % 256).to(torch.uint8).view(2, 1, 28, 28)
    images = CorruptedImages(ByteImages(base), "solarize")
    plain = ByteImages(base)
    assert torch.equal(images[[1]], solarize(plain[[1]])) and images.shape == plain.shape
    assert torch.equal(images.to("cpu")[0], solarize(plain[0:1])[0])


def tiny(name, shift, n=60):
    g = torch.Generator().manual_seed(shift)
    y = torch.arange(n) % 10
    x = torch.rand(n, 784, generator=g) * 0.3
    x[torch.arange(n), y * 70 + shift] = 1.0
    return MnistData(x, y, x[:20], y[:20], "full", Path("."), name)


def tiny_partial_stream(benchmark, max_train=None):
    return PartialStreamData(benchmark, (tiny("fashion_mnist", 3), tiny("mnist", 40)), max_train=max_train)


def test_streams_have_the_papers_shape_on_tiny_data():
    split = tiny_partial_stream("split_fashion32").tasks(5)
    assert [t.name for t in split] == ["fashion 0/1", "fashion 2/3", "fashion 4/5", "fashion 6/7", "fashion 8/9"]
    assert all(set(t.y_train.tolist()) == {0, 1} for t in split)
    noisy = tiny_partial_stream("noisy_fashion32").tasks(4)
    clean = tiny_partial_stream("clean_fashion32").tasks(4)
    kinds = [getattr(t.x_train, "corruption", "clean") for t in noisy]
    assert kinds == ["clean", "solarize", "blur", "contrast_grey_blur"]
    assert torch.equal(noisy[1].x_test[:], solarize(clean[1].x_test[:]))
    first = tiny_partial_stream("mnist_first32").tasks(2)
    assert [t.name for t in first] == ["mnist 0-4", "fashion 5-9"] and len(first[1].x_train) == 30
    assert "noisy fashion-mnist-32" in tiny_partial_stream("noisy_fashion32", 10).source
    with pytest.raises(ValueError, match="unknown stream"):
        partial_stream("split_cifar", tiny("fashion_mnist", 3))


def test_the_papers_cifar_streams_on_generated_files(tmp_path, monkeypatch):
    from test_cifar_data import fake_cifar

    from hnlab.data.streams_partial import load_partial_stream

    for name in ("cifar10", "cifar100"):
        fake_cifar(tmp_path, name, monkeypatch, n=400)
    split = load_partial_stream("split_cifar100_20", root=tmp_path, download=False).tasks(20, seed=1)
    classes = [int(c) for t in split for c in t.name[len("cifar100 [") : -1].split(", ")]
    assert sorted(classes) == list(range(100)) and all(set(t.y_train.tolist()) == set(range(5)) for t in split)
    noisy = load_partial_stream("noisy_cifar100", root=tmp_path, download=False).tasks(4, seed=1)
    assert [t.name for t in noisy] == [t.name for t in split[:4]]
    grey = noisy[3].x_test[:2]
    assert torch.allclose(grey[:, 0], grey[:, 2]), "experience 4 is greyed"
    first = load_partial_stream("cifar10_first", root=tmp_path, download=False).tasks(2, seed=1)
    assert first[0].name.startswith("cifar10 [") and len(first[0].x_train) == 1000  # 5 of 10 classes of 2,000
