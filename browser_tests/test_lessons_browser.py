"""Every lesson in a real browser: JupyterLab on 127.0.0.1 (a temporary copy of notebooks/,
HNLAB_SMOKE=1), headless Chromium driven by playwright, Run All, then per lesson: no error
output, every plotly figure drawn with data, every widget shown as controls, one control
moved or pressed changes the figure it drives (``driver.INTERACTIONS``). A screenshot of
each lesson goes to ``runs/browser/<lesson>.png`` and the checks to ``runs/browser/report.json``.

Run with ``make test-browser`` (not part of ``pytest tests``: it needs Chromium and takes a
few minutes). ``HNLAB_BROWSER_ONLY=03,05`` runs some lessons; ``HNLAB_BROWSER_LANES`` sets how
many run at once (default 2, one torch thread each).
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from driver import CHROMIUM, INTERACTIONS, default_lanes, run_lessons
from lab import ROOT, jupyterlab

NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "runs" / "browser"
ONLY = [s for s in os.environ.get("HNLAB_BROWSER_ONLY", "").split(",") if s]
LESSONS = [p.name for p in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) if not ONLY or any(o in p.name for o in ONLY)]


@pytest.fixture(scope="module")
def reports():
    """Run every lesson once (``lanes`` at a time) and keep each one's report."""
    lanes = default_lanes()
    env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS") or str(max(1, (os.cpu_count() or 1) // lanes))}
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.png"):
        old.unlink()
    start = time.monotonic()
    with jupyterlab(NOTEBOOKS, env=env) as lab:
        found = asyncio.run(run_lessons(lab, LESSONS, CHROMIUM, OUT, lanes=lanes))
        log = lab.log_tail()
    print(f"\nbrowser test: {len(LESSONS)} lessons in {time.monotonic() - start:.0f} s, {lanes} at a time; "
          f"screenshots in {OUT}")  # fmt: skip
    for stem, r in found.items():
        print(f"  {stem}: {r.figures} figures, {r.widgets} widgets, seconds {r.seconds}; {r.interaction}")
        if r.retried:
            print(f"    drawn empty by Run All, drawn when their cell ran again: {r.retried}")
    return found, log


def test_every_lesson_names_its_control():
    missing = [name for name in LESSONS if Path(name).stem not in INTERACTIONS]
    assert not missing, f"lessons without a control to move in browser_tests/driver.py INTERACTIONS: {missing}"


@pytest.mark.parametrize("notebook", LESSONS, ids=[Path(n).stem for n in LESSONS])
def test_lesson_in_the_browser(reports, notebook):
    found, log = reports
    report = found[Path(notebook).stem]
    problems = "\n".join(f"  {report.lesson}: {p}" for p in report.problems)
    hint = f"\n  page errors: {report.page_errors[:3]}" if report.page_errors else ""
    if any(p.startswith(("open", "browser", "run all")) for p in report.problems):
        hint += f"\n  JupyterLab's log (last lines):\n{log}"
    assert not report.problems, f"{report.lesson} in the browser:\n{problems}{hint}\n  screenshot: {report.screenshot}"
    assert Path(report.screenshot).is_file(), f"{report.lesson}: no screenshot"
