import pytest
import torch

from hnlab.checkpoint import CheckpointMismatch, load_checkpoint, save_checkpoint
from hnlab.experiments.toy import ToyConfig, build_toy_models


def config_of(hnet, tnet, **extra):
    return {"hnet": hnet.config(), "tnet": tnet.config(), **extra}


def test_round_trip_restores_the_generated_weights(tmp_path):
    hnet, tnet = build_toy_models(ToyConfig())
    path = save_checkpoint(tmp_path / "toy.pt", hnet, config_of(hnet, tnet, beta=0.005), extra={"step": 3})
    torch.manual_seed(123)
    fresh, _ = build_toy_models(ToyConfig())
    assert not torch.allclose(fresh([0, 1, 2]), hnet([0, 1, 2]))
    extra = load_checkpoint(path, fresh, config_of(fresh, tnet, beta=0.005))
    assert extra == {"step": 3}
    torch.testing.assert_close(fresh([0, 1, 2]), hnet([0, 1, 2]))
    assert not list(tmp_path.glob("*.tmp")), "no temporary files left behind"


def test_refuses_a_checkpoint_from_another_config(tmp_path):
    hnet, tnet = build_toy_models(ToyConfig())
    path = save_checkpoint(tmp_path / "toy.pt", hnet, config_of(hnet, tnet, beta=0.005))
    with pytest.raises(CheckpointMismatch, match="beta: saved 0.005 vs now 0.1"):
        load_checkpoint(path, hnet, config_of(hnet, tnet, beta=0.1))
    wider, tnet2 = build_toy_models(ToyConfig(emb_dim=3))
    with pytest.raises(CheckpointMismatch, match="hnet"):
        load_checkpoint(path, wider, config_of(wider, tnet2, beta=0.005))


def test_missing_and_corrupt_files_give_clear_errors(tmp_path):
    hnet, tnet = build_toy_models(ToyConfig())
    with pytest.raises(FileNotFoundError, match="train first"):
        load_checkpoint(tmp_path / "none.pt", hnet, {})
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointMismatch, match="not a readable"):
        load_checkpoint(bad, hnet, {})
