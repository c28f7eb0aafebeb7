"""Task-embedding-space maps: a task's test score over a plane of embeddings (notebooks/04_embedding_maps.ipynb).

von Oswald et al. (Fig. 4) learn SplitMNIST with 2D task embeddings and colour the plane
by each task's test accuracy when the hypernetwork is fed that point instead of the
task's own embedding. ``embedding_map`` computes such a map as one batched tensor
program: the grid points are a batch axis of the hypernetwork (``hnet(task_emb=E)``) and
of the target network (``tnet(x, W [G, P])``), cut into chunks so memory stays bounded.

Embeddings with more than two dimensions are mapped on a 2D slice, an ``EmbeddingPlane``
(for example ``EmbeddingPlane.through(E[0], E[1], E[2])``, the plane through three
learned embeddings).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from .checks import is_int
from .data import Task
from .hnets import HyperNetwork
from .targets import MLP
from .train import batched_scores, head_of


# -- the plane -----------------------------------------------------------------------
@dataclass
class EmbeddingPlane:
    """A 2D slice ``origin + a * u + b * v`` of the embedding space (``u``, ``v`` orthonormal)."""

    origin: torch.Tensor  # [E]
    u: torch.Tensor  # [E]
    v: torch.Tensor  # [E]

    @classmethod
    def identity(cls, emb_dim: int = 2) -> EmbeddingPlane:
        """The plane of the first two embedding coordinates (all of it when ``emb_dim == 2``)."""
        if emb_dim < 2:
            raise ValueError(f"an embedding plane needs emb_dim >= 2, got {emb_dim}")
        eye = torch.eye(emb_dim)
        return cls(torch.zeros(emb_dim), eye[0], eye[1])

    @classmethod
    def through(cls, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> EmbeddingPlane:
        """The plane through three embeddings: ``a`` at (0, 0), ``b`` on the first axis."""
        a, b, c = (t.detach().float().cpu() for t in (a, b, c))
        u = b - a
        if u.norm() < 1e-8:
            raise ValueError("the first two embeddings coincide; they span no plane")
        u = u / u.norm()
        v = (c - a) - ((c - a) @ u) * u
        if v.norm() <= 1e-5 * (c - a).norm():
            raise ValueError("the three embeddings lie on one line; they span no plane")
        return cls(a, u, v / v.norm())

    @property
    def emb_dim(self) -> int:
        return self.origin.numel()

    def embed(self, coords: torch.Tensor) -> torch.Tensor:
        """Plane coordinates ``[N, 2]`` to embeddings ``[N, E]``."""
        basis = torch.stack([self.u, self.v]).to(coords)
        return self.origin.to(coords) + coords @ basis

    def project(self, emb: torch.Tensor) -> torch.Tensor:
        """Embeddings ``[N, E]`` to plane coordinates ``[N, 2]`` (orthogonal projection)."""
        basis = torch.stack([self.u, self.v]).to(emb)
        return (emb - self.origin.to(emb)) @ basis.T

    def distance(self, emb: torch.Tensor) -> torch.Tensor:
        """How far each embedding ``[N, E]`` lies off the plane ``[N]``."""
        return (emb - self.embed(self.project(emb))).norm(dim=-1)


# -- the map -------------------------------------------------------------------------
@dataclass
class EmbeddingMap:
    """A task's test score on a grid: ``values[i, j]`` at plane point ``(xs[j], ys[i])``."""

    task_id: int
    task_name: str
    metric: str  # "accuracy" (percent) or "mse"
    xs: torch.Tensor  # [nx]
    ys: torch.Tensor  # [ny]
    values: torch.Tensor  # [ny, nx]
    seconds: float = 0.0

    @property
    def cell_area(self) -> float:
        """Plane area that one grid point stands for."""
        return _step(self.xs) * _step(self.ys)

    def good_mask(self, level: float) -> torch.Tensor:
        """Grid points where the score is at least as good as ``level`` (>= for accuracy, <= for MSE)."""
        return self.values >= level if self.metric == "accuracy" else self.values <= level

    def good_area(self, level: float) -> float:
        """Area of the plane where the score is at least as good as ``level``."""
        return int(self.good_mask(level).sum()) * self.cell_area

    def good_region(self, own: float, fraction: float = 0.9) -> dict:
        """Where accuracy reaches ``fraction`` of the task's ``own`` accuracy (for MSE: at most
        ``own / fraction``): its area, the grid's area, and whether it reaches the grid's edge
        (then the area is a lower bound; widen the grid)."""
        if not 0 < fraction <= 1:
            raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
        level = own * fraction if self.metric == "accuracy" else own / fraction
        good = self.good_mask(level)
        edge = bool(good[0].any() or good[-1].any() or good[:, 0].any() or good[:, -1].any())
        grid_area = self.values.numel() * self.cell_area  # the area all grid points stand for
        return {"level": level, "area": self.good_area(level), "grid_area": grid_area, "touches_edge": edge}

    def to_dict(self) -> dict:
        return {
            "task_id": self.task_id,
            "task_name": self.task_name,
            "metric": self.metric,
            "xs": self.xs,
            "ys": self.ys,
            "values": self.values,
            "seconds": self.seconds,
        }


