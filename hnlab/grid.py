"""Parameter grids of ``hnlab sweep`` (hnlab/sweep.py) and the table that combines their runs.

A grid axis is ``name=v1,v2,...`` (each value a Python literal, else a string; ``[1],[2]`` is two
lists, ``[1]`` one) or an integer range ``name=A:B`` (``A, A+1, ..., B-1``, Python's slice
convention); an axis with one value is a fixed parameter. A grid file (TOML or YAML) has a
``grid`` table of axes (lists or ``"A:B"`` ranges) and a ``params`` table of fixed values.
``combine``: per cell (the grid less its seed axis) the mean, standard error and seeds of every
number in the runs' results JSON.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import re
from pathlib import Path

RANGE = re.compile(r"^\s*(-?\d+)\s*:\s*(-?\d+)\s*$")
#: Results keys that are settings or records rather than measured numbers.
NOT_METRICS = ("config", "machine", "device", "scenarios", "smoke", "runs")


class GridError(ValueError):
    """A grid that cannot be run; the message names the bad part."""


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text.strip()


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``[1,2],x`` is two parts."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += ch
    return [*parts, current]


def parse_values(name: str, raw: str) -> list:
    """The values of one axis from its text (see the module docstring)."""
    if not raw.strip():
        raise GridError(f"{name}= has no value: write {name}=v1,v2 or {name}=A:B")
    match = RANGE.match(raw)
    if match:
        start, stop = int(match[1]), int(match[2])
        if stop <= start:
            raise GridError(f"{name}={raw} is an empty range: A:B means A, A+1, ..., B-1, so B must exceed A")
        return list(range(start, stop))
    parts = _split_top(raw)
    if any(not p.strip() for p in parts):
        raise GridError(f"{name}={raw} has an empty value between commas")
    return [_literal(p) for p in parts]


def parse_axis(text: str) -> tuple[str, list]:
    """``name=v1,v2`` or ``name=A:B`` to ``(name, values)``."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise GridError(f"a grid axis looks like name=v1,v2 or name=A:B, got {text!r}")
    return name.strip(), parse_values(name.strip(), raw)


def read_grid_file(path: Path) -> dict[str, list]:
    """Axes from a TOML or YAML file with the tables ``grid`` (lists or ``"A:B"``) and ``params``."""
    path = Path(path)
    if not path.is_file():
        raise GridError(f"no grid file at {path}")
    text = path.read_text()
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise GridError(f"{path.name}: a grid file is .toml, .yaml or .yml")
    except GridError:
        raise
    except Exception as err:
        raise GridError(f"{path.name}: {type(err).__name__}: {err}") from None
    unknown = set(data) - {"grid", "params"}
    if unknown or not isinstance(data.get("grid", {}), dict) or not isinstance(data.get("params", {}), dict):
        raise GridError(f"{path.name}: expected only the tables [grid] and [params], got {', '.join(sorted(data))}")
    axes = {}
    for name, values in data.get("grid", {}).items():
        if isinstance(values, str) and RANGE.match(values):
            values = parse_values(name, values)
        if not isinstance(values, list) or not values:
            raise GridError(f"{path.name}: grid.{name} must be a non-empty list of values or a range 'A:B'")
        axes[name] = values
    for name, value in data.get("params", {}).items():
        if name in axes:
            raise GridError(f"{path.name}: {name} is both in [grid] and in [params]")
        axes[name] = [value]
    return axes


def build_grid(specs: list[str] | None = None, grid_file: Path | None = None) -> dict[str, list]:
    """Axes from a grid file and ``-p`` specs (a ``-p`` axis replaces the file's of the same name)."""
    axes = read_grid_file(grid_file) if grid_file else {}
    seen = set()
    for text in specs or []:
        name, values = parse_axis(text)
        if name in seen:
            raise GridError(f"{name} is given twice: put every value in one -p {name}=v1,v2")
        seen.add(name)
        axes[name] = values
    if not axes:
        raise GridError("an empty grid: give at least one -p name=v1,v2 or --grid FILE")
    return axes


def points(axes: dict[str, list]) -> list[dict]:
    """Every combination of the axes' values, the last axis varying fastest; each with its ``id``."""
    varying = [n for n, v in axes.items() if len(v) > 1]
    result, used = [], set()
    for combo in itertools.product(*axes.values()):
        params = dict(zip(axes, combo))
        slug = "_".join(f"{n}-{_slug(params[n])}" for n in varying) or "run"
        slug, k = slug[:120], 1
        while slug in used:
            slug, k = f"{slug[:120]}~{k}", k + 1
        used.add(slug)
        result.append({"id": slug, "params": params})
    return result


def _slug(value) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]", "", json.dumps(value)) or "x"


def numbers(results: dict | None, prefix: str = "") -> dict[str, float]:
    """The measured numbers of a results JSON, nested keys joined by dots (``scenario_acc.cl1``)."""
    out = {}
    for key, value in (results or {}).items():
        if key in NOT_METRICS and not prefix:
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name.count(".") < 2:
            out.update(numbers(value, name + "."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            out[name] = float(value)
    return out


def combine(runs: list[dict], axes: dict[str, list], seed_param: str = "seed") -> list[dict]:
    """Per cell (the grid's varying parameters less ``seed_param``): mean, standard error and seeds of each number."""
    varying = [n for n, v in axes.items() if len(v) > 1 and n != seed_param]
    cells: dict[str, dict] = {}
    for run in runs:
        cell = {n: run["params"][n] for n in varying}
        entry = cells.setdefault(json.dumps(cell), {"cell": cell, "seeds": [], "failed": 0, "values": {}})
        if run["status"] != "ok":
            entry["failed"] += 1
            continue
        entry["seeds"].append(run["params"].get(seed_param))
        for name, value in {**numbers(run.get("results")), "run_seconds": run["seconds"]}.items():
            entry["values"].setdefault(name, []).append(value)
    table = []
    for entry in cells.values():
        stats = {}
        for name, values in entry.pop("values").items():
            n = len(values)
            mean = sum(values) / n
            se = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else None
            stats[name] = {"mean": mean, "se": se, "n": n}
        table.append({**entry, "metrics": stats})
    return table


def markdown(table: list[dict]) -> str:
    """The combined table: a row per cell, ``mean ± standard error`` per number."""
    if not table:
        return "(no runs)"
    params = list(table[0]["cell"])
    names = list(dict.fromkeys(n for row in table for n in row["metrics"]))
    lines = [
        "| " + " | ".join([*params, "seeds", "failed", *names]) + " |",
        "|" + "---|" * (len(params) + 2 + len(names)),
    ]
    for row in table:
        cells = [json.dumps(row["cell"][p]) if not isinstance(row["cell"][p], str) else row["cell"][p] for p in params]
        cells += [", ".join(map(str, row["seeds"])) or "-", str(row["failed"])]
        for name in names:
            s = row["metrics"].get(name)
            cells.append("-" if s is None else f"{s['mean']:.4g}" + ("" if s["se"] is None else f" ± {s['se']:.2g}"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
