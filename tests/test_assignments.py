"""The nbgrader course in assignments/ graded by real nbgrader, with its own gradebook in a copy of
the course in a temporary folder (nothing is written into the repository).

- every source notebook, solutions in, autogrades to full marks;
- every student version (``hnlab assign``) has no solution code or hidden test left, runs top to
  bottom (only its graded test cells fail, on the stubs' NotImplementedError) and scores zero;
- a submission with one wrong answer loses exactly that exercise's points, and its feedback says so.
"""

from __future__ import annotations

import html
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

pytest.importorskip("nbgrader")

from hnlab.assign import (  # noqa: E402
    assert_close,
    find_course,
    generate,
    nbgrader_api,
    pick_assignments,
    source_assignments,
)

COURSE = Path(__file__).resolve().parent.parent / "assignments"
ASSIGNMENTS = source_assignments(COURSE)
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.DOTALL)

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with the student versions generated and a gradebook of its own."""
    root = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", root)
    shutil.copytree(COURSE / "source", root / "source", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    assert generate(root) == ASSIGNMENTS
    return root


def api(course: Path):
    return nbgrader_api(course, **{"Exchange.root": str(course / "exchange")})


def notebook_path(folder: Path, assignment: str) -> Path:
    (path,) = (folder / assignment).glob("*.ipynb")
    return path


def submit(course: Path, student: str, assignment: str, nb) -> None:
    """Put ``nb`` where ``nbgrader collect`` would: submitted/<student>/<assignment>/."""
    target = course / "submitted" / student / assignment / notebook_path(course / "source", assignment).name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(target))


def autograde(course: Path, student: str, assignment: str) -> dict:
    """Autograde one submission; ``{grade_id: (score, max_score)}`` from the gradebook."""
    from nbgrader.api import Gradebook

    grader = api(course)
    result = grader.autograde(assignment, student)
    assert result["success"], result.get("error") or result.get("log")
    name = notebook_path(course / "source", assignment).stem
    with Gradebook(grader.coursedir.db_url, grader.coursedir.course_id) as gb:
        notebook = gb.find_submission_notebook(name, assignment, student)
        return {grade.name: (grade.score, grade.max_score) for grade in notebook.grades}


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_the_course_is_found_and_names_are_checked():
    assert find_course(COURSE / "source") == COURSE
    assert ASSIGNMENTS[:4] == ["01_toy1d", "02_init_variance", "03_benchmarks", "04_embedding_maps"]
    assert pick_assignments(COURSE, ["02"]) == ["02_init_variance"]
    with pytest.raises(SystemExit, match="unknown assignment '99'.*01_toy1d"):
        pick_assignments(COURSE, ["99"])


def test_clear_errors_without_nbgrader_or_a_course(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="no course here"):
        find_course(tmp_path)
    monkeypatch.setitem(sys.modules, "nbgrader.apps", None)  # as if nbgrader were not installed
    with pytest.raises(SystemExit, match=r"nbgrader is not installed; install it with `pip install -e \.\[assign\]`"):
        nbgrader_api(COURSE)


def test_assert_close_names_the_exercise():
    import torch

    assert_close(torch.ones(3), torch.ones(3) + 1e-7, "Exercise 1")
    with pytest.raises(AssertionError, match=r"^Exercise 2: 1 of 3 values differ, the largest by 0\.5"):
        assert_close(torch.tensor([1.0, 2.0, 3.5]), torch.tensor([1.0, 2.0, 3.0]), "Exercise 2")
    with pytest.raises(AssertionError, match="Exercise 3: shape"):
        assert_close(torch.ones(2), torch.ones(3), "Exercise 3")
    with pytest.raises(AssertionError, match="Exercise 4: got None"):
        assert_close(None, torch.ones(3), "Exercise 4")
    with pytest.raises(AssertionError, match="Exercise 5"):
        assert_close(torch.tensor([float("nan")]), torch.tensor([0.0]), "Exercise 5")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_has_points_and_no_outputs(assignment):
    nb = read(notebook_path(COURSE / "source", assignment))
    tests = [c for c in nb.cells if nbgrader_meta(c).get("grade")]
    assert 2 <= len(tests) <= 4, "2 to 4 exercises, one graded test cell each"
    assert all(nbgrader_meta(c).get("points", 0) > 0 for c in tests)
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests), "every test cell has hidden tests"
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), "store notebooks without outputs"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_get_full_marks(course, assignment):
    submit(course, "solutions", assignment, read(notebook_path(course / "source", assignment)))
    grades = autograde(course, "solutions", assignment)
    assert grades and all(score == best for score, best in grades.values()), grades


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_version_is_clean_runs_and_scores_zero(course, assignment):
    source = read(notebook_path(course / "source", assignment))
    student = read(notebook_path(course / "release", assignment))
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    answers = {nbgrader_meta(c)["grade_id"]: c.source for c in student.cells if nbgrader_meta(c).get("solution")}
    for cell in (c for c in source.cells if nbgrader_meta(c).get("solution")):
        solution = {line.strip() for s in SOLUTION.findall(cell.source) for line in s.splitlines()} - {""}
        left = [line for line in answers[nbgrader_meta(cell)["grade_id"]].splitlines() if line.strip() in solution]
        assert not left, f"solution code left in the student version: {left}"
    submit(course, "student", assignment, student)
    grades = autograde(course, "student", assignment)
    assert grades and all(score == 0 for score, _ in grades.values()), grades
    # Runs top to bottom: every cell ran, and only the graded test cells (hidden tests restored) failed,
    # each on its stub's NotImplementedError: nbgrader executes every cell whatever fails before it.
    graded = read(notebook_path(course / "autograded" / "student", assignment))
    for cell in (c for c in graded.cells if c.cell_type == "code"):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert cell.execution_count is not None, f"cell {nbgrader_meta(cell).get('grade_id')} did not run"
        if nbgrader_meta(cell).get("grade"):
            assert [e.ename for e in errors] == ["NotImplementedError"], nbgrader_meta(cell)["grade_id"]
            assert "### BEGIN HIDDEN TESTS" in cell.source, "autograding restores the hidden tests"
        else:
            assert not errors, f"{nbgrader_meta(cell).get('grade_id')} failed: {errors}"


def test_one_wrong_answer_loses_that_exercise_only(course):
    """The output regularizer summed over old tasks instead of averaged: exercise 1 of 01 fails."""
    assignment = "01_toy1d"
    nb = read(notebook_path(course / "source", assignment))
    (cell,) = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") == "ex1_regularizer"]
    assert ".sum(dim=1).mean()" in cell.source
    cell.source = cell.source.replace(".sum(dim=1).mean()", ".sum()")
    submit(course, "wrong", assignment, nb)
    grades = autograde(course, "wrong", assignment)
    assert grades["ex1_test"] == (0, 3)
    assert all(score == best for name, (score, best) in grades.items() if name != "ex1_test"), grades
    result = api(course).generate_feedback(assignment, "wrong")
    assert result["success"], result.get("error")
    (page,) = (course / "feedback" / "wrong" / assignment).glob("*.html")
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "Exercise 1: the regularizer's value differs from hnlab's (3 old tasks" in text
    assert re.search(r"Score:\s*5\.0\s*/\s*8\.0", text), "the feedback shows the total"