def _step(axis: torch.Tensor) -> float:
    return float(axis[1] - axis[0]) if axis.numel() > 1 else 0.0


def grid_axes(x_range, y_range, resolution) -> tuple[torch.Tensor, torch.Tensor]:
    """Evenly spaced axes over ``x_range`` and ``y_range``; ``resolution`` is an int or ``(nx, ny)``."""
    nx, ny = (resolution, resolution) if isinstance(resolution, int) else tuple(resolution)
    for n in (nx, ny):
        if not is_int(n) or n < 2:
            raise ValueError(f"resolution must be an int >= 2 or a pair of them, got {resolution!r}")
    axes = []
    for name, rng, n in (("x_range", x_range, nx), ("y_range", y_range, ny)):
        lo, hi = _check_range(name, rng)
        axes.append(torch.linspace(lo, hi, n))
    return axes[0], axes[1]


def _check_range(name: str, rng) -> tuple[float, float]:
    try:
        lo, hi = (float(r) for r in rng)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {rng!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must satisfy low < high (finite), got {rng!r}")
    return lo, hi


def extent_around(points: torch.Tensor, margin: float = 1.0) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square-ish ``(x_range, y_range)`` that holds plane ``points [N, 2]`` with ``margin`` around them."""
    if margin <= 0:
        raise ValueError(f"margin must be positive, got {margin!r}")
    lo, hi = points.min(0).values - margin, points.max(0).values + margin
    return (float(lo[0]), float(hi[0])), (float(lo[1]), float(hi[1]))


def default_plane(hnet: HyperNetwork) -> EmbeddingPlane:
    """The embedding space itself for 2D embeddings; else the plane through tasks 0, 1, 2's embeddings."""
    if hnet.emb_dim == 2:
        return EmbeddingPlane.identity(2)
    if hnet.emb_dim < 2 or hnet.num_tasks < 3:
        raise ValueError(
            f"cannot choose a plane for {hnet.emb_dim}-D embeddings of {hnet.num_tasks} tasks; "
            "give one with EmbeddingPlane.through(a, b, c)"
        )
    return EmbeddingPlane.through(*hnet.task_embeddings([0, 1, 2]))


@torch.no_grad()
def learned_points(hnet: HyperNetwork, plane: EmbeddingPlane | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Every learned task embedding projected on the plane ``[T, 2]``, and its distance off it ``[T]``."""
    plane = default_plane(hnet) if plane is None else plane
    emb = hnet.task_embeddings(list(range(hnet.num_tasks))).detach().float().cpu()
    return plane.project(emb), plane.distance(emb)


def _check_map_inputs(hnet: HyperNetwork, task_id: int, plane: EmbeddingPlane, chunk_size: int) -> None:
    if not isinstance(task_id, int) or not 0 <= task_id < hnet.num_tasks:
        raise ValueError(f"task_id {task_id!r} out of range: this hypernetwork has {hnet.num_tasks} tasks")
    if plane.emb_dim != hnet.emb_dim:
        raise ValueError(
            f"the plane lives in {plane.emb_dim}-D but the hypernetwork's embeddings are "
            f"{hnet.emb_dim}-D; build it with EmbeddingPlane.identity({hnet.emb_dim}) or .through(...)"
        )
    if not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")


@torch.no_grad()
def scores_at(
    hnet: HyperNetwork,
    tnet: MLP,
    task: Task,
    task_id: int,
    task_emb: torch.Tensor,
    chunk_size: int = 64,
    max_test: int | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Task ``task_id``'s test score ``[N]`` with the networks generated at embeddings ``task_emb [N, E]``.

    Embeddings go through the hypernetwork and the target ``chunk_size`` at a time; the test
    inputs (the first ``max_test`` of them, or all) are shared across that batch axis.
    """
    if max_test is not None and (not is_int(max_test) or max_test < 1):
        raise ValueError(f"max_test must be None (all test data) or a positive int, got {max_test!r}")
    x, y = task.x_test[:max_test], task.y_test[:max_test]
    head, out = head_of(tnet, task_id), []
    chunks = torch.split(task_emb, chunk_size)
    for emb in tqdm(chunks, desc=f"map task {task_id}", disable=not progress, leave=False):
        W = hnet(task_emb=emb.to(x.device))
        out.append(batched_scores(task, tnet(x, W, head=head), y).cpu())
    return torch.cat(out) if out else torch.empty(0)


@torch.no_grad()
def embedding_map(
    hnet: HyperNetwork,
    tnet: MLP,
    task: Task,
    task_id: int,
    x_range=(-3, 3),
    y_range=(-3, 3),
    resolution=25,
    plane: EmbeddingPlane | None = None,
    chunk_size: int = 64,
    max_test: int | None = None,
    progress: bool = True,
) -> EmbeddingMap:
    """Task ``task_id``'s test score over a grid of the embedding plane (see module docstring).

    ``plane`` defaults to the embedding space itself (2D embeddings only); ``max_test`` caps
    the test images per task; ``chunk_size`` grid points share one hypernet and target pass.
    """
    plane = default_plane(hnet) if plane is None else plane
    _check_map_inputs(hnet, task_id, plane, chunk_size)
    xs, ys = grid_axes(x_range, y_range, resolution)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    coords = torch.stack([gx.flatten(), gy.flatten()], dim=1)
    start = time.perf_counter()
    was_training = hnet.training
    hnet.eval()
    values = scores_at(hnet, tnet, task, task_id, plane.embed(coords), chunk_size, max_test, progress)
    hnet.train(was_training)
    return EmbeddingMap(
        task_id, task.name, task.metric, xs, ys, values.reshape(len(ys), len(xs)), time.perf_counter() - start
    )


def all_task_maps(hnet: HyperNetwork, tnet: MLP, tasks: list[Task], **kwargs) -> list[EmbeddingMap]:
    """``embedding_map`` of every task over the same grid and plane (keyword args passed on)."""
    return [embedding_map(hnet, tnet, task, t, **kwargs) for t, task in enumerate(tasks)]


@torch.no_grad()
def cross_scores(hnet: HyperNetwork, tnet: MLP, tasks: list[Task], max_test: int | None = None) -> torch.Tensor:
    """``S[i, j]``: task i's test score with the network generated at task j's learned embedding.

    The diagonal is each task's own score; off the diagonal, how well task i is solved at
    the other tasks' embeddings (transfer shows up as high off-diagonal accuracy).
    """
    emb = hnet.task_embeddings(list(range(len(tasks))))
    return torch.stack([scores_at(hnet, tnet, task, i, emb, max_test=max_test) for i, task in enumerate(tasks)])


def task_summaries(maps: list[EmbeddingMap], cross: torch.Tensor, fraction: float = 0.9) -> list[dict]:
    """Per task: its score at its own embedding, its good region (``EmbeddingMap.good_region``)
    and its score at every other task's embedding (``cross`` from ``cross_scores``)."""
    rows = []
    for m in maps:
        i, own = m.task_id, float(cross[m.task_id, m.task_id])
        others = {str(j): float(cross[i, j]) for j in range(cross.shape[1]) if j != i}
        rows.append({"task": m.task_name, "own": own, **m.good_region(own, fraction), "at_other_embeddings": others})
    return rows
