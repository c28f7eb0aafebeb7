"""Lesson pages that work from disk with no network (what ``hnlab run`` writes next to each run).

nbconvert's default HTML page fetches MathJax, require.js and the widget manager from a CDN,
and plotly's ``notebook`` renderer embeds all of plotly.js (4.8 MB) in every figure. Here:

* **math** is rendered at export: every ``$...$`` / ``$$...$$`` of a markdown cell becomes
  MathML (``latex2mathml``), which browsers draw natively, no script at all;
* **figures** are stored in the notebook as ``application/vnd.plotly.v1+json`` (the
  ``plotly_mimetype`` renderer of ``hnlab.viz.setup_notebook``: JupyterLab draws it, the
  notebook stays kilobytes) and drawn on the page by plotly.js embedded **once**, gzipped
  (1.4 MB instead of 4.8 MB) and unpacked by the browser (``DecompressionStream``);
* **widgets** need a kernel: where one was, the page (and the executed notebook) says
  ``interactive in JupyterLab``; the static figure the lesson draws above it is the record.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
from functools import lru_cache
from pathlib import Path

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "interactive in JupyterLab: open this lesson there and run the cell to use this widget"
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}

#: Code spans are kept as they are (``$HNLAB_DATA`` is not math); then display, then inline math.
_MATH = re.compile(r"(`+)(?:.+?)\1|(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$]+?)(?<![\\\s])\$", re.S)

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{{ resources.hnlab_plotlyjs }}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
<style>math[display="block"] { margin: 0.6em 0; } math { font-size: 1.05em; }
.hnlab-widget-note { color: #555; font-style: italic; }</style>
{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""

_LOADER = """<script type="application/octet-stream" id="hnlab-plotlyjs">{payload}</script>
<script>
/* plotly.js {version}, gzipped and base64-encoded once for the whole page (no network needed) */
window.hnlabPlotly = (async function () {{
  const packed = document.getElementById("hnlab-plotlyjs").textContent.trim();
  const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const script = document.createElement("script");
  script.text = await new Response(stream).text();
  document.head.appendChild(script);
}})();
</script>"""


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """MathML for one LaTeX formula; the formula itself, escaped, if it cannot be converted."""
    from latex2mathml.converter import convert

    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # an unsupported macro: show the source rather than fail the page
        return f"<code>{html.escape(tex)}</code>"


def protect_math(source: str, store: dict[str, str]) -> str:
    """Replace each formula of a markdown ``source`` by a placeholder that markdown leaves alone;
    ``store`` maps placeholders to MathML for ``restore_math``."""

    def swap(match: re.Match) -> str:
        if match.group(1):  # a code span
            return match.group(0)
        display = match.group(2) is not None
        token = f"HNLABMATH{len(store)}X"
        store[token] = latex_to_mathml(match.group(2) if display else match.group(3), display)
        return token

    return _MATH.sub(swap, source)


def restore_math(body: str, store: dict[str, str]) -> str:
    # longest tokens first, so that HNLABMATH1X never matches inside HNLABMATH12X (they end in X anyway)
    for token in sorted(store, key=len, reverse=True):
        body = body.replace(token, store[token])
    return body


@lru_cache(maxsize=1)
def plotlyjs_loader() -> str:
    """The page's one copy of plotly.js (gzip + base64) and the script that unpacks it."""
    import plotly
    from plotly.offline import get_plotlyjs

    packed = base64.b64encode(gzip.compress(get_plotlyjs().encode(), compresslevel=9, mtime=0)).decode()
    return _LOADER.format(payload=packed, version=plotly.__version__)


def figure_html(fig: dict, index: int) -> str:
    """A div and a script that draws ``fig`` (a plotly JSON dict) once plotly.js is unpacked."""
    div = f"hnlab-figure-{index}"
    height = (fig.get("layout") or {}).get("height") or 450
    data = json.dumps(fig.get("data", []), separators=(",", ":")).replace("</", "<\\/")
    layout = json.dumps(fig.get("layout", {}), separators=(",", ":")).replace("</", "<\\/")
    config = json.dumps({**PLOTLY_CONFIG, **(fig.get("config") or {})})
    return (
        f'<div id="{div}" class="hnlab-plotly" style="min-height:{int(height)}px"></div>\n'
        f'<script>window.hnlabPlotly.then(function () {{ Plotly.newPlot("{div}", {data}, {layout}, {config}); }});'
        "</script>"
    )


def widget_note_output(output) -> None:
    """Turn a widget output into the one line saying where it works (in place)."""
    output.data = {
        "text/plain": WIDGET_NOTE,
        "text/html": f'<p class="hnlab-widget-note">{html.escape(WIDGET_NOTE)}</p>',
    }


def is_progress_bar(model_id: str, state: dict) -> bool:
    """A tqdm bar in a notebook is an HBox holding a progress model (and its text)."""
    model = state.get(model_id, {})
    children = model.get("state", {}).get("children", []) if model.get("model_name") == "HBoxModel" else []
    names = {state.get(str(c).replace("IPY_MODEL_", ""), {}).get("model_name") for c in children}
    return bool(names & {"FloatProgressModel", "IntProgressModel"})


def without_widgets(nb):
    """``nb`` with every widget output replaced by ``WIDGET_NOTE`` and no saved widget state
    (a plotly ``FigureWidget``'s state holds all of plotly.js: about 5 MB each). Progress bars
    (tqdm's, which vanish when done in JupyterLab too) are dropped."""
    widgets = nb.metadata.pop("widgets", None) or {}
    state = widgets.get("application/vnd.jupyter.widget-state+json", {}).get("state", {})
    for cell in nb.cells:
        kept = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_MIME)
            if view is not None:
                if is_progress_bar(view.get("model_id", ""), state):
                    continue
                widget_note_output(output)
            kept.append(output)
        if "outputs" in cell:
            cell.outputs = kept
    return nb


def page_title(nb) -> str:
    """The first heading of the notebook (``Lesson 02: ...``), for the browser tab."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "hnlab lesson"


def notebook_to_html(nb) -> str:
    """An offline HTML page of an executed notebook (see the module docstring)."""
    import copy

    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    nb = without_widgets(copy.deepcopy(nb))
    store: dict[str, str] = {}
    figures = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = protect_math(cell.source, store)
        for output in cell.get("outputs", []):
            fig = output.get("data", {}).get(PLOTLY_MIME)
            if fig is not None:
                output.data = {"text/html": figure_html(fig, figures)}
                figures += 1
    exporter = HTMLExporter(
        template_name="lab", extra_loaders=[DictLoader({"hnlab.html.j2": _TEMPLATE})], template_file="hnlab.html.j2"
    )
    resources = {"hnlab_plotlyjs": plotlyjs_loader() if figures else "", "metadata": {"name": page_title(nb)}}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return restore_math(body, store)


def export_html(executed: Path, html_path: Path) -> None:
    """Write the offline page of the executed notebook ``executed`` to ``html_path``."""
    import nbformat

    html_path.write_text(notebook_to_html(nbformat.read(str(executed), as_version=4)), encoding="utf-8")


def slim_executed(executed: Path) -> None:
    """Rewrite an executed notebook without widget state (see ``without_widgets``)."""
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    nbformat.write(without_widgets(nb), str(executed))
