"""Seeds as a batch axis (hnlab.experiments.toy_seeds) against the one-seed loop, seed by seed."""

import pytest
import torch

from hnlab.experiments.toy import ToyConfig, toy_models, toy_tasks
from hnlab.experiments.toy_seeds import run_toy_seeds, seed_predictions
from hnlab.train import train_continual

SEEDS = [0, 1, 2]


@pytest.mark.parametrize("lookahead", [True, False])
def test_batched_seeds_equal_separate_runs(lookahead):
    cfg = ToyConfig(iters=30, beta=0.05, lookahead=lookahead)
    batched = run_toy_seeds(cfg, SEEDS)
    tasks = toy_tasks(cfg)
    for i, seed in enumerate(SEEDS):
        hnet, tnet = toy_models(cfg, seed)
        run = train_continual(hnet, tnet, tasks, cfg.train_config(), seed=seed, progress=False)
        torch.testing.assert_close(torch.tensor(batched["matrix"][i]), torch.tensor(run.matrix), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(torch.tensor(batched["losses"][i]), torch.tensor(run.losses), rtol=1e-4, atol=1e-6)
        stacked = batched["stack"]
        for p, q in zip(hnet.theta, stacked.pieces()):
            torch.testing.assert_close(q[i], p.detach(), rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(stacked.emb[i], torch.stack(list(hnet.task_emb)).detach(), rtol=1e-4, atol=1e-6)


def test_fine_tuning_and_predictions():
    cfg = ToyConfig(iters=20)
    res = run_toy_seeds(cfg, [3, 4], beta=0.0)
    assert len(res["final"]) == 2 and len(res["final"][0]) == 3 and res["beta"] == 0.0
    preds = seed_predictions(res["stack"], res["tnet"], num=7)
    assert len(preds) == 2 and len(preds[0]) == 3 and len(preds[1][2]["y"]) == 7


def test_rejects_no_seeds():
    with pytest.raises(ValueError, match="seed"):
        run_toy_seeds(ToyConfig(iters=2), [])
