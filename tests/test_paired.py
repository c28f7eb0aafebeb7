"""hnlab.paired: per-seed scores from results files and claims as paired differences."""

import math

import pytest

from hnlab.paired import paired_difference, paired_section, seed_scores


def multi_head(method, seeds, cl1, cl2, cl3):
    """A scenario-1 results record whose runs hold per-task scores (two tasks each)."""
    runs = [
        {"seed": s, "cl1": [a, a], "cl2": [b, b], "cl3": [c - 1, c + 1]} for s, a, b, c in zip(seeds, cl1, cl2, cl3)
    ]
    return {"method": method, "benchmark": "splitmnist", "scenario": 1, "seeds": seeds, "runs": runs}


def shared_head(method, seeds, final):
    return {
        "method": method, "benchmark": "splitmnist", "scenario": 2, "seeds": seeds, "final_acc_per_seed": final,
        "runs": [{"seed": s, "matrix": [[0.0]]} for s in seeds],
    }  # fmt: skip


def test_seed_scores_read_each_score_from_its_runs_and_average_a_repeated_seed():
    results = [
        multi_head("a", [0, 1], [99, 98], [80, 70], [60, 50]),
        multi_head("a", [1], [96], [72], [54]),  # seed 1 again: averaged
        shared_head("a", [0, 2], [85.0, 86.0]),
        multi_head("b", [0], [1, 1], [1, 1], [1, 1]),  # another method: ignored
    ]
    s = seed_scores(results, "a")
    assert s["cl1"] == {0: 99.0, 1: 97.0}
    assert s["cl2 (entropy)"] == {0: 80.0, 1: 71.0}
    assert s["cl3"] == {0: 60.0, 1: 52.0}
    assert s["cl2 (shared head)"] == {0: 85.0, 2: 86.0}  # the file's final accuracy, not its matrix


def test_a_run_trained_beside_another_method_is_preferred_for_its_seed():
    """HNET trained as lstm_hnet's --compare baseline (same code, same process) replaces the HNET files'
    number for that seed; the files still give the seeds without such a run."""
    paired = multi_head("lstm_hnet", [0], [99.0], [90.0], [72.0])
    paired["runs"][0]["baselines"] = {"hnet": {"cl1": [98.0], "cl2": [80.0], "cl3": [55.0]}}
    results = [paired, multi_head("hnet", [0, 1], [97, 96], [70, 71], [60, 61])]
    s = seed_scores(results, "hnet")
    assert s["cl3"] == {0: 55.0, 1: 61.0}
    assert s["cl1"] == {0: 98.0, 1: 96.0}
    assert seed_scores(results, "lstm_hnet")["cl3"] == {0: 72.0}


def test_paired_difference_uses_only_the_common_seeds():
    d = paired_difference({0: 3.0, 1: 5.0, 2: 4.0, 7: 100.0}, {0: 1.0, 1: 2.0, 2: 5.0})
    assert d["seeds"] == [0, 1, 2]
    assert d["mean"] == pytest.approx(4 / 3)  # differences 2, 3, -1
    assert d["sem"] == pytest.approx(math.sqrt(((2 - 4 / 3) ** 2 + (3 - 4 / 3) ** 2 + (-1 - 4 / 3) ** 2) / 2 / 3))
    assert d["wins"] == 2


def test_the_section_says_confirmed_only_when_every_seed_agrees():
    results = [
        multi_head("lstm_hnet", [0, 1, 2], [99.8] * 3, [90, 91, 89], [72, 73, 71]),
        multi_head("hnet", [0, 1, 2], [99.9] * 3, [85, 86, 90], [60, 61, 62]),
    ]
    text = paired_section(results, claims=(("lstm_hnet", "hnet"),))
    row = next(line for line in text.splitlines() if line.startswith("| lstm_hnet > hnet"))
    cl1, cl2, shared, cl3 = row.split("|")[2:6]
    assert "0/3, reversed" in cl1
    assert "2/3, not shown" in cl2  # seed 2: HNET higher
    assert shared.strip() == "-"
    assert "+11.00 +- 1.00, 3/3, confirmed" in cl3  # differences 12, 12, 9
    results[0]["runs"][2]["cl3"] = [60.0, 62.0]  # seed 2: differences 12, 12, -1
    row = next(line for line in paired_section(results).splitlines() if line.startswith("| lstm_hnet > hnet"))
    assert "+7.67 +- 4.33, 2/3, not shown" in row  # within two standard errors


@pytest.mark.parametrize(
    "diffs, verdict",
    [
        ([3, 4, 5, 4, 3], "confirmed"),
        ([3, 4, 5, 4, -0.5], "ahead, not on every seed"),  # mean 3.1, standard error 0.93
        ([3, -4, 5, -4, 3], "not shown"),
        ([-3, -4, -5, -4, 0.5], "behind, not on every seed"),
        ([-3, -4, -5, -4, -3], "reversed"),
        ([3], "too few seeds"),
    ],
)
def test_the_verdict_asks_for_two_standard_errors_and_every_seed(diffs, verdict):
    from hnlab.paired import _verdict

    a = {seed: 50.0 + d for seed, d in enumerate(diffs)}
    assert _verdict(paired_difference(a, dict.fromkeys(a, 50.0))) == verdict


def test_a_file_from_before_a_method_gained_a_setting_still_counts_as_the_papers_settings():
    from hnlab.methods import paper_settings
    from hnlab.results_table import is_paper_setting

    s = paper_settings("splitmnist", 1, "hypermask")
    config = {**s.__dict__, "hparams": dict(s.hparams)}
    record = {"method": "hypermask", "benchmark": "splitmnist", "scenario": 1, "config": config}
    assert is_paper_setting(record)
    del config["hparams"]["chunk"]  # written before the chunk option existed: its default ran
    assert is_paper_setting(record)
    config["hparams"]["chunk"] = 78000.0  # another setting
    assert not is_paper_setting(record)
