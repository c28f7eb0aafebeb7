"""Drive the lessons in headless Chromium: open each in JupyterLab, Run All, look at what a
student sees, move one control per lesson, save a screenshot.

``run_lessons`` returns one report per lesson (``problems``: every failed check as
``"<check>: <detail>"``, plus timings and what was found); the pytest file turns each report
into a test. Lessons run ``lanes`` at a time, each in its own tab and kernel.

What is looked at comes from the notebook model (``window.jupyterapp``, exposed by the test's
JupyterLab) and from the page's DOM:

- errors: any ``error`` output in the model, or a widget that failed to display;
- figures: every plotly output of the model is a ``.js-plotly-plot`` with data traces drawn in
  its SVG (not an empty div), and so is every ``FigureWidget``;
- widgets: every widget output shows controls (sliders, buttons, dropdowns), not the widget's
  text repr (``VBox(children=...)``, what JupyterLab shows without the widget manager);
- the control: :data:`INTERACTIONS` names, per lesson, the widget cell, the control a student
  moves or presses, and the figure that must change (plot data before and after compared).

A ``FigureWidget`` displayed while later cells keep the kernel busy is now and then drawn empty
by plotly 7.1's widget (anywidget 0.11) during Run All; its cell is then run again, as a student
would, and checked again; the report keeps what happened (``retried``).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

#: Debian's chromium package (`apt-get install -y chromium`); HNLAB_CHROMIUM names another binary.
CHROMIUM = os.environ.get("HNLAB_CHROMIUM", "/usr/bin/chromium")
OPEN_TIMEOUT = 180  # seconds for JupyterLab's page and the lesson's kernel (slow on a busy 2-core machine)
#: Chromium's switches: headless, as root, no network of its own, a throwaway profile (playwright's).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Step:
    """One student action on a widget: ``kind`` is "slider" (arrow keys on its handle),
    "button" (a click) or "select" (a dropdown's option by index); ``label`` is the control's
    description (a slider's or dropdown's label, a button's text). With ``expect`` the figure
    in the widget's output must change (and have data) after the step."""

    kind: str
    label: str
    arg: str | int = ""  # slider: the key ("ArrowRight"); select: the option's index
    expect: bool = True


@dataclass(frozen=True)
class Interaction:
    cell: str  # a line of the widget cell's source that identifies it
    steps: tuple[Step, ...]
    what: str  # for the report: what the student does and sees


#: One control per lesson and the figure it drives.
INTERACTIONS = {
    "01_toy1d": Interaction(
        "seed_picker_widget(runs)",
        (Step("slider", "seed", "ArrowRight"), Step("slider", "seed", "ArrowRight")),
        "seed slider: two moves draw two different seeds' predictions",
    ),
    "02_init_variance": Interaction(
        "init_variance_widget(x_play",
        (Step("button", "draw"), Step("slider", "depth", "ArrowRight")),
        "'draw' draws the histograms, then the depth slider (5 -> 6) redraws them",
    ),
    "03_benchmarks": Interaction(
        "matrix_explorer(by_scenario)",
        (Step("select", "method", 1),),
        "method dropdown: the second method's accuracy matrix replaces the first's",
    ),
    "04_embedding_maps": Interaction(
        "embedding_map_widget(toy_explorer",
        (Step("slider", "probe x", "ArrowRight"),),
        "toy map's 'probe x' slider moves the probe and redraws the probe's predictions",
    ),
    "05_lstm_hypernetworks": Interaction(
        "retrain_widget(data, scenario",
        (Step("button", "train"), Step("slider", "tasks", "ArrowLeft", expect=False), Step("button", "train")),
        "'train' draws a 3-task accuracy matrix; tasks slider to 2 and 'train' again redraws it",
    ),
    "06_hypermask": Interaction(
        "retrain_widget(data, first",
        (Step("slider", "p (%)", "ArrowRight", expect=False), Step("button", "retrain")),
        "p slider (30 -> 35 %) and 'retrain': the accuracy and kept-weights bars change",
    ),
    "07_replay": Interaction(
        "latent_explorer(protected",
        (Step("slider", "z1", "ArrowRight"),),
        "latent slider z1 (0 -> 0.25): the decoded image changes",
    ),
    "08_conv_targets": Interaction(
        "statistics_explorer(runs",
        (Step("select", "against", 1),),
        "'against' dropdown (task 1 -> task 2): the batch-norm statistics bars change",
    ),
    "09_partial_hypernetworks": Interaction(
        "retrain_widget({s: streams",
        (Step("slider", "freeze depth k", "ArrowRight", expect=False), Step("button", "retrain")),
        "freeze depth slider (2 -> 3) and 'retrain': the first-experience figure is redrawn",
    ),
}

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
EMPTY_WIDGET = "a FigureWidget without data traces"
WIDGET_REPR = re.compile(r"\b(VBox|HBox|Box|FigureWidget|Output|IntSlider|Button)\(")
WIDGET_FAILED = ("Error displaying widget", "Loading widget...", "Javascript Error")

# --- JavaScript run in the page; `name` is the notebook's path in JupyterLab -------------------
#: What a drawn trace leaves in a plot's SVG (scatter and bars, heatmaps, tables, images).
_DRAWN = "const DRAWN = '.main-svg g.trace, .main-svg g.hm, .main-svg g.table, .main-svg .imagelayer image';"
_PANEL = (
    "const nb = Array.from(window.jupyterapp.shell.widgets('main')).find(w => w.context && w.context.path === name);"
)

JS_READY = f"""(name) => {{ if (!window.jupyterapp) return false; {_PANEL}
  if (!nb || !nb.context.isReady) return false;
  const k = nb.sessionContext.session && nb.sessionContext.session.kernel;
  return !!k && k.status === 'idle'; }}"""

JS_RUN_ALL = f"""async (name) => {{ {_PANEL}
  window.jupyterapp.shell.activateById(nb.id);
  await window.jupyterapp.commands.execute('notebook:run-all-cells'); }}"""

# Done: the kernel idle and every non-empty code cell executed, or an error stopped the run.
JS_DONE = f"""(name) => {{ {_PANEL}
  const k = nb.sessionContext.session && nb.sessionContext.session.kernel;
  if (!k || k.status !== 'idle') return false;
  const cells = nb.content.model.cells; let pending = 0, errors = 0;
  for (let i = 0; i < cells.length; i++) {{
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    if (c.executionCount == null && c.sharedModel.getSource().trim()) pending++;
    for (const o of c.outputs.toJSON()) if (o.output_type === 'error') errors++;
  }}
  return pending === 0 || errors > 0; }}"""

JS_CELLS = f"""(name) => {{ {_PANEL} {_DRAWN}
  const cells = nb.content.model.cells; const out = [];
  for (let i = 0; i < cells.length; i++) {{
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    const node = nb.content.widgets[i].outputArea.node;
    node.setAttribute('data-hnlab-cell', String(i));
    const plots = Array.from(node.querySelectorAll('.js-plotly-plot')).map(e => ({{
      traces: (e.data || []).length,
      drawn: e.querySelectorAll(DRAWN).length,
      height: e.clientHeight,
      widget: !!e.closest('.widget-output, .jupyter-widgets'),
    }}));
    out.push({{
      index: i,
      source: c.sharedModel.getSource(),
      count: c.executionCount,
      outputs: c.outputs.toJSON().map(o => ({{type: o.output_type, mimes: Object.keys(o.data || {{}}),
                                               ename: o.ename, evalue: o.evalue}})),
      plots,
      rendered: node.querySelectorAll('.jupyter-widgets').length,
      controls: node.querySelectorAll('.jupyter-widgets .noUi-handle, .jupyter-widgets button, '
                                      + '.jupyter-widgets select, .jupyter-widgets input').length,
      text: node.innerText.slice(0, 2000),
    }});
  }}
  return out; }}"""

# The data of every plot in one cell's output, as a string to compare before and after a step.
JS_SIGNATURE = f"""(index) => {{ {_DRAWN}
  const node = document.querySelector(`[data-hnlab-cell="${{index}}"]`);
  const plots = Array.from(node.querySelectorAll('.js-plotly-plot'));
  const traces = plots.map(e => (e.data || []).map(t => [t.type, t.x, t.y, t.z, t.text]));
  return {{traces: plots.reduce((n, e) => n + (e.data || []).length, 0),
           drawn: plots.reduce((n, e) => n + e.querySelectorAll(DRAWN).length, 0),
           data: JSON.stringify(traces)}}; }}"""

JS_RUN_CELL = f"""async ([name, index]) => {{ {_PANEL}
  window.jupyterapp.shell.activateById(nb.id);
  nb.content.activeCellIndex = index;
  await window.jupyterapp.commands.execute('notebook:run-cell'); }}"""

JS_HEIGHT = f"""(name) => {{ {_PANEL}
  window.jupyterapp.shell.collapseLeft(); window.jupyterapp.shell.collapseRight();
  const outer = nb.content.node.querySelector('.jp-WindowedPanel-outer') || nb.content.node;
  outer.scrollTop = 0;
  return outer.scrollHeight + nb.node.getBoundingClientRect().top + 60; }}"""


@dataclass
class Report:
    lesson: str
    problems: list[str] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    figures: int = 0
    widgets: int = 0
    interaction: str = ""
    screenshot: str = ""
    page_errors: list[str] = field(default_factory=list)
    retried: str = ""  # the FigureWidgets drawn empty by Run All, drawn by running their cell again

    def fail(self, check: str, detail: str) -> None:
        self.problems.append(f"{check}: {detail}")


def _cell_name(cell: dict) -> str:
    first = next((line for line in cell["source"].splitlines() if line.strip()), "")
    return f"cell {cell['index']} ({first[:60]})"


def check_cells(report: Report, cells: list[dict]) -> None:
    """Errors, figures and widgets of an executed lesson (``JS_CELLS``'s answer)."""
    for cell in cells:
        where = _cell_name(cell)
        for o in cell["outputs"]:
            if o["type"] == "error":
                report.fail("error output", f"{where}: {o['ename']}: {o['evalue']}"[:400])
        if cell["source"].strip() and cell["count"] is None:
            report.fail("not run", f"{where} has no execution count")
        for bad in WIDGET_FAILED:
            if bad in cell["text"]:
                report.fail("widget failed", f"{where} shows {bad!r}")
        plotly = sum("application/vnd.plotly.v1+json" in o["mimes"] for o in cell["outputs"])
        widgets = sum(WIDGET_MIME in o["mimes"] for o in cell["outputs"])
        report.figures += plotly
        report.widgets += widgets
        static = [p for p in cell["plots"] if not p["widget"]]
        drawn = [p for p in static if p["traces"] > 0 and p["drawn"] > 0 and p["height"] > 50]
        if len(drawn) < plotly:
            report.fail(
                "figure not drawn", f"{where}: {plotly} plotly output(s), {len(drawn)} drawn with data {static}"
            )
        if widgets:
            # a cell's value that is a widget must show controls; a widget it displays on the way
            # (tqdm's progress bars) may have been closed since, and then shows nothing
            shown = any(o["type"] == "execute_result" and WIDGET_MIME in o["mimes"] for o in cell["outputs"])
            if shown and cell["controls"] == 0:
                report.fail("widget not rendered", f"{where}: no slider, button or dropdown in its output")
            if WIDGET_REPR.search(cell["text"]):
                report.fail("widget not rendered", f"{where} shows the widget's text repr: {cell['text'][:120]!r}")
            for p in cell["plots"]:
                if p["widget"] and (p["traces"] == 0 or p["drawn"] == 0):
                    report.fail("figure not drawn", f"{where}: {EMPTY_WIDGET} {p}")
    if report.figures == 0:
        report.fail("figure not drawn", "no plotly figure in the whole lesson")


async def _control(page, index: int, step: Step):
    cell = page.locator(f'[data-hnlab-cell="{index}"]')
    if step.kind == "slider":
        return cell.locator(f'.widget-slider:has(label.widget-label:text-is("{step.label}")) .noUi-handle').first
    if step.kind == "button":
        return cell.locator(f'button.widget-button:text-is("{step.label}")').first
    if step.kind == "select":
        return cell.locator(f'.widget-dropdown:has(label.widget-label:text-is("{step.label}")) select').first
    raise ValueError(f"unknown step kind {step.kind!r}")


async def interact(page, report: Report, index: int, interaction: Interaction, timeout: float) -> None:
    """Do the lesson's steps on the widget in cell ``index``; after each ``expect`` step the
    figure in that widget's output must differ from before and have data traces drawn."""
    before = await page.evaluate(JS_SIGNATURE, index)
    for n, step in enumerate(interaction.steps, 1):
        what = f"step {n} ({step.kind} {step.label!r})"
        control = await _control(page, index, step)
        try:
            await control.wait_for(state="visible", timeout=10_000)
        except Exception:
            report.fail("interaction", f"{what}: no such control in cell {index}")
            return
        await control.scroll_into_view_if_needed()
        if step.kind == "slider":
            await control.focus()
            await control.press(str(step.arg))
        elif step.kind == "button":
            await control.click()
        else:
            await control.select_option(index=int(step.arg))
        if not step.expect:
            await page.wait_for_timeout(300)  # let the widget send its new value to the kernel
            continue
        deadline = time.monotonic() + timeout
        while True:
            now = await page.evaluate(JS_SIGNATURE, index)
            if now["data"] != before["data"] and now["traces"] > 0 and now["drawn"] > 0:
                break
            if time.monotonic() > deadline:
                same = "unchanged" if now["data"] == before["data"] else f"changed but {now['traces']} traces"
                report.fail("interaction", f"{what}: the figure it drives is {same} after {timeout:.0f} s")
                return
            await page.wait_for_timeout(250)
        before = now


async def screenshot(page, name: str, path: Path) -> None:
    """The whole notebook in one image: the viewport made as tall as the notebook."""
    height = await page.evaluate(JS_HEIGHT, name)
    await page.set_viewport_size({"width": 1280, "height": int(min(max(height, 900), 16000))})
    await page.wait_for_timeout(1500)  # plotly redraws at the new size
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path))


