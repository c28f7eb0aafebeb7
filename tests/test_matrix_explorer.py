"""The score-matrix explorer of lesson 03 keeps answering after the lesson's last cell has
popped the per-seed runs from the results it writes (what a student's Run All does)."""

import numpy as np

from hnlab.widgets.benchmarks import matrix_explorer


def results(scenario: int) -> dict:
    mine = [[[90.0, 10.0], [80.0, 95.0]]]
    theirs = [[50.0, 0.0], [20.0, 60.0]]
    return {
        "method": "hnet",
        "scenario": scenario,
        "acc_matrix": mine,
        "baselines": {"si": 40.0},
        "runs": [{"baselines": {"si": {"matrix": theirs}}}],
    }


def test_the_explorer_still_follows_its_dropdowns_once_the_runs_are_popped():
    by = {1: results(1), 3: results(3)}
    box = matrix_explorer(by)
    for r in by.values():
        r.pop("runs")  # notebooks/03_benchmarks.ipynb's last cell
    method = box.children[0].children[1]
    method.value = "si"
    np.testing.assert_allclose(np.asarray(box.children[1].data[0].z), [[50.0, 0.0], [20.0, 60.0]])
