import json
import math
import os

import pytest
import torch

from hnlab import pick_device, seed_everything
from hnlab.cli import (
    absolute_data_root,
    device_choice,
    failure_reason,
    headline,
    parse_param,
    print_table,
    whole_number,
    whole_numbers,
)
from hnlab.results import check_lesson, check_params, smoke_default, write_results


def test_parse_param_reads_literals():
    assert parse_param("iters=10") == ("iters", 10)
    assert parse_param("beta=0.5") == ("beta", 0.5)
    assert parse_param("benchmark=splitmnist") == ("benchmark", "splitmnist")
    with pytest.raises(Exception, match="name=value"):
        parse_param("iters")


def test_script_argument_types_turn_bad_values_into_one_usage_line():
    """The bench/ scripts' counts and devices: a bad value stops argparse, not a run minutes later."""
    import argparse

    assert whole_number(1)("3") == 3 and whole_number(0)("0") == 0 and whole_numbers(0)("0,1,100") == [0, 1, 100]
    for parse, text, message in [
        (whole_number(1), "0", "at least 1"),
        (whole_number(0), "-2", "at least 0"),
        (whole_number(1), "2.5", "whole number"),
        (whole_numbers(0), "1,x", "whole number"),
        (device_choice, "tpu", "unknown device"),
    ]:
        with pytest.raises(argparse.ArgumentTypeError, match=message):
            parse(text)
    assert device_choice("cpu") == torch.device("cpu")
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=whole_number(1))
    with pytest.raises(SystemExit):
        parser.parse_args(["--steps", "0"])


def test_a_failed_lesson_reports_the_notebooks_own_error():
    from papermill.exceptions import PapermillExecutionError

    err = PapermillExecutionError(
        cell_index=4,
        exec_count=3,
        source="run_benchmark(...)",
        ename="ValueError",
        evalue="seeds must be a positive int, got 0",
        traceback=["..."],
    )
    assert failure_reason(err) == "ValueError: seeds must be a positive int, got 0 (cell 4)"
    assert failure_reason(RuntimeError("\n\nkernel died\nmore")) == "RuntimeError: kernel died"


def test_headline_shows_short_numbers_only():
    text = headline({"mse_hnet": [0.001, 0.002], "final_acc": 99.71, "config": {"a": 1}, "acc_matrix": [[1]]})
    assert "mse_hnet=[0.001, 0.002]" in text and "final_acc=99.71" in text
    assert "config" not in text and "acc_matrix" not in text


def test_results_table_prints_every_row(capsys, tmp_path):
    """`make run`'s closing table: a device given as a name or as ``machine_info``'s dict, and a failed lesson."""
    rows = [
        {"notebook": "01", "status": "ok", "wall_seconds": 3.0, "results": {"device": "cpu", "final_acc": 99.1}},
        {
            "notebook": "02",
            "status": "ok",
            "wall_seconds": 4.0,
            "results": {"device": {"device": "cuda:0", "threads": 2}},
        },
        {"notebook": "03", "status": "FAILED: KeyError", "wall_seconds": 1.0, "results": None},
    ]
    print_table(rows, tmp_path)
    lines = capsys.readouterr().out.splitlines()
    assert "cpu" in lines[3] and "final_acc=99.1" in lines[3]
    assert "cuda:0" in lines[4] and "{" not in lines[4]
    assert lines[5].split()[:2] == ["03", "FAILED"] and "KeyError" in lines[6]


def test_write_results_is_json_safe(tmp_path):
    path = write_results(
        tmp_path / "a" / "r.json",
        {"t": torch.tensor([1.0, 2.0]), "nan": math.nan, "x": 1, "device": torch.device("cpu")},
    )
    assert json.loads(path.read_text()) == {"t": [1.0, 2.0], "nan": None, "x": 1, "device": "cpu"}


def test_check_count_refuses_bools_floats_and_out_of_range_counts():
    from hnlab.checks import check_count

    assert check_count("seeds", 3) == 3 and check_count("val_size", 0, 0) == 0
    for value, low, high, message in [
        (0, 1, None, "seeds must be a positive int, got 0"),
        (True, 1, None, "got True"),
        (2.0, 1, None, "got 2.0"),
        (-1, 0, None, "an int >= 0"),
        (6, 1, 5, "an int between 1 and 5, got 6"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_count("seeds", value, low, high)


def test_check_params_names_every_wrong_parameter():
    check_params(seed=(0, int), beta=(0.1, (int, float)))
    with pytest.raises(TypeError, match=r"seed='1'.*smoke=1"):
        check_params(seed=("1", int), smoke=(1, bool))
    with pytest.raises(TypeError, match="iters=True"):
        check_params(iters=(True, int))


def test_device_and_seed(monkeypatch):
    assert pick_device("cpu").type == "cpu"
    monkeypatch.setenv("HNLAB_DEVICE", "cpu")
    assert pick_device("auto").type == "cpu"
    with pytest.raises(ValueError, match="unknown device"):
        pick_device("tpu")
    with pytest.raises(TypeError):
        pick_device(3)
    with pytest.raises(TypeError):
        seed_everything("0")
    seed_everything(5)
    a = torch.rand(3)
    seed_everything(5)
    assert torch.equal(a, torch.rand(3))


def test_smoke_default_reads_the_environment(monkeypatch):
    monkeypatch.setenv("HNLAB_SMOKE", "1")
    assert smoke_default()
    monkeypatch.setenv("HNLAB_SMOKE", "0")
    assert not smoke_default()


def test_reuse_freed_memory_takes_effect_on_linux_glibc():
    import platform
    import sys

    from hnlab.device import reuse_freed_memory

    expected = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    assert reuse_freed_memory() is expected


def test_relative_data_root_is_made_absolute_for_the_lessons(monkeypatch, tmp_path):
    """`HNLAB_DATA=../shared/data make run`: the lessons run in notebooks/, so the CLI resolves the path first."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HNLAB_DATA", "../shared/data")
    absolute_data_root()
    assert os.environ["HNLAB_DATA"] == str((tmp_path / "../shared/data").resolve())


def test_check_lesson_checks_every_annotated_parameter_in_one_call():
    """A lesson's second cell: ``check_lesson(globals())`` reads the parameters cell's annotations."""
    ns = {"__annotations__": {"seed": int, "lr": float, "name": str}, "seed": 0, "lr": 1, "name": "sgd"}
    check_lesson(ns, choices={"name": ("sgd", "adam")}, positive=("lr",))  # an int passes for a float
    with pytest.raises(TypeError, match=r"seed=True.*lr='x'"):
        check_lesson({**ns, "seed": True, "lr": "x"})
    with pytest.raises(ValueError, match=r"name='rmsprop' \(choose one of 'sgd', 'adam'\); lr=0"):
        check_lesson({**ns, "name": "rmsprop", "lr": 0}, choices={"name": ("sgd", "adam")}, positive=("lr",))
    with pytest.raises(ValueError, match="after the parameters cell"):
        check_lesson({})