async def run_lesson(browser, lab, notebook: str, out_dir: Path, run_timeout: float, step_timeout: float) -> Report:
    """One lesson's checks (a :class:`Report`), in its own browser context."""
    stem = Path(notebook).stem
    report = Report(stem)
    start = time.monotonic()
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda err: report.page_errors.append(str(err)[:300]))
    try:
        await page.goto(lab.lesson_url(notebook, workspace=stem), timeout=60_000)
        try:
            await page.wait_for_function(JS_READY, arg=notebook, timeout=OPEN_TIMEOUT * 1000, polling=500)
        except Exception:
            report.fail("open", f"the notebook or its kernel was not ready within {OPEN_TIMEOUT} s")
            return report
        report.seconds["open"] = round(time.monotonic() - start, 1)
        await page.evaluate(JS_RUN_ALL, notebook)
        try:
            await page.wait_for_function(JS_DONE, arg=notebook, timeout=run_timeout * 1000, polling=1000)
        except Exception:
            report.fail("run all", f"not finished within {run_timeout:.0f} s")
        report.seconds["run"] = round(time.monotonic() - start - report.seconds["open"], 1)
        await page.wait_for_timeout(1000)  # the last outputs render
        cells = await page.evaluate(JS_CELLS, notebook)
        check_cells(report, cells)
        empty = sorted({int(re.search(r"cell (\d+)", p)[1]) for p in report.problems if EMPTY_WIDGET in p})
        if empty:  # what a student does: run the cell again, now that the kernel is idle
            report.retried = "; ".join(p for p in report.problems if EMPTY_WIDGET in p)[:600]
            for index in empty:
                await page.evaluate(JS_RUN_CELL, [notebook, index])
            await page.wait_for_timeout(2000)
            cells = await page.evaluate(JS_CELLS, notebook)
            report.problems, report.figures, report.widgets = [], 0, 0
            check_cells(report, cells)
        interaction = INTERACTIONS.get(stem)
        if interaction is None:
            report.fail("interaction", f"no entry for {stem} in browser_tests/driver.py INTERACTIONS")
        else:
            report.interaction = interaction.what
            target = [c for c in cells if interaction.cell in c["source"]]
            if not target:
                report.fail("interaction", f"no cell whose source contains {interaction.cell!r}")
            elif target[0]["controls"] == 0:
                report.fail("widget not rendered", f"{_cell_name(target[0])} shows no slider, button or dropdown")
            else:
                t = time.monotonic()
                await interact(page, report, target[0]["index"], interaction, step_timeout)
                report.seconds["interaction"] = round(time.monotonic() - t, 1)
        shot = out_dir / f"{stem}.png"
        await screenshot(page, notebook, shot)
        report.screenshot = str(shot)
    except Exception as err:  # a browser or page failure: name it in the lesson's report
        report.fail("browser", f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:400])
    finally:
        report.seconds["total"] = round(time.monotonic() - start, 1)
        await context.close()
    return report


async def run_lessons(lab, notebooks: list[str], chromium: str, out_dir: Path, lanes: int = 2,
                      run_timeout: float = 300, step_timeout: float = 120) -> dict[str, Report]:  # fmt: skip
    """Every lesson in headless Chromium, ``lanes`` at a time; a report per lesson, by stem."""
    from playwright.async_api import async_playwright

    queue: asyncio.Queue[str] = asyncio.Queue()
    for notebook in notebooks:
        queue.put_nowait(notebook)
    reports: dict[str, Report] = {}
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:

            async def lane():
                while not queue.empty():
                    notebook = queue.get_nowait()
                    reports[Path(notebook).stem] = await run_lesson(
                        browser, lab, notebook, out_dir, run_timeout, step_timeout
                    )

            await asyncio.gather(*(lane() for _ in range(max(1, lanes))))
        finally:
            await browser.close()
    (out_dir / "report.json").write_text(json.dumps({k: vars(r) for k, r in sorted(reports.items())}, indent=1))
    return reports


def default_lanes() -> int:
    return int(os.environ.get("HNLAB_BROWSER_LANES", "2"))
