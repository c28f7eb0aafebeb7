import math

import pytest
import torch

from hnlab.hnets import HMLP, ChunkedHMLP, DirectWeights
from hnlab.targets import MLP

TNET = MLP(4, (8, 8), 3, "relu")


def make(kind):
    if kind == "full":
        return HMLP(TNET.param_shapes, num_tasks=4, emb_dim=3, hidden=(6, 5), activation="elu")
    if kind == "chunked":
        return ChunkedHMLP(TNET.param_shapes, num_tasks=4, chunk_size=17, emb_dim=3, chunk_emb_dim=2, hidden=(6,))
    return DirectWeights(TNET.param_shapes, num_tasks=4)


@pytest.mark.parametrize("kind", ["full", "chunked", "direct"])
def test_batched_generation_equals_per_task_calls(kind):
    hnet = make(kind)
    W = hnet([0, 1, 2, 3])
    assert W.shape == (4, TNET.num_params)
    for t in range(4):
        torch.testing.assert_close(W[t], hnet(t)[0])
        torch.testing.assert_close(hnet(task_emb=hnet.task_embeddings([t]))[0], W[t])
    x = torch.randn(10, 4)
    assert TNET(x, W).shape == (4, 10, 3)


def test_chunked_reuses_one_head_over_chunk_embeddings():
    hnet = make("chunked")
    assert hnet.num_chunks == math.ceil(TNET.num_params / 17)
    z = hnet.trunk(hnet.task_embeddings([1]))
    weight, bias = hnet.head_params()
    manual = torch.cat([weight @ z[0, i] + bias for i in range(hnet.num_chunks)])[: TNET.num_params]
    torch.testing.assert_close(hnet(1)[0], manual)


def test_compression_ratio_counts_theta_and_embeddings():
    hnet = make("chunked")
    expected = (sum(p.numel() for p in hnet.theta) + 4 * 3) / TNET.num_params
    assert hnet.compression_ratio() == pytest.approx(expected)
    # chunk embeddings [N, 2] + layer (5 -> 6) + head (6 -> 17)
    assert hnet.num_theta() == hnet.num_chunks * 2 + 5 * 6 + 6 + 6 * 17 + 17


def test_only_the_current_task_embedding_trains():
    hnet = make("full")
    params = hnet.trainable_parameters(2)
    assert any(p is hnet.task_emb[2] for p in params)
    assert not any(p is hnet.task_emb[0] or p is hnet.task_emb[1] for p in params)


def test_theta_override_evaluates_elsewhere_without_changing_the_module():
    hnet = make("full")
    before = hnet([0]).detach()
    shifted = [p + 0.1 for p in hnet.theta]
    assert not torch.allclose(hnet([0], theta=shifted), before)
    torch.testing.assert_close(hnet([0]), before)


def test_bad_task_ids_and_embeddings_raise():
    hnet = make("full")
    with pytest.raises(ValueError, match="out of range"):
        hnet([0, 4])
    with pytest.raises(ValueError, match="shape"):
        hnet(task_emb=torch.randn(2, 5))
    with pytest.raises(TypeError):
        hnet(True)
    with pytest.raises(ValueError, match="chunk_size"):
        ChunkedHMLP(TNET.param_shapes, 2, chunk_size=0)
