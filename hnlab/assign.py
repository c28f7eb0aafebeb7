"""``hnlab assign``: the student versions of the course assignments, built with nbgrader.

The course is the nbgrader course directory ``assignments/`` of the project (its
``nbgrader_config.py`` and ``source/<assignment>/*.ipynb``, one assignment per lesson of
``notebooks/``). ``generate`` runs nbgrader's ``generate_assignment`` for each assignment: the
solutions between ``### BEGIN SOLUTION`` / ``### END SOLUTION`` become stubs, hidden tests go,
and the student version lands in ``assignments/release/<assignment>/`` (generated, git-ignored).
Releasing, collecting and autograding are nbgrader's own commands (assignments/README.md).
"""

from __future__ import annotations

import argparse
import os
import re
import sysconfig
from pathlib import Path

CONFIG = "nbgrader_config.py"
INSTALL_HINT = "install it with `pip install -e .[assign]` or `make install` (nbgrader==0.9.6, requirements.txt)"


def find_course(start: Path | None = None) -> Path:
    """The ``assignments/`` course folder of the project holding ``start`` (default: the current
    folder): ``start`` itself when it holds ``nbgrader_config.py`` and ``source/``, else the nearest
    ``assignments/`` at or above it."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        for course in (folder, folder / "assignments"):
            if (course / CONFIG).is_file() and (course / "source").is_dir():
                return course
    raise SystemExit(
        f"hnlab assign: no course here: neither {start} nor a folder above it has assignments/{CONFIG} "
        "and assignments/source/; run from an hnlab project or pass --course DIR"
    )


def source_assignments(course: Path) -> list[str]:
    """Names of the assignments in ``course/source`` (folders holding a notebook), sorted."""
    return sorted(p.name for p in (course / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def pick_assignments(course: Path, names: list[str] | None) -> list[str]:
    """``names`` (all assignments when empty), each checked against ``source/``; a name may be
    the assignment's number (``01``)."""
    known = source_assignments(course)
    if not names:
        return known
    picked = []
    for name in names:
        matches = [a for a in known if a == name or a.split("_")[0] == name]
        if len(matches) != 1:
            raise SystemExit(f"hnlab assign: unknown assignment {name!r}; the course has {', '.join(known)}")
        picked.append(matches[0])
    return picked


def nbgrader_api(course: Path, **config):
    """nbgrader's Python API on ``course`` with its ``nbgrader_config.py`` (``config``: more
    settings as ``{"Section.name": value}``, for tests). SystemExit when nbgrader is missing."""
    try:
        from nbgrader.apps import NbGraderAPI
        from traitlets.config import Config, PyFileConfigLoader
    except ImportError:
        raise SystemExit(f"hnlab assign: nbgrader is not installed; {INSTALL_HINT}") from None
    scripts_on_path()
    settings = PyFileConfigLoader(CONFIG, path=str(course)).load_config()
    overrides = Config()
    overrides.CourseDirectory.root = str(course)
    for key, value in config.items():
        section, name = key.split(".")
        overrides[section][name] = value
    settings.merge(overrides)
    return NbGraderAPI(config=settings)


def scripts_on_path() -> None:
    """Put this Python's scripts folder on ``PATH``: nbgrader runs the ``alembic`` command to create
    a gradebook, which fails when ``.venv/bin/hnlab`` runs without the venv activated."""
    scripts = sysconfig.get_path("scripts")
    if scripts not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, os.environ.get("PATH", "")])


def failure(result: dict) -> str:
    """The line that says why an nbgrader call failed: the last exception in its log or traceback."""
    text = f"{result.get('log') or ''}\n{result.get('error') or ''}"
    errors = re.findall(r"^\s*([\w.]*(?:Error|Exception): .*)$", text, flags=re.MULTILINE)
    useful = [e for e in errors if "NbGraderException" not in e]
    return (useful or errors or ["no error message"])[-1].strip()


def generate(course: Path, names: list[str] | None = None) -> list[str]:
    """``nbgrader generate_assignment`` for each of ``names`` (default: every assignment) into
    ``course/release/``; returns the assignments built. SystemExit naming the first that fails."""
    picked = pick_assignments(course, names)
    api = nbgrader_api(course)
    for name in picked:
        result = api.generate_assignment(name)
        if not result["success"]:
            raise SystemExit(f"hnlab assign: nbgrader could not generate {name}: {failure(result)}")
        print(f"{name}: student version in {course / 'release' / name}")
    return picked


def assert_close(actual, expected, message: str, rtol: float = 1.3e-6, atol: float = 1e-5) -> None:
    """What the assignments' test cells check a student's answer with: ``actual`` against hnlab's
    ``expected`` (tensors or numbers of one shape), ``|a - e| <= atol + rtol |e|`` everywhere, else an
    ``AssertionError`` that starts with ``message`` (it names the exercise, for nbgrader's feedback).

    ``torch.testing.assert_close`` would do, but its first call imports ``torch.distributed``:
    2-3 s in every graded notebook."""
    import torch

    if actual is None:
        raise AssertionError(f"{message}: got None")
    a, e = torch.as_tensor(actual).detach().double(), torch.as_tensor(expected).detach().double()
    if a.shape != e.shape:
        raise AssertionError(f"{message}: shape {tuple(a.shape)}, expected {tuple(e.shape)}")
    bad = ~((a - e).abs() <= atol + rtol * e.abs())  # NaN counts as a difference
    if bad.any():
        worst = (a - e).abs().nan_to_num(float("inf")).max().item()
        raise AssertionError(f"{message}: {int(bad.sum())} of {bad.numel()} values differ, the largest by {worst:.3g}")


def add_parser(sub) -> None:
    """The ``assign`` subcommand of ``hnlab`` (``hnlab.cli``)."""
    a = sub.add_parser("assign", help="build the student versions of the course assignments with nbgrader")
    a.add_argument("assignments", nargs="*", help="assignment names or numbers (default: all of assignments/source)")
    a.add_argument("--course", help="the nbgrader course folder (default: assignments/ of the project you stand in)")


def main(args: argparse.Namespace) -> int:
    course = find_course(Path(args.course)) if args.course else find_course()
    generate(course, args.assignments)
    return 0
